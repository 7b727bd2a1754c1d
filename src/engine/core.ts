import { DEFAULT_RETRY_BACKOFF, type BackoffPolicy } from './backoff';
import type { StepDefinition, WorkflowDefinition } from './definition';
import { ConflictError, TransientStoreError } from './errors';
import { logNote, type Note } from './audit-log';
import {
  systemClock,
  type Clock,
  type Directory,
  type EngineEvent,
  type EventListener,
  type Logger,
  type RunStore,
} from './ports';
import {
  heldLocks,
  instanceLockGivenUp,
  isTerminal,
  type AuditEvent,
  type Run,
  type RunStatus,
  type StepState,
} from './run';
import type { StepRegistry } from './step';
import type { TemplateScope } from './template';

export interface EngineOptions {
  store: RunStore;
  registry: StepRegistry;
  definitions: ReadonlyMap<string, WorkflowDefinition>;
  directory: Directory;
  /** This process's runner id (lease owner). */
  owner: string;
  clock?: Clock;
  /** How long a claimed step stays ours without renewal. */
  leaseMs?: number;
  retry?: BackoffPolicy;
  maxAttempts?: number;
  /** Consecutive failed polls before a poll step fails. */
  maxPollErrors?: number;
  random?: () => number;
  logger?: Logger;
  /** How many runs one tick advances at the same time. */
  concurrency?: number;
  /** The longest the loop sleeps without looking at the table (other replicas' new work); default 120 s. */
  idlePollMs?: number;
  /**
   * This process's elapsed-time clock (default: performance.now, or the injected clock's now).
   * Lease takeover is decided on it alone: no two hosts' clocks are ever compared.
   */
  monotonic?: () => number;
  /** How long one try of an action step may take (default 15 min; a kind's timeoutMs wins). */
  stepTimeoutMs?: number;
  /** Failures of the engine itself on one run (unreadable item, a write that keeps failing) before it is failed (default 5). */
  maxEngineFailures?: number;
}

/** An audit note a mutation returns; `emit` also tells the adapters. */
export type { Note } from './audit-log';
/** A mutation of a run copy: returns audit notes, or null when there is nothing to do. */
export type Mutator = (run: Run) => Note[] | null;

/** How a step failure is treated. */
export interface Failure {
  message: string;
  code: string;
  retryable: boolean;
  retryAfterMs?: number;
  audit?: Record<string, unknown>;
}

/** What every part of the engine shares: its ports, its settings and the versioned write. */
export interface EngineCore {
  readonly store: RunStore;
  readonly registry: StepRegistry;
  readonly directory: Directory;
  readonly owner: string;
  readonly clock: Clock;
  readonly leaseMs: number;
  readonly retryPolicy: BackoffPolicy;
  readonly random: () => number;
  readonly opts: EngineOptions;
  readonly listeners: EventListener[];
  /** Tells the listeners (after the change is stored). */
  emit(event: EngineEvent): void;
  /** Applies `mutate` to the latest copy of the run and writes it conditionally; re-reads and re-applies on a lost race. */
  commit(start: Run | string, mutate: Mutator, acquireLock?: boolean): Promise<Run | undefined>;
  /** Work in progress (stop() waits for it). */
  track<T>(p: Promise<T>): Promise<T>;
  readonly inFlight: Set<Promise<unknown>>;
  /** Elapsed time on this process's own clock. */
  mono(): number;
  /** Action steps this process is running now, by run id (their leases). */
  readonly executing: Map<string, LeaseKeeper>;
  /**
   * May this runner act on `run` now? Yes when nobody holds its lease, or we hold it and are not
   * running it already; when another runner holds it, only once this runner has seen the lease
   * (holder, heartbeat, version) unchanged for a whole lease on its own clock.
   */
  mayTakeOver(run: Run): boolean;
  /** Set by stop(): no new claims. */
  stopping: boolean;
  /** Told each stored due time (this process's own writes); the loop wakes for it. */
  wake(dueAt: number): void;
}

