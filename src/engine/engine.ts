import { randomBytes } from 'node:crypto';
import { decideApproval, type DecisionOutcome } from './approval';
import { backoffDelay, DEFAULT_RETRY_BACKOFF, type BackoffPolicy } from './backoff';
import { stepType, type ActionStepDef, type ApprovalStepDef, type PollStepDef, type StepDefinition, type TaskStepDef, type WorkflowDefinition } from './definition';
import { formatDuration, parseDuration } from './duration';
import { ConflictError, EngineInputError, LockHeldError, NonRetryableStepError, RetryableStepError } from './errors';
import { validateInputs } from './inputs';
import { diffPlans, hashPlan, planOf } from './plan-hash';
import { systemClock, type Clock, type Directory, type EngineEvent, type EventListener, type Logger, type RunStore } from './ports';
import { isTerminal, type AuditEvent, type Run, type RunStatus, type StepState } from './run';
import type { StepContext, StepKind, StepRegistry } from './step';
import { resolveTemplate, type TemplateScope } from './template';

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
}

type Note = Omit<AuditEvent, 'runId' | 'seq' | 'at'> & { emit?: EngineEvent['type'] };
/** A mutation of a run copy: returns audit notes, or null when there is nothing to do. */
type Mutator = (run: Run) => Note[] | null;

export interface DecisionResult {
  outcome: DecisionOutcome | 'not_found';
  message: string;
  run?: Run;
}

/** What a person did to a run that was refused, with why. */
export class RunActionError extends EngineInputError {}

