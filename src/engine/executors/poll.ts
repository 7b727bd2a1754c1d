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
import { classify, kindFor, makeContext, parseInput } from '../step-context';
import type { PollStepDef } from '../definition';
import { formatDuration, parseDuration } from '../duration';
import type { Run, StepState } from '../run';
import type { StepResult } from '../step';
import { resolveTemplate } from '../template';

/** Asks a read-only check once and records what it saw: done, wait longer (backing off), or time out. */
export async function runPoll(core: EngineCore, run: Run, step: PollStepDef): Promise<Run | undefined> {
  const { clock, owner, opts } = core;
  const kind = kindFor(core, run, step.poll.check);
  if (Array.isArray(kind)) return core.commit(run, () => kind);
  const before = run.steps[step.id];
  const cursor = run.cursor;
  const now = clock.now();
  const startedAt = before?.startedAt ?? now;
  const p = step.poll;
  // Past the timeout, the check is still asked once more (the bot may have been down): it fails only if the condition still does not hold.
  const timedOut = now - startedAt > parseDuration(p.timeout);
  const timeout = (r: Run, t: number): Note[] => {
    const s = r.steps[step.id] as StepState;
    const msg = `${titleOf(step)}: still ${JSON.stringify(s.observed ?? null)} after ${p.timeout} (waiting for ${p.until.path} in ${p.until.in.join(', ')}); check the AWS console, then retry or cancel`;
    Object.assign(s, {
      status: 'failed',
      finishedAt: t,
      error: { message: msg, code: 'timeout', retryable: false, at: t },
    });
    return [
      { actor: owner, type: 'step_failed', stepId: step.id, message: msg, emit: 'step_failed' },
      finish(r, 'failed', msg, t),
    ];
  };
  const input = parseInput(kind, resolveTemplate(p.with, scopeOf(run)));
  let result: StepResult<unknown> | undefined;
  let failure: Failure | undefined;
  if (!input.ok) failure = { message: input.message, code: 'invalid_input', retryable: false };
  else {
    try {
      result = await kind.run(input.value, makeContext(core, run, step.id, (before?.polls ?? 0) + 1));
    } catch (err) {
      failure = classify(err);
    }
  }
  return core.commit(run, (r) => {
    if (!unchanged(r, cursor, step.id, before)) return null;
    if (!core.mayTakeOver(r)) return null;
    const t = clock.now();
    const s: StepState = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
    r.steps[step.id] = s;
    s.startedAt ??= t;
    release(r, owner);
    if (failure) {
      s.attempt += 1;
      s.error = { message: failure.message, code: failure.code, retryable: failure.retryable, at: t };
      if (timedOut) return timeout(r, t);
      const maxErrors = opts.maxPollErrors ?? 10;
      if (!failure.retryable || s.attempt >= maxErrors) {
        s.status = 'failed';
        s.finishedAt = t;
        const msg = `${titleOf(step)} failed: ${failure.message}`;
        return [
          { actor: owner, type: 'step_failed', stepId: step.id, message: msg, emit: 'step_failed' },
          finish(r, 'failed', msg, t),
        ];
      }
      const delay = failure.retryAfterMs ?? backoffDelay(core.retryPolicy, s.attempt, core.random);
      s.status = 'waiting';
      r.status = 'waiting';
      r.dueAt = t + delay;
      return [
        {
          actor: owner,
          type: 'poll_error',
          stepId: step.id,
          message: `${titleOf(step)}: check failed (${failure.message}); trying again in ${formatDuration(delay)}`,
        },
      ];
    }
    const output = (result as StepResult<unknown>).output;
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
      const what = result?.summary ?? `${p.until.path} is ${String(observed)}`;
      return [
        succeed(
          r,
          step.id,
          t,
          owner,
          `${titleOf(step)}: ${what} after ${formatDuration(t - s.startedAt)} and ${s.polls} checks`,
          { ...result?.audit },
        ),
      ];
    }
    if (timedOut) return timeout(r, t);
    const base = parseDuration(p.interval);
    const delay = Math.min(parseDuration(p.maxInterval), Math.round(base * 1.5 ** (s.polls - 1)));
    s.status = 'waiting';
    r.status = 'waiting';
    r.dueAt = t + delay;
    return changed
      ? [
          {
            actor: owner,
            type: 'step_waiting',
            stepId: step.id,
            message: `${titleOf(step)}: ${result?.summary ?? `${p.until.path} is ${String(observed)}`}; waiting for ${p.until.in.join(' or ')}`,
            emit: 'step_waiting',
          },
        ]
      : [];
  });
}