export function createCore(opts: EngineOptions): EngineCore {
  const { store, clock = systemClock } = opts;
  const listeners: EventListener[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const executing = new Map<string, LeaseKeeper>();
  const observed = new Map<string, { key: string; since: number }>();
  const mono = opts.monotonic ?? (opts.clock ? () => clock.now() : () => performance.now());
  const leaseMs = opts.leaseMs ?? 60_000;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const emit = (event: EngineEvent) => {
    for (const l of listeners) {
      Promise.resolve()
        .then(() => l(event))
        .catch((err) => opts.logger?.error({ err, runId: event.run.id }, 'event listener failed'));
    }
  };
  const core: EngineCore = {
    store,
    registry: opts.registry,
    directory: opts.directory,
    owner: opts.owner,
    clock,
    leaseMs,
    retryPolicy: opts.retry ?? DEFAULT_RETRY_BACKOFF,
    random: opts.random ?? Math.random,
    opts,
    listeners,
    emit,
    inFlight,
    async commit(start, mutate, acquireLock) {
      let current = typeof start === 'string' ? await store.get(start) : start;
      let busy = 0;
      for (let tries = 0; tries < 10 && current; tries++) {
        // The definition snapshot never changes after the start: shared, not copied (it is most of a run).
        const { definition, ...state } = current;
        const next: Run = { ...structuredClone(state), definition };
        const notes = mutate(next);
        if (!notes) return undefined;
        const now = clock.now();
        next.version = current.version + 1;
        next.updatedAt = now;
        const events: AuditEvent[] = notes.map(({ emit: _e, ...n }) => ({
          ...n,
          runId: next.id,
          seq: next.version,
          at: now,
        }));
        // A terminal write releases every lock the run holds; passing `regionLock.after` gives up the instance lock.
        const releaseLock =
          isTerminal(next.status) && !isTerminal(current.status)
            ? heldLocks(current)
            : instanceLockGivenUp(next) && !instanceLockGivenUp(current) && next.lockKey
              ? [next.lockKey]
              : undefined;
        try {
          await store.update(next, current.version, events, {
            releaseLock,
            acquireLock: acquireLock ? heldLocks(next) : undefined,
            expectedLeaseBeat: current.leaseBeat ?? 0,
          });
        } catch (err) {
          // Throttled: the same change, a moment later (a few times; then the caller hears of it).
          if (err instanceof TransientStoreError && busy++ < 5) {
            await sleep(50 * 2 ** busy);
            tries--;
            continue;
          }
          if (!(err instanceof ConflictError)) throw err;
          current = await store.get(next.id);
          continue;
        }
        if (next.dueAt !== undefined) core.wake(next.dueAt);
        for (const n of notes) {
          logNote(opts.logger, next, n);
          if (n.emit) emit({ type: n.emit, run: next, stepId: n.stepId, message: n.message });
        }
        return next;
      }
      if (current) throw new ConflictError(current.id); // still losing races after 10 tries: the caller says "try again"
      return undefined;
    },
    mono,
    executing,
    stopping: false,
    mayTakeOver(run) {
      if (!run.leaseOwner) return true;
      if (run.leaseOwner === opts.owner) return !executing.has(run.id);
      const key = `${run.leaseOwner}|${run.leaseBeat ?? 0}|${run.version}`;
      const seen = observed.get(run.id);
      const t = mono();
      if (seen?.key !== key) {
        if (observed.size > 10_000) observed.clear();
        observed.set(run.id, { key, since: t });
        return false;
      }
      return t - seen.since >= leaseMs;
    },
    track(p) {
      inFlight.add(p);
      p.finally(() => inFlight.delete(p)).catch(() => undefined);
      return p;
    },
    wake: () => undefined,
  };
  return core;
}

export const scopeOf = (run: Run): TemplateScope => ({
  input: run.input,
  steps: run.steps,
  run: { id: run.id, requester: run.requester, reason: run.reason },
});
export const titleOf = (step: StepDefinition) => step.title ?? step.id;
export const currentStep = (run: Run): StepDefinition | undefined => run.definition.steps[run.cursor];

/** Ends the run; the lock goes in the same write (see commit). */
export function finish(run: Run, status: RunStatus, message: string, now: number, actor = 'engine'): Note {
  run.status = status;
  run.finishedAt = now;
  run.dueAt = undefined;
  run.leaseOwner = undefined;
  run.leaseUntil = undefined;
  if (status !== 'succeeded') run.error = message;
  return { actor, type: `run_${status}`, message, emit: 'run_finished' };
}

/** The one way from a step to the next: the step succeeded, the run is due now. */
export function succeed(
  run: Run,
  stepId: string,
  now: number,
  actor: string,
  message: string,
  data?: Record<string, unknown>,
): Note {
  const s = run.steps[stepId] as StepState;
  s.status = 'succeeded';
  s.finishedAt = now;
  run.cursor += 1;
  run.dueAt = now;
  run.status = 'running';
  return { actor, type: 'step_succeeded', stepId, message, emit: 'step_succeeded', ...(data ? { data } : {}) };
}

/** A step whose `when:` is false: skipped, and the run goes on to the next. */
export function succeedSkipped(run: Run, stepId: string, now: number, actor: string, message: string): Note {
  run.steps[stepId] = { status: 'skipped', attempt: 0, finishedAt: now };
  run.cursor += 1;
  run.dueAt = now;
  return { actor, type: 'step_skipped', stepId, message, emit: 'step_skipped' };
}

/** Gives up this runner's lease (a step that waits or retries later). */
export function release(run: Run, owner: string): void {
  if (run.leaseOwner === owner) {
    run.leaseOwner = undefined;
    run.leaseUntil = undefined;
  }
}

/** The copy is still where we left it: same step, same state, not finished. */
export const unchanged = (run: Run, cursor: number, stepId: string, st: StepState | undefined) =>
  !isTerminal(run.status) && run.cursor === cursor && JSON.stringify(run.steps[stepId]) === JSON.stringify(st);

/** Keeps a claimed step's lease alive, and aborts the step when the lease is lost or its deadline passes. */
export interface LeaseKeeper {
  readonly signal: AbortSignal;
  /** A fenced write just proved the lease. */
  renewed(): void;
  lose(why: Error): void;
  stop(): void;
}

/** When a waiting gate or task next needs the engine: its reminder or its expiry. */
export const nextDue = (s: StepState | undefined): number | undefined => {
  const times = [s?.remindAt, s?.expiresAt].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
};

/** A gate or task waiting for a person: due again only at its reminder or expiry, and not leased. */
export async function park(
  core: EngineCore,
  run: Run,
  stepId: string,
  before: StepState | undefined,
): Promise<undefined> {
  const cursor = run.cursor;
  await core.commit(run, (r) => {
    const due = nextDue(before);
    if (!unchanged(r, cursor, stepId, before) || r.dueAt === due) return null;
    r.dueAt = due;
    release(r, core.owner);
    return [];
  });
  return undefined;
}
