import { finish, park, release, scopeOf, succeed, titleOf, unchanged, type EngineCore } from '../core';
import type { TaskStepDef } from '../definition';
import { parseDuration } from '../duration';
import type { Run, StepState } from '../run';
import { resolveTemplate } from '../template';

/** A human task: opens with its instructions, waits for a person to confirm it, or expires. */
export async function runTask(core: EngineCore, run: Run, step: TaskStepDef): Promise<Run | undefined> {
  const { clock, owner } = core;
  const before = run.steps[step.id];
  const cursor = run.cursor;
  const status = before?.status ?? 'pending';
  const now = clock.now();
  if (status === 'pending') {
    return core.commit(run, (r) => {
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
        output: {
          title: resolveTemplate(step.task.title, scope),
          instructions: resolveTemplate(step.task.instructions, scope),
          ...(step.task.confirm ? { confirm: resolveTemplate(step.task.confirm, scope) } : {}),
        },
      };
      r.status = 'awaiting_task';
      r.dueAt = expiresAt;
      release(r, owner);
      return [
        {
          actor: owner,
          type: 'task_requested',
          stepId: step.id,
          message: `${titleOf(step)}: waiting for ${step.task.assignees.join(', ')} to confirm "${String(resolveTemplate(step.task.title, scope))}"`,
          emit: 'task_requested',
        },
      ];
    });
  }
  if (status === 'awaiting_task') {
    if (before?.expiresAt !== undefined && now >= before.expiresAt) {
      return core.commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const t = clock.now();
        Object.assign(r.steps[step.id] as StepState, { status: 'expired', finishedAt: t });
        return [
          finish(r, 'expired', `${titleOf(step)}: nobody confirmed the task within ${step.task.expiresAfter}`, t),
        ];
      });
    }
    return park(core, run, step.id, before);
  }
  if (status !== 'confirmed') return undefined;
  return core.commit(run, (r) => {
    if (!unchanged(r, cursor, step.id, before)) return null;
    const s = r.steps[step.id] as StepState;
    return [succeed(r, step.id, clock.now(), owner, `${titleOf(step)}: confirmed by ${s.confirmedBy ?? '?'}`)];
  });
}
