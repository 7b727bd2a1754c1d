import { DEFAULT_RETRY_BACKOFF, type BackoffPolicy } from './backoff';
import type { StepDefinition, WorkflowDefinition } from './definition';
import {
  ConflictError,
  LeaseLostError,
  NonRetryableStepError,
  RetryableStepError,
  TransientStoreError,
} from './errors';
import {
  systemClock,
  type Clock,
  type Directory,
  type EngineEvent,
  type EventListener,
  type Logger,
  type RunStore,
} from './ports';
import { heldLocks, isTerminal, type AuditEvent, type Run, type RunStatus, type StepState } from './run';
import type { StepContext, StepKind, StepRegistry } from './step';
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
export type Note = Omit<AuditEvent, 'runId' | 'seq' | 'at'> & { emit?: EngineEvent['type'] };
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
        const next = structuredClone(current);
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
            : next.instanceLockReleased && !current.instanceLockReleased && next.lockKey
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

const WARN = new Set([
  'step_retrying',
  'poll_error',
  'plan_check_retry',
  'plan_changed',
  'lease_released',
  'step_late_result',
]);
const ERROR = new Set(['step_failed', 'plan_check_failed', 'run_failed', 'run_expired']);
const QUIET = new Set(['step_checkpoint']);

/**
 * One structured log line per audit event, with the fields on-call engineers query by (runId,
 * workflow, step, actor, event) and the AWS changes with their request ids; see README "Logs".
 */
export function logNote(logger: Logger | undefined, run: Run, n: Note, extra: Record<string, unknown> = {}): void {
  if (!logger) return;
  const data = (n.data ?? {}) as {
    awsRequests?: { action: string; region: string; requestId?: string; error?: string }[];
    code?: string;
  };
  const changes = (data.awsRequests ?? []).filter((r) => !/\.(Describe|Get|List)/.test(r.action));
  const step = n.stepId ? run.steps[n.stepId] : undefined;
  const fields = {
    event: n.type,
    runId: run.id,
    workflow: run.workflowId,
    ...(n.stepId ? { step: n.stepId, attempt: step?.attempt } : {}),
    actor: n.actor,
    ...(data.code ? { code: data.code } : {}),
    ...(step?.startedAt && step.finishedAt ? { durationMs: step.finishedAt - step.startedAt } : {}),
    ...(changes.length ? { aws: changes } : {}),
    ...extra,
  };
  if (ERROR.has(n.type)) logger.error(fields, n.message);
  else if (WARN.has(n.type)) logger.warn(fields, n.message);
  else if (QUIET.has(n.type) || n.type === 'step_waiting') logger.debug(fields, n.message);
  else logger.info(fields, n.message);
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
  if (run.definition.regionLock?.after === stepId) run.instanceLockReleased = true;
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

/** The step kind, or the notes that fail the run when this release does not have it. */
export function kindFor(core: EngineCore, run: Run, name: string): StepKind | Note[] {
  const kind = core.registry.get(name);
  if (kind) return kind;
  return [
    finish(
      run,
      'failed',
      `Step kind "${name}" is not registered in this version of the bot; deploy a version that has it, then retry`,
      core.clock.now(),
    ),
  ];
}

export function parseInput(
  kind: StepKind,
  raw: unknown,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const parsed = kind.input.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  return {
    ok: false,
    message: `Input of ${kind.kind} is invalid (${why}); check the workflow definition and earlier steps' outputs`,
  };
}

export function classify(err: unknown): Failure {
  // A step may attach audit data (e.g. the AWS request ids of a failed call) to what it throws.
  const audit = (err as { audit?: Record<string, unknown> } | undefined)?.audit;
  const withAudit = audit ? { audit } : {};
  if (err instanceof NonRetryableStepError)
    return { message: err.message, code: err.code, retryable: false, ...withAudit };
  if (err instanceof RetryableStepError)
    return { message: err.message, code: err.code, retryable: true, retryAfterMs: err.retryAfterMs, ...withAudit };
  const message = err instanceof Error ? err.message : String(err);
  return { message, code: (err as { name?: string })?.name ?? 'error', retryable: true, ...withAudit };
}

export function makeContext(
  core: EngineCore,
  run: Run,
  stepId: string,
  attempt: number,
  signal: AbortSignal = new AbortController().signal,
  lease?: LeaseKeeper,
): StepContext {
  const { clock, owner, opts } = core;
  /** A write that holds only while this try still owns the run: progress and intents. */
  const fenced = async (note: (s: StepState) => Note) => {
    signal.throwIfAborted();
    const saved = await core.commit(run.id, (r) => {
      const s = r.steps[stepId];
      if (!s || s.attempt !== attempt || r.leaseOwner !== owner || isTerminal(r.status)) return null;
      return [note(s)];
    });
    if (!saved) {
      const lost = new LeaseLostError(run.id, 'another runner took the step over');
      lease?.lose(lost);
      throw lost;
    }
    lease?.renewed();
  };
  return {
    runId: run.id,
    stepId,
    idempotencyKey: `${run.id}#${stepId}`,
    attempt,
    checkpoint: run.steps[stepId]?.checkpoint,
    now: () => clock.now(),
    log: (message, data) => opts.logger?.info({ runId: run.id, stepId, ...data }, message),
    signal,
    saveCheckpoint: (data) =>
      fenced((s) => {
        s.checkpoint = data;
        return { actor: owner, type: 'step_checkpoint', stepId, message: 'progress saved', data: { checkpoint: data } };
      }),
    async fence(action) {
      await fenced((s) => {
        s.intents = [...(s.intents ?? []), { action, attempt, at: clock.now() }];
        return { actor: owner, type: 'step_intent', stepId, message: `${action} (try ${attempt})`, data: { action } };
      });
      signal.throwIfAborted(); // nothing between this check and the caller's AWS call
    },
  };
}

/** Keeps a claimed step's lease alive, and aborts the step when the lease is lost or its deadline passes. */
export interface LeaseKeeper {
  readonly signal: AbortSignal;
  /** A fenced write just proved the lease. */
  renewed(): void;
  lose(why: Error): void;
  stop(): void;
}

export function keepLease(core: EngineCore, runId: string, deadlineMs: number): LeaseKeeper {
  const { store, owner, leaseMs, clock, opts } = core;
  const controller = new AbortController();
  let last = core.mono();
  const lose = (why: Error) => {
    if (!controller.signal.aborted) controller.abort(why);
    stop();
  };
  const renew = setInterval(
    () => {
      // Unsure whether we still hold it after half a lease without a renewal: stop before anyone may take over.
      if (core.mono() - last > leaseMs / 2) return lose(new LeaseLostError(runId, 'could not renew it in time'));
      store.renewLease(runId, owner, clock.now() + leaseMs).then(
        (ok) => (ok ? (last = core.mono()) : lose(new LeaseLostError(runId, 'another runner took it over'))),
        (err) => opts.logger?.warn({ err, runId }, 'lease renewal failed'),
      );
    },
    Math.max(100, leaseMs / 3),
  );
  const deadline = setTimeout(
    () => lose(new RetryableStepError(`no answer within ${Math.round(deadlineMs / 1000)} s`, 'deadline')),
    deadlineMs,
  );
  // The lease never keeps a process alive on its own (a stopping process releases it instead).
  renew.unref();
  deadline.unref();
  function stop() {
    clearInterval(renew);
    clearTimeout(deadline);
  }
  return {
    signal: controller.signal,
    renewed: () => void (last = core.mono()),
    lose,
    stop,
  };
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