const newRunId = (now: number): string => `${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;

/**
 * Creates the workflow engine: start runs, record decisions, and do the due work (`tick`).
 * It knows nothing about Slack, AWS or DynamoDB: it works through its ports.
 *
 * @example
 * const engine = createEngine({ store, registry, definitions, directory, owner: 'bot-1' });
 * const run = await engine.start({ workflowId: 'add-region', input: { region: 'eu-central-1' }, requester: 'U1' });
 * await engine.tick();
 */
export function createEngine(opts: EngineOptions) {
  const { store, registry, definitions, directory, owner } = opts;
  const clock = opts.clock ?? systemClock;
  const leaseMs = opts.leaseMs ?? 60_000;
  const retryPolicy = opts.retry ?? DEFAULT_RETRY_BACKOFF;
  const random = opts.random ?? Math.random;
  const listeners: EventListener[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let loop: NodeJS.Timeout | undefined;
  let ticking = false;

  const emit = (event: EngineEvent) => {
    for (const l of listeners) {
      Promise.resolve()
        .then(() => l(event))
        .catch((err) => opts.logger?.error({ err, runId: event.run.id }, 'event listener failed'));
    }
  };

  /** Applies `mutate` to the latest copy of the run and writes it conditionally; re-reads and re-applies on a lost race. */
  async function commit(start: Run | string, mutate: Mutator, acquireLock?: boolean): Promise<Run | undefined> {
    let current = typeof start === 'string' ? await store.get(start) : start;
    for (let tries = 0; tries < 10 && current; tries++) {
      const next = structuredClone(current);
      const notes = mutate(next);
      if (!notes) return undefined;
      const now = clock.now();
      next.version = current.version + 1;
      next.updatedAt = now;
      const events: AuditEvent[] = notes.map(({ emit: _e, ...n }) => ({ ...n, runId: next.id, seq: next.version, at: now }));
      const releaseLock = isTerminal(next.status) && !isTerminal(current.status) ? next.lockKey : undefined;
      try {
        await store.update(next, current.version, events, { releaseLock, acquireLock: acquireLock ? next.lockKey : undefined });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        current = await store.get(next.id);
        continue;
      }
      for (const n of notes) if (n.emit) emit({ type: n.emit, run: next, stepId: n.stepId, message: n.message });
      return next;
    }
    return undefined;
  }

  const scopeOf = (run: Run): TemplateScope => ({
    input: run.input,
    steps: run.steps,
    run: { id: run.id, requester: run.requester, reason: run.reason },
  });
  const titleOf = (step: StepDefinition) => step.title ?? step.id;
  const current = (run: Run) => run.definition.steps[run.cursor];

  function finish(run: Run, status: RunStatus, message: string, actor = 'engine'): Note {
    const now = clock.now();
    run.status = status;
    run.finishedAt = now;
    run.dueAt = undefined;
    run.leaseOwner = undefined;
    run.leaseUntil = undefined;
    if (status !== 'succeeded') run.error = message;
    return { actor, type: `run_${status}`, message, emit: 'run_finished' };
  }

  const release = (run: Run) => {
    if (run.leaseOwner === owner) {
      run.leaseOwner = undefined;
      run.leaseUntil = undefined;
    }
  };

  /** The copy is still where we left it: same step, same state, not finished. */
  const unchanged = (run: Run, cursor: number, stepId: string, st: StepState | undefined) =>
    !isTerminal(run.status) && run.cursor === cursor && JSON.stringify(run.steps[stepId]) === JSON.stringify(st);

  function kindFor(run: Run, name: string): StepKind | Note[] {
    const kind = registry.get(name);
    if (kind) return kind;
    return [finish(run, 'failed', `Step kind "${name}" is not registered in this version of the bot; deploy a version that has it, then retry`)];
  }

  function parseInput(kind: StepKind, raw: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
    const parsed = kind.input.safeParse(raw);
    if (parsed.success) return { ok: true, value: parsed.data };
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return { ok: false, message: `Input of ${kind.kind} is invalid (${why}); check the workflow definition and earlier steps' outputs` };
  }

  function classify(err: unknown): { message: string; code: string; retryable: boolean; retryAfterMs?: number; audit?: Record<string, unknown> } {
    // A step may attach audit data (e.g. the AWS request ids of a failed call) to what it throws.
    const audit = (err as { audit?: Record<string, unknown> } | undefined)?.audit;
    const withAudit = audit ? { audit } : {};
    if (err instanceof NonRetryableStepError) return { message: err.message, code: err.code, retryable: false, ...withAudit };
    if (err instanceof RetryableStepError) return { message: err.message, code: err.code, retryable: true, retryAfterMs: err.retryAfterMs, ...withAudit };
    const message = err instanceof Error ? err.message : String(err);
    return { message, code: (err as { name?: string })?.name ?? 'error', retryable: true, ...withAudit };
  }

  function makeContext(run: Run, stepId: string, attempt: number): StepContext {
    return {
      runId: run.id,
      stepId,
      idempotencyKey: `${run.id}#${stepId}`,
      attempt,
      checkpoint: run.steps[stepId]?.checkpoint,
      now: () => clock.now(),
      log: (message, data) => opts.logger?.info({ runId: run.id, stepId, ...data }, message),
      saveCheckpoint: async (data) => {
        const saved = await commit(run.id, (r) => {
          const s = r.steps[stepId];
          if (!s || s.attempt !== attempt || r.leaseOwner !== owner) return null;
          s.checkpoint = data;
          return [{ actor: owner, type: 'step_checkpoint', stepId, message: 'progress saved', data: { checkpoint: data } }];
        });
        if (!saved) throw new RetryableStepError('Lost the lease on this workflow while saving progress; another runner will resume it', 'lease_lost');
      },
    };
  }

  async function runAction(run: Run, step: ActionStepDef): Promise<Run | undefined> {
    const kind = kindFor(run, step.action);
    if (Array.isArray(kind)) return commit(run, () => kind);
    const input = parseInput(kind, resolveTemplate(step.with, scopeOf(run)));
    const before = run.steps[step.id];
    const cursor = run.cursor;
    if (!input.ok) {
      return commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        r.steps[step.id] = { ...(before ?? { attempt: 0 }), status: 'failed', error: { message: input.message, code: 'invalid_input', retryable: false, at: clock.now() } };
        return [{ actor: 'engine', type: 'step_failed', stepId: step.id, message: input.message, emit: 'step_failed' }, finish(r, 'failed', `${titleOf(step)}: ${input.message}`)];
      });
    }
    const claimed = await commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      const now = clock.now();
      if (r.leaseOwner && r.leaseOwner !== owner && (r.leaseUntil ?? 0) > now) return null;
      const s: StepState = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
      const resumed = s.status === 'running';
      const previousOwner = r.leaseOwner;
      s.status = 'running';
      s.attempt += 1;
      s.startedAt ??= now;
      r.steps[step.id] = s;
      r.status = 'running';
      r.leaseOwner = owner;
      r.leaseUntil = now + leaseMs;
      r.dueAt = r.leaseUntil;
      return [
        resumed
          ? { actor: owner, type: 'step_resumed', stepId: step.id, message: `${titleOf(step)}: resumed (try ${s.attempt}) after runner ${previousOwner ?? '?'} stopped renewing its lease`, emit: 'step_started' }
          : { actor: owner, type: 'step_started', stepId: step.id, message: `${titleOf(step)}: started (try ${s.attempt})`, emit: 'step_started' },
      ];
    });
    if (!claimed) return undefined;
    const attempt = claimed.steps[step.id]?.attempt ?? 1;
    const renew = setInterval(() => {
      store.renewLease(run.id, owner, clock.now() + leaseMs).catch((err) => opts.logger?.warn({ err, runId: run.id }, 'lease renewal failed'));
    }, Math.max(250, leaseMs / 3));
    let result: Awaited<ReturnType<StepKind['run']>> | undefined;
    let failure: ReturnType<typeof classify> | undefined;
    try {
      result = await kind.run(input.value, makeContext(claimed, step.id, attempt));
    } catch (err) {
      failure = classify(err);
      opts.logger?.warn({ runId: run.id, stepId: step.id, attempt, err: failure.message, code: failure.code }, 'step failed');
    } finally {
      clearInterval(renew);
    }
    const maxAttempts = step.retry?.maxAttempts ?? opts.maxAttempts ?? 5;
    return commit(claimed, (r) => {
      const s = r.steps[step.id];
      const now = clock.now();
      if (!s || s.attempt !== attempt) return null;
      if (isTerminal(r.status) || r.leaseOwner !== owner) {
        if (!result || s.output !== undefined) return null;
        // The run was cancelled (or taken over) while the step ran: keep what it did on record.
        s.output = result.output;
        return [{ actor: owner, type: 'step_late_result', stepId: step.id, message: `${titleOf(step)} finished after the workflow was ${r.status}: ${result.summary ?? 'done'}`, data: { output: result.output } }];
      }
      if (result) {
        Object.assign(s, { status: 'succeeded', output: result.output, summary: result.summary, details: result.details, finishedAt: now, error: undefined });
        r.cursor += 1;
        r.dueAt = now;
        return [{ actor: owner, type: 'step_succeeded', stepId: step.id, message: `${titleOf(step)}: ${result.summary ?? 'done'}`, emit: 'step_succeeded', data: { output: result.output, ...result.audit } }];
      }
      const f = failure as ReturnType<typeof classify>;
      s.error = { message: f.message, code: f.code, retryable: f.retryable, at: now };
      if (f.retryable && attempt < maxAttempts) {
        const delay = f.retryAfterMs ?? backoffDelay(retryPolicy, attempt, random);
        s.status = 'pending';
        r.dueAt = now + delay;
        release(r);
        return [{ actor: owner, type: 'step_retrying', stepId: step.id, message: `${titleOf(step)}: try ${attempt} of ${maxAttempts} failed (${f.message}); retrying in ${formatDuration(delay)}`, emit: 'step_retrying', data: { code: f.code, ...f.audit } }];
      }
      s.status = 'failed';
      s.finishedAt = now;
      const why = f.retryable ? `${f.message} (gave up after ${attempt} tries)` : f.message;
      return [
        { actor: owner, type: 'step_failed', stepId: step.id, message: `${titleOf(step)} failed: ${why}`, emit: 'step_failed', data: { code: f.code, ...f.audit } },
        finish(r, 'failed', `${titleOf(step)} failed: ${why}`),
      ];
    });
  }

  async function runPoll(run: Run, step: PollStepDef): Promise<Run | undefined> {
    const kind = kindFor(run, step.poll.check);
    if (Array.isArray(kind)) return commit(run, () => kind);
    const before = run.steps[step.id];
    const cursor = run.cursor;
    const now = clock.now();
    const startedAt = before?.startedAt ?? now;
    const p = step.poll;
    if (now - startedAt > parseDuration(p.timeout)) {
      return commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const s = r.steps[step.id] as StepState;
        const msg = `${titleOf(step)}: still ${JSON.stringify(s.observed ?? null)} after ${p.timeout} (waiting for ${p.until.path} in ${p.until.in.join(', ')}); check the AWS console, then retry or cancel`;
        Object.assign(s, { status: 'failed', finishedAt: now, error: { message: msg, code: 'timeout', retryable: false, at: now } });
        return [{ actor: owner, type: 'step_failed', stepId: step.id, message: msg, emit: 'step_failed' }, finish(r, 'failed', msg)];
      });
    }
    const input = parseInput(kind, resolveTemplate(p.with, scopeOf(run)));
    let result: Awaited<ReturnType<StepKind['run']>> | undefined;
    let failure: ReturnType<typeof classify> | undefined;
    if (!input.ok) failure = { message: input.message, code: 'invalid_input', retryable: false };
    else {
      try {
        result = await kind.run(input.value, makeContext(run, step.id, (before?.polls ?? 0) + 1));
      } catch (err) {
        failure = classify(err);
      }
    }
    return commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      if (r.leaseOwner && r.leaseOwner !== owner && (r.leaseUntil ?? 0) > clock.now()) return null;
      const t = clock.now();
      const s: StepState = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
      r.steps[step.id] = s;
      s.startedAt ??= t;
      release(r);
      if (failure) {
        s.attempt += 1;
        s.error = { message: failure.message, code: failure.code, retryable: failure.retryable, at: t };
        const maxErrors = opts.maxPollErrors ?? 10;
        if (!failure.retryable || s.attempt >= maxErrors) {
          s.status = 'failed';
          s.finishedAt = t;
          const msg = `${titleOf(step)} failed: ${failure.message}`;
          return [{ actor: owner, type: 'step_failed', stepId: step.id, message: msg, emit: 'step_failed' }, finish(r, 'failed', msg)];
        }
        const delay = failure.retryAfterMs ?? backoffDelay(retryPolicy, s.attempt, random);
        s.status = 'waiting';
        r.status = 'waiting';
        r.dueAt = t + delay;
        return [{ actor: owner, type: 'poll_error', stepId: step.id, message: `${titleOf(step)}: check failed (${failure.message}); trying again in ${formatDuration(delay)}` }];
      }
      const output = (result as NonNullable<typeof result>).output;
      const observed = String(p.until.path)
        .split('.')
        .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), output);
      const changed = s.polls === undefined || JSON.stringify(s.observed) !== JSON.stringify(observed);
      s.polls = (s.polls ?? 0) + 1;
      s.attempt = 0;
      s.error = undefined;
      s.observed = observed;
      s.output = output;
      s.summary = result?.summary;
      s.details = result?.details;
      if (p.until.in.some((v) => v === observed)) {
        s.status = 'succeeded';
        s.finishedAt = t;
        r.cursor += 1;
        r.dueAt = t;
        r.status = 'running';
        return [{ actor: owner, type: 'step_succeeded', stepId: step.id, message: `${titleOf(step)}: ${result?.summary ?? `${p.until.path} is ${String(observed)}`} after ${formatDuration(t - s.startedAt)} and ${s.polls} checks`, emit: 'step_succeeded', data: { ...result?.audit } }];
      }
      const base = parseDuration(p.interval);
      const delay = Math.min(parseDuration(p.maxInterval), Math.round(base * 1.5 ** (s.polls - 1)));
      s.status = 'waiting';
      r.status = 'waiting';
      r.dueAt = t + delay;
      return changed
        ? [{ actor: owner, type: 'step_waiting', stepId: step.id, message: `${titleOf(step)}: ${result?.summary ?? `${p.until.path} is ${String(observed)}`}; waiting for ${p.until.in.join(' or ')}`, emit: 'step_waiting' }]
        : [];
    });
  }

  /** A gate or task waiting for a person: due again only when it expires (or never), and not leased. */
  /** When a waiting gate or task next needs the engine: its reminder or its expiry. */
  const nextDue = (s: StepState | undefined): number | undefined => {
    const times = [s?.remindAt, s?.expiresAt].filter((t): t is number => t !== undefined);
    return times.length ? Math.min(...times) : undefined;
  };

  async function park(run: Run, stepId: string, before: StepState | undefined): Promise<undefined> {
    const cursor = run.cursor;
    await commit(run, (r) => {
      const due = nextDue(before);
      if (!unchanged(r, cursor, stepId, before) || r.dueAt === due) return null;
      r.dueAt = due;
      release(r);
      return [];
    });
    return undefined;
  }

  async function runApproval(run: Run, step: ApprovalStepDef): Promise<Run | undefined> {
    const before = run.steps[step.id];
    const cursor = run.cursor;
    const gate = step.approval;
    const now = clock.now();
    const status = before?.status ?? 'pending';
    const planStep = gate.plan ? run.definition.steps.find((s) => s.id === gate.plan) : undefined;
    if (status === 'pending') {
      return commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const t = clock.now();
        const planHash = gate.plan ? hashPlan(planOf(r.steps[gate.plan]?.output)) : undefined;
        const s: StepState = { status: 'awaiting_approval', attempt: 0, startedAt: t, openedAt: t, expiresAt: t + parseDuration(gate.expiresAfter), decisions: [], ...(planHash ? { planHash } : {}) };
        if (gate.remindEvery && t + parseDuration(gate.remindEvery) < (s.expiresAt as number)) s.remindAt = t + parseDuration(gate.remindEvery);
        r.steps[step.id] = s;
        r.status = 'awaiting_approval';
        r.dueAt = nextDue(s);
        release(r);
        const who = `${gate.minApprovals} approval${gate.minApprovals > 1 ? 's' : ''} from ${gate.approvers.join(', ')}`;
        return [{ actor: owner, type: 'approval_requested', stepId: step.id, message: `${titleOf(step)}: waiting for ${who}${planHash ? ` on plan ${planHash}` : ''}`, emit: 'approval_requested' }];
      });
    }
    if (status === 'awaiting_approval') {
      if (before?.expiresAt !== undefined && now >= before.expiresAt) {
        return commit(run, (r) => {
          if (!unchanged(r, cursor, step.id, before)) return null;
          const s = r.steps[step.id] as StepState;
          s.status = 'expired';
          s.finishedAt = clock.now();
          const got = (s.decisions ?? []).filter((d) => d.verdict === 'approve').length;
          return [finish(r, 'expired', `${titleOf(step)}: expired after ${gate.expiresAfter} with ${got} of ${gate.minApprovals} approvals; nothing was changed. Start a new request if it is still needed`)];
        });
      }
      if (before?.remindAt !== undefined && now >= before.remindAt) {
        return commit(run, (r) => {
          if (!unchanged(r, cursor, step.id, before)) return null;
          const s = r.steps[step.id] as StepState;
          const t = clock.now();
          const next = t + parseDuration(gate.remindEvery as string);
          s.remindAt = next < (s.expiresAt ?? Infinity) ? next : undefined;
          r.dueAt = nextDue(s);
          const missing = gate.minApprovals - (s.decisions ?? []).filter((d) => d.verdict === 'approve').length;
          const left = s.expiresAt !== undefined ? `; it expires in ${formatDuration(s.expiresAt - t)}` : '';
          return [{ actor: owner, type: 'approval_reminder', stepId: step.id, message: `${titleOf(step)}: still waiting for ${missing} more approval${missing > 1 ? 's' : ''} from ${gate.approvers.join(', ')}${left}`, emit: 'approval_reminder' }];
        });
      }
      return park(run, step.id, before);
    }
    if (status !== 'approved') return undefined;
    // The gate opened: before anything changes, check that the plan the approvers saw still holds.
    if (planStep && 'action' in planStep) {
      const kind = registry.get(planStep.action);
      const input = kind ? parseInput(kind, resolveTemplate(planStep.with, scopeOf(run))) : undefined;
      if (!kind || !input?.ok) return commit(run, (r) => [finish(r, 'failed', `Could not re-check the plan of ${titleOf(step)}: ${input && !input.ok ? input.message : 'kind not registered'}`)]);
      let fresh: Awaited<ReturnType<StepKind['run']>>;
      try {
        fresh = await kind.run(input.value, makeContext(run, planStep.id, (run.steps[planStep.id]?.attempt ?? 1) + 1));
      } catch (err) {
        const f = classify(err);
        return commit(run, (r) => {
          if (!unchanged(r, cursor, step.id, before)) return null;
          if (!f.retryable) {
            return [{ actor: owner, type: 'plan_check_failed', stepId: step.id, message: `Re-checking the plan failed: ${f.message}`, emit: 'step_failed' }, finish(r, 'failed', `Re-checking the plan failed: ${f.message}`)];
          }
          r.dueAt = clock.now() + (f.retryAfterMs ?? backoffDelay(retryPolicy, 1, random));
          return [{ actor: owner, type: 'plan_check_retry', stepId: step.id, message: `Re-checking the plan failed (${f.message}); trying again` }];
        });
      }
      const newHash = hashPlan(planOf(fresh.output));
      if (newHash !== before?.planHash) {
        return commit(run, (r) => {
          if (!unchanged(r, cursor, step.id, before)) return null;
          const t = clock.now();
          const changes = diffPlans(planOf(r.steps[planStep.id]?.output), planOf(fresh.output));
          const ps = r.steps[planStep.id] as StepState;
          Object.assign(ps, { output: fresh.output, summary: fresh.summary, details: fresh.details });
          const s = r.steps[step.id] as StepState;
          Object.assign(s, { status: 'awaiting_approval', decisions: [], planHash: newHash, openedAt: t, expiresAt: t + parseDuration(gate.expiresAfter), replans: (s.replans ?? 0) + 1 });
          r.status = 'awaiting_approval';
          r.dueAt = s.expiresAt;
          release(r);
          return [
            { actor: owner, type: 'plan_changed', stepId: step.id, message: `The plan changed since it was approved (${before?.planHash} → ${newHash}); approvals are void, please review again. Changes: ${changes.join('; ')}`, emit: 'plan_changed', data: { changes } },
            { actor: owner, type: 'approval_requested', stepId: step.id, message: `${titleOf(step)}: waiting for approval of plan ${newHash}`, emit: 'approval_requested' },
          ];
        });
      }
    }
    return commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      const s = r.steps[step.id] as StepState;
      const t = clock.now();
      s.status = 'succeeded';
      s.finishedAt = t;
      r.cursor += 1;
      r.dueAt = t;
      r.status = 'running';
      const by = (s.decisions ?? []).filter((d) => d.verdict === 'approve').map((d) => d.user);
      return [{ actor: owner, type: 'step_succeeded', stepId: step.id, message: `${titleOf(step)}: approved by ${by.join(', ')}${s.planHash ? ` (plan ${s.planHash} re-checked, unchanged)` : ''}`, emit: 'step_succeeded' }];
    });
  }

  async function runTask(run: Run, step: TaskStepDef): Promise<Run | undefined> {
    const before = run.steps[step.id];
    const cursor = run.cursor;
    const status = before?.status ?? 'pending';
    const now = clock.now();
    if (status === 'pending') {
      return commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const t = clock.now();
        const scope = scopeOf(r);
        const expiresAt = step.task.expiresAfter ? t + parseDuration(step.task.expiresAfter) : undefined;
        r.steps[step.id] = {
          status: 'awaiting_task',
          attempt: 0,
          startedAt: t,
          openedAt: t,
          ...(expiresAt ? { expiresAt } : {}),
          output: { title: resolveTemplate(step.task.title, scope), instructions: resolveTemplate(step.task.instructions, scope) },
        };
        r.status = 'awaiting_task';
        r.dueAt = expiresAt;
        release(r);
        return [{ actor: owner, type: 'task_requested', stepId: step.id, message: `${titleOf(step)}: waiting for ${step.task.assignees.join(', ')} to confirm "${String(resolveTemplate(step.task.title, scope))}"`, emit: 'task_requested' }];
      });
    }
    if (status === 'awaiting_task') {
      if (before?.expiresAt !== undefined && now >= before.expiresAt) {
        return commit(run, (r) => {
          if (!unchanged(r, cursor, step.id, before)) return null;
          Object.assign(r.steps[step.id] as StepState, { status: 'expired', finishedAt: clock.now() });
          return [finish(r, 'expired', `${titleOf(step)}: nobody confirmed the task within ${step.task.expiresAfter}`)];
        });
      }
      return park(run, step.id, before);
    }
    if (status !== 'confirmed') return undefined;
    return commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      const s = r.steps[step.id] as StepState;
      s.status = 'succeeded';
      s.finishedAt = clock.now();
      r.cursor += 1;
      r.dueAt = clock.now();
      r.status = 'running';
      return [{ actor: owner, type: 'step_succeeded', stepId: step.id, message: `${titleOf(step)}: confirmed by ${s.confirmedBy ?? '?'}`, emit: 'step_succeeded' }];
    });
  }

  /** Skips a step whose `when` is false, or finishes the run after the last step. */
  function structural(run: Run): Mutator | undefined {
    const step = current(run);
    if (!step) {
      return (r) => {
        if (r.cursor < r.definition.steps.length || isTerminal(r.status)) return null;
        return [finish(r, 'succeeded', `${r.definition.title}: all ${r.definition.steps.length} steps done`)];
      };
    }
    const st = run.steps[step.id];
    if ((st === undefined || st.status === 'pending') && step.when !== undefined) {
      const value = resolveTemplate(step.when, scopeOf(run));
      if (value === false || value === undefined || value === null || value === '' || value === 'false') {
        const cursor = run.cursor;
        return (r) => {
          if (r.cursor !== cursor) return null;
          r.steps[step.id] = { status: 'skipped', attempt: 0, finishedAt: clock.now() };
          r.cursor += 1;
          r.dueAt = clock.now();
          return [{ actor: owner, type: 'step_skipped', stepId: step.id, message: `${titleOf(step)}: skipped (${step.when} is false)`, emit: 'step_skipped' }];
        };
      }
    }
    return undefined;
  }

  /** Does whatever is due for one run, as far as it can go now. */
  async function advance(runId: string): Promise<void> {
    let run = await store.get(runId);
    for (let i = 0; run && i < 100; i++) {
      const now = clock.now();
      if (isTerminal(run.status) || run.dueAt === undefined || run.dueAt > now) return;
      if (run.leaseOwner && run.leaseOwner !== owner && (run.leaseUntil ?? 0) > now) return;
      const s = structural(run);
      if (s) {
        run = await commit(run, s);
        continue;
      }
      const step = current(run) as StepDefinition;
      switch (stepType(step)) {
        case 'action':
          run = await runAction(run, step as ActionStepDef);
          break;
        case 'poll':
          run = await runPoll(run, step as PollStepDef);
          break;
        case 'approval':
          run = await runApproval(run, step as ApprovalStepDef);
          break;
        case 'task':
          run = await runTask(run, step as TaskStepDef);
          break;
      }
    }
  }

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  async function requireRun(runId: string): Promise<Run> {
    const run = await store.get(runId);
    if (!run) throw new RunActionError(`There is no workflow ${runId}; /idc workflows lists them`, 'not_found');
    return run;
  }

  return {
    owner,
    /** Subscribes to what the engine does (after each change is stored). */
    on(listener: EventListener): void {
      listeners.push(listener);
    },

    definitions,

    /** Starts a workflow. Throws EngineInputError (bad input) or LockHeldError (instance busy). */
    async start(req: { workflowId: string; input: Record<string, unknown>; requester: string; reason?: string; requestId?: string; meta?: Record<string, unknown> }): Promise<Run> {
      const def = definitions.get(req.workflowId);
      if (!def) throw new EngineInputError(`Unknown workflow "${req.workflowId}"; known: ${[...definitions.keys()].join(', ')}`, 'unknown_workflow');
      const input = validateInputs(def, req.input);
      const now = clock.now();
      const id = newRunId(now);
      const run: Run = {
        id,
        workflowId: def.id,
        workflowVersion: def.version,
        definition: def,
        status: 'running',
        input,
        requester: req.requester,
        ...(req.reason ? { reason: req.reason } : {}),
        createdAt: now,
        updatedAt: now,
        version: 1,
        cursor: 0,
        steps: {},
        dueAt: now,
        meta: req.meta ?? {},
      };
      const lockKey = def.lock ? String(resolveTemplate(def.lock, scopeOf(run))) : undefined;
      if (lockKey) {
        // Small reads spare the whole write when the request is a duplicate or another change holds the instance.
        const seen = req.requestId ? await store.requestRun(req.requestId) : undefined;
        if (seen) return requireRun(seen);
        const holder = await store.liveLockHolder(lockKey);
        if (holder) throw new LockHeldError(lockKey, holder);
        run.lockKey = lockKey;
      }
      const message = `${def.title} requested by ${req.requester}${req.reason ? `: ${req.reason}` : ''}`;
      const result = await store.create(run, [{ runId: id, seq: 1, at: now, actor: req.requester, type: 'run_started', message, data: { input } }], { lockKey, requestId: req.requestId });
      if (!result.created) return requireRun(result.runId);
      emit({ type: 'run_started', run, message });
      return run;
    },

    /** Records an approval or rejection from `user` on the run's open gate. Never throws for a refused click. */
    async decide(req: { runId: string; user: string; verdict: 'approve' | 'reject'; reason?: string; planHash?: string; stepId?: string }): Promise<DecisionResult> {
      const run = await store.get(req.runId);
      if (!run) return { outcome: 'not_found', message: `There is no workflow ${req.runId}.` };
      const step = current(run);
      if (!step || !('approval' in step) || (req.stepId !== undefined && req.stepId !== step.id)) {
        const expired = run.status === 'expired';
        return { outcome: expired ? 'expired' : 'not_open', message: expired ? 'This request has expired; ask the requester to start it again.' : 'This request is not waiting for approval any more.', run };
      }
      const allowed = await directory.isInRole(req.user, step.approval.approvers);
      let answer: DecisionResult = { outcome: 'not_open', message: 'This request is not waiting for approval any more.', run };
      const saved = await commit(run, (r) => {
        const cur = current(r);
        const s = r.steps[step.id];
        if (!s || cur?.id !== step.id) {
          answer = { outcome: 'not_open', message: 'This request is not waiting for approval any more.', run: r };
          return null;
        }
        const result = decideApproval(step.approval, s, { user: req.user, verdict: req.verdict, now: clock.now(), requester: r.requester, allowed, planHash: req.planHash, reason: req.reason });
        answer = { outcome: result.outcome, message: result.message, run: r };
        if (!['recorded', 'opened', 'rejected'].includes(result.outcome)) return null;
        s.decisions = result.decisions;
        const approvals = result.decisions.filter((d) => d.verdict === 'approve').length;
        const notes: Note[] = [];
        if (result.outcome === 'rejected') {
          s.status = 'rejected';
          s.finishedAt = clock.now();
          notes.push({ actor: req.user, type: 'approval_rejected', stepId: step.id, message: `${req.user} rejected${req.reason ? `: ${req.reason}` : ''}`, emit: 'approval_recorded', data: { reason: req.reason } });
          notes.push(finish(r, 'rejected', `Rejected by ${req.user}${req.reason ? `: ${req.reason}` : ''}`, req.user));
          return notes;
        }
        notes.push({ actor: req.user, type: 'approval_granted', stepId: step.id, message: `${req.user} approved plan ${s.planHash ?? '-'} (${approvals} of ${step.approval.minApprovals})`, emit: 'approval_recorded' });
        if (result.outcome === 'opened') {
          s.status = 'approved';
          r.status = 'running';
          r.dueAt = clock.now();
        }
        return notes;
      });
      if (saved) {
        answer.run = saved;
        if (answer.outcome === 'opened') void track(advance(saved.id).catch((err) => opts.logger?.error({ err, runId: saved.id }, 'advance failed')));
      }
      return answer;
    },

    /** A person confirms the run's open human task. */
    async confirmTask(req: { runId: string; user: string; stepId?: string }): Promise<{ ok: boolean; message: string; run?: Run }> {
      const run = await store.get(req.runId);
      if (!run) return { ok: false, message: `There is no workflow ${req.runId}.` };
      const step = current(run);
      if (!step || !('task' in step) || run.steps[step.id]?.status !== 'awaiting_task' || (req.stepId !== undefined && req.stepId !== step.id)) {
        return { ok: false, message: 'This task is not open any more.', run };
      }
      const allowed = (step.task.allowRequester && req.user === run.requester) || (await directory.isInRole(req.user, step.task.assignees));
      if (!allowed) return { ok: false, message: `Only ${step.task.assignees.join(', ')}${step.task.allowRequester ? ' or the requester' : ''} may confirm this task.`, run };
      const saved = await commit(run, (r) => {
        const s = r.steps[step.id];
        if (current(r)?.id !== step.id || s?.status !== 'awaiting_task') return null;
        s.status = 'confirmed';
        s.confirmedBy = req.user;
        r.status = 'running';
        r.dueAt = clock.now();
        return [{ actor: req.user, type: 'task_confirmed', stepId: step.id, message: `${req.user} confirmed: ${titleOf(step)}`, emit: 'task_confirmed' }];
      });
      if (!saved) return { ok: false, message: 'This task is not open any more.', run };
      void track(advance(saved.id).catch((err) => opts.logger?.error({ err, runId: saved.id }, 'advance failed')));
      return { ok: true, message: 'Thanks, recorded. The workflow goes on.', run: saved };
    },

    /** Cancels a run that has not finished. */
    async cancel(req: { runId: string; user: string; reason?: string }): Promise<Run> {
      const run = await requireRun(req.runId);
      if (isTerminal(run.status)) throw new RunActionError(`Workflow ${run.id} already ended (${run.status}); nothing to cancel`, 'finished');
      const saved = await commit(run, (r) => {
        if (isTerminal(r.status)) return null;
        const step = current(r);
        if (step) {
          const s = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
          if (s.status !== 'running') s.status = 'cancelled';
          r.steps[step.id] = s;
        }
        return [finish(r, 'cancelled', `Cancelled by ${req.user}${req.reason ? `: ${req.reason}` : ''}`, req.user)];
      });
      if (!saved) throw new RunActionError(`Workflow ${run.id} ended before it could be cancelled`, 'finished');
      return saved;
    },

    /** Retries a failed run from the step that failed. Re-takes the instance lock. */
    async retry(req: { runId: string; user: string }): Promise<Run> {
      const run = await requireRun(req.runId);
      if (run.status !== 'failed') throw new RunActionError(`Only failed workflows can be retried; ${run.id} is ${run.status}`, 'not_failed');
      const saved = await commit(
        run,
        (r) => {
          if (r.status !== 'failed') return null;
          const step = current(r);
          if (step) {
            const s = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
            Object.assign(s, { status: 'pending', attempt: 0, startedAt: undefined, polls: undefined });
            r.steps[step.id] = s;
          }
          r.status = 'running';
          r.error = undefined;
          r.finishedAt = undefined;
          r.dueAt = clock.now();
          return [{ actor: req.user, type: 'run_retried', stepId: step?.id, message: `${req.user} retried from ${step ? titleOf(step) : 'the end'}`, emit: 'step_started' }];
        },
        true,
      );
      if (!saved) throw new RunActionError(`Workflow ${run.id} changed before it could be retried; try again`, 'conflict');
      void track(advance(saved.id).catch((err) => opts.logger?.error({ err, runId: saved.id }, 'advance failed')));
      return saved;
    },

    /** Stores adapter data on the run (e.g. the Slack message ts). */
    async setMeta(runId: string, patch: Record<string, unknown>): Promise<Run | undefined> {
      return commit(runId, (r) => {
        Object.assign(r.meta, patch);
        return [];
      });
    },

    get: (runId: string) => store.get(runId),
    listRecent: (limit = 20) => store.listRecent(limit),
    events: (runId: string) => store.events(runId),
    lockHolder: (lockKey: string) => store.lockHolder(lockKey),

    /** Advances one run now (in the background when `background`). */
    advance(runId: string): Promise<void> {
      return track(advance(runId));
    },

    /** Does all the work that is due now. Returns how many runs it looked at. */
    async tick(limit = 100): Promise<number> {
      const ids = await store.listDue(clock.now(), limit);
      const width = opts.concurrency ?? 8;
      let next = 0;
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          await track(advance(id)).catch((err) => opts.logger?.error({ err, runId: id }, 'advance failed'));
        }
      };
      await Promise.all(Array.from({ length: Math.min(width, ids.length) }, worker));
      return ids.length;
    },

    /** Ticks every `intervalMs` until `stop()`. */
    startLoop(intervalMs = 1000): void {
      if (loop) return;
      loop = setInterval(() => {
        if (ticking) return;
        ticking = true;
        this.tick()
          .catch((err) => opts.logger?.error({ err }, 'tick failed'))
          .finally(() => {
            ticking = false;
          });
      }, intervalMs);
    },

    /** Waits until no work is in progress (the loop, if any, keeps going). */
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },

    /** Stops the loop and waits for the work in progress. */
    async stop(): Promise<void> {
      if (loop) clearInterval(loop);
      loop = undefined;
      await this.idle();
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
