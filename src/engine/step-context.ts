import { finish, type EngineCore, type Failure, type LeaseKeeper, type Note } from './core';
import { LeaseLostError, NonRetryableStepError, RetryableStepError } from './errors';
import { isTerminal, type Run, type StepState } from './run';
import type { StepContext, StepKind } from './step';

/** What a step's try gets and does around its kind's `run`: its context, its lease, its input and its failure. */

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
    ...(run.scope !== undefined ? { scope: run.scope } : {}),
    requester: run.requester,
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
