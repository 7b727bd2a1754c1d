import { backoffDelay } from '../backoff';
import {
  finish,
  release,
  scopeOf,
  succeed,
  titleOf,
  unchanged,
  type EngineCore,
  type Failure,
  type Note,
} from '../core';
import { classify, keepLease, kindFor, makeContext, parseInput } from '../step-context';
import type { ActionStepDef } from '../definition';
import { formatDuration } from '../duration';
import { LeaseLostError } from '../errors';
import { isTerminal, type Run, type StepState } from '../run';
import type { StepResult } from '../step';
import { resolveTemplate } from '../template';

/**
 * Claims an action step (a lease), runs its kind, and records the result, a retry or the failure.
 * The try stops (its signal aborts, its fenced writes fail) the moment its lease is lost or its
 * deadline passes; a stale try never records anything but what it did, for the audit.
 */
export async function runAction(core: EngineCore, run: Run, step: ActionStepDef): Promise<Run | undefined> {
  const { clock, owner, leaseMs, opts } = core;
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
  if (core.stopping) return undefined;
  const claimed = await core.commit(run, (r) => {
    if (!unchanged(r, cursor, step.id, before) || !core.mayTakeOver(r)) return null;
    const now = clock.now();
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
    r.leaseBeat = 0;
    r.dueAt = r.leaseUntil;
    const why = `runner ${previousOwner ?? '?'} did not renew its lease for ${formatDuration(leaseMs)}`;
    return [
      resumed
        ? {
            actor: owner,
            type: 'step_resumed',
            stepId: step.id,
            message: `${titleOf(step)}: resumed (try ${s.attempt}) after ${why}`,
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
  const s0 = claimed.steps[step.id] as StepState;
  const attempt = s0.attempt;
  const lease = keepLease(core, run.id, kind.timeoutMs ?? opts.stepTimeoutMs ?? 15 * 60_000);
  core.executing.set(run.id, lease);
  let result: StepResult<unknown> | undefined;
  let failure: Failure | undefined;
  try {
    const aborted = new Promise<never>((_, reject) =>
      lease.signal.addEventListener('abort', () => reject(lease.signal.reason), { once: true }),
    );
    aborted.catch(() => undefined);
    // A hung call does not hold the step past its deadline: the try is abandoned, and retried.
    result = await Promise.race([
      kind.run(input.value, makeContext(core, claimed, step.id, attempt, lease.signal, lease)),
      aborted,
    ]);
  } catch (err) {
    failure = classify(err);
    if (err instanceof LeaseLostError) failure = { ...failure, code: 'lease_lost' };
    opts.logger?.warn(
      { runId: run.id, stepId: step.id, attempt, err: failure.message, code: failure.code },
      'step failed',
    );
  } finally {
    lease.stop();
    core.executing.delete(run.id);
  }
  const tries = attempt - (s0.retryBase ?? 0);
  const maxAttempts = step.retry?.maxAttempts ?? opts.maxAttempts ?? 5;
  const record = (r: Run): Note[] | null => {
    const s = r.steps[step.id];
    const now = clock.now();
    if (!s) return null;
    if (s.attempt !== attempt || isTerminal(r.status) || r.leaseOwner !== owner) {
      // The run was cancelled or taken over while this try ran: keep on record what it did (AWS request ids too).
      const what = result ? (result.summary ?? 'done') : `failed: ${failure?.message}`;
      return [
        {
          actor: owner,
          type: 'step_late_result',
          stepId: step.id,
          message: `${titleOf(step)}: try ${attempt} ended after the workflow was ${r.status === 'running' ? 'taken over' : r.status}: ${what}`,
          data: {
            ...(result ? { output: result.output, ...result.audit } : { code: failure?.code, ...failure?.audit }),
          },
        },
      ];
    }
    if (result) {
      Object.assign(s, { output: result.output, summary: result.summary, details: result.details, error: undefined });
      release(r, owner);
      return [
        succeed(r, step.id, now, owner, `${titleOf(step)}: ${result.summary ?? 'done'}`, {
          output: result.output,
          ...result.audit,
        }),
      ];
    }
    const f = failure as Failure;
    s.error = { message: f.message, code: f.code, retryable: f.retryable, at: now };
    if (f.retryable && tries < maxAttempts) {
      const delay = f.retryAfterMs ?? backoffDelay(core.retryPolicy, tries, core.random);
      s.status = 'pending';
      r.dueAt = now + delay;
      release(r, owner);
      return [
        {
          actor: owner,
          type: 'step_retrying',
          stepId: step.id,
          message: `${titleOf(step)}: try ${tries} of ${maxAttempts} failed (${f.message}); retrying in ${formatDuration(delay)}`,
          emit: 'step_retrying',
          data: { code: f.code, ...f.audit },
        },
      ];
    }
    s.status = 'failed';
    s.finishedAt = now;
    const why = f.retryable ? `${f.message} (gave up after ${tries} tries)` : f.message;
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
  };
  try {
    return await core.commit(claimed, record);
  } catch (err) {
    // The result could not be stored (too big, say): fail the step on record rather than run it again.
    opts.logger?.error({ err, runId: run.id, stepId: step.id }, 'could not record the step result');
    result = undefined;
    failure = {
      message: `the result could not be stored (${(err as Error).message}); check the step's output, then retry`,
      code: 'result_not_stored',
      retryable: false,
    };
    return core.commit(claimed, record);
  }
}
