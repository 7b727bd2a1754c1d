import { backoffDelay } from '../backoff';
import {
  classify,
  finish,
  kindFor,
  makeContext,
  parseInput,
  release,
  scopeOf,
  succeed,
  titleOf,
  unchanged,
  type EngineCore,
  type Failure,
} from '../core';
import type { ActionStepDef } from '../definition';
import { formatDuration } from '../duration';
import { isTerminal, type Run, type StepState } from '../run';
import type { StepResult } from '../step';
import { resolveTemplate } from '../template';

/** Claims an action step (a lease), runs its kind, and records the result, a retry or the failure. */
export async function runAction(core: EngineCore, run: Run, step: ActionStepDef): Promise<Run | undefined> {
  const { clock, owner, leaseMs, store, opts } = core;
  const kind = kindFor(core, run, step.action);
  if (Array.isArray(kind)) return core.commit(run, () => kind);
  const input = parseInput(kind, resolveTemplate(step.with, scopeOf(run)));
  const before = run.steps[step.id];
  const cursor = run.cursor;
  if (!input.ok) {
    return core.commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      const now = clock.now();
      r.steps[step.id] = {
        ...(before ?? { attempt: 0 }),
        status: 'failed',
        error: { message: input.message, code: 'invalid_input', retryable: false, at: now },
      };
      return [
        { actor: 'engine', type: 'step_failed', stepId: step.id, message: input.message, emit: 'step_failed' },
        finish(r, 'failed', `${titleOf(step)}: ${input.message}`, now),
      ];
    });
  }
  const claimed = await core.commit(run, (r) => {
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
        ? {
            actor: owner,
            type: 'step_resumed',
            stepId: step.id,
            message: `${titleOf(step)}: resumed (try ${s.attempt}) after runner ${previousOwner ?? '?'} stopped renewing its lease`,
            emit: 'step_started',
          }
        : {
            actor: owner,
            type: 'step_started',
            stepId: step.id,
            message: `${titleOf(step)}: started (try ${s.attempt})`,
            emit: 'step_started',
          },
    ];
  });
  if (!claimed) return undefined;
  const attempt = claimed.steps[step.id]?.attempt ?? 1;
  const renew = setInterval(
    () => {
      store
        .renewLease(run.id, owner, clock.now() + leaseMs)
        .catch((err) => opts.logger?.warn({ err, runId: run.id }, 'lease renewal failed'));
    },
    Math.max(250, leaseMs / 3),
  );
  let result: StepResult<unknown> | undefined;
  let failure: Failure | undefined;
  try {
    result = await kind.run(input.value, makeContext(core, claimed, step.id, attempt));
  } catch (err) {
    failure = classify(err);
    opts.logger?.warn(
      { runId: run.id, stepId: step.id, attempt, err: failure.message, code: failure.code },
      'step failed',
    );
  } finally {
    clearInterval(renew);
  }
  const maxAttempts = step.retry?.maxAttempts ?? opts.maxAttempts ?? 5;
  return core.commit(claimed, (r) => {
    const s = r.steps[step.id];
    const now = clock.now();
    if (!s || s.attempt !== attempt) return null;
    if (isTerminal(r.status) || r.leaseOwner !== owner) {
      if (!result || s.output !== undefined) return null;
      // The run was cancelled (or taken over) while the step ran: keep what it did on record.
      s.output = result.output;
      return [
        {
          actor: owner,
          type: 'step_late_result',
          stepId: step.id,
          message: `${titleOf(step)} finished after the workflow was ${r.status}: ${result.summary ?? 'done'}`,
          data: { output: result.output },
        },
      ];
    }
    if (result) {
      Object.assign(s, { output: result.output, summary: result.summary, details: result.details, error: undefined });
      return [
        succeed(r, step.id, now, owner, `${titleOf(step)}: ${result.summary ?? 'done'}`, {
          output: result.output,
          ...result.audit,
        }),
      ];
    }
    const f = failure as Failure;
    s.error = { message: f.message, code: f.code, retryable: f.retryable, at: now };
    if (f.retryable && attempt < maxAttempts) {
      const delay = f.retryAfterMs ?? backoffDelay(core.retryPolicy, attempt, core.random);
      s.status = 'pending';
      r.dueAt = now + delay;
      release(r, owner);
      return [
        {
          actor: owner,
          type: 'step_retrying',
          stepId: step.id,
          message: `${titleOf(step)}: try ${attempt} of ${maxAttempts} failed (${f.message}); retrying in ${formatDuration(delay)}`,
          emit: 'step_retrying',
          data: { code: f.code, ...f.audit },
        },
      ];
    }
    s.status = 'failed';
    s.finishedAt = now;
    const why = f.retryable ? `${f.message} (gave up after ${attempt} tries)` : f.message;
    return [
      {
        actor: owner,
        type: 'step_failed',
        stepId: step.id,
        message: `${titleOf(step)} failed: ${why}`,
        emit: 'step_failed',
        data: { code: f.code, ...f.audit },
      },
      finish(r, 'failed', `${titleOf(step)} failed: ${why}`, now),
    ];
  });
}
