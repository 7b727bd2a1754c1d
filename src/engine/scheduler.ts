import { currentStep, finish, scopeOf, succeedSkipped, titleOf, type EngineCore, type Mutator } from './core';
import {
  stepType,
  type ActionStepDef,
  type ApprovalStepDef,
  type PollStepDef,
  type StepDefinition,
  type TaskStepDef,
} from './definition';
import { runAction } from './executors/action';
import { runApproval } from './executors/approval';
import { runPoll } from './executors/poll';
import { runTask } from './executors/task';
import { isTerminal, type Run } from './run';
import { resolveTemplate } from './template';

/** Skips a step whose `when` is false, or finishes the run after the last step. */
function structural(core: EngineCore, run: Run): Mutator | undefined {
  const step = currentStep(run);
  if (!step) {
    return (r) => {
      if (r.cursor < r.definition.steps.length || isTerminal(r.status)) return null;
      return [
        finish(r, 'succeeded', `${r.definition.title}: all ${r.definition.steps.length} steps done`, core.clock.now()),
      ];
    };
  }
  const st = run.steps[step.id];
  if ((st === undefined || st.status === 'pending') && step.when !== undefined) {
    const value = resolveTemplate(step.when, scopeOf(run));
    if (value === false || value === undefined || value === null || value === '' || value === 'false') {
      const cursor = run.cursor;
      return (r) => {
        if (r.cursor !== cursor) return null;
        return [
          succeedSkipped(r, step.id, core.clock.now(), core.owner, `${titleOf(step)}: skipped (${step.when} is false)`),
        ];
      };
    }
  }
  return undefined;
}

/** Runs the current step of `run` with the executor of its type. */
function execute(core: EngineCore, run: Run): Promise<Run | undefined> {
  const step = currentStep(run) as StepDefinition;
  switch (stepType(step)) {
    case 'action':
      return runAction(core, run, step as ActionStepDef);
    case 'poll':
      return runPoll(core, run, step as PollStepDef);
    case 'approval':
      return runApproval(core, run, step as ApprovalStepDef);
    case 'task':
      return runTask(core, run, step as TaskStepDef);
  }
}

/** Does whatever is due for one run, as far as it can go now. */
export async function advance(core: EngineCore, runId: string): Promise<void> {
  const { clock, owner } = core;
  let run = await core.store.get(runId);
  for (let i = 0; run && i < 100; i++) {
    const now = clock.now();
    if (isTerminal(run.status) || run.dueAt === undefined || run.dueAt > now) return;
    if (run.leaseOwner && run.leaseOwner !== owner && (run.leaseUntil ?? 0) > now) return;
    const s = structural(core, run);
    run = s ? await core.commit(run, s) : await execute(core, run);
  }
}

/** Advances `runId` in the background, logging (not throwing) what goes wrong. */
export function advanceInBackground(core: EngineCore, runId: string): void {
  void core.track(advance(core, runId).catch((err) => core.opts.logger?.error({ err, runId }, 'advance failed')));
}

/** The due-work loop: `tick` does what is due now, a few runs at a time; `startLoop` ticks on an interval. */
export function createScheduler(core: EngineCore) {
  let loop: NodeJS.Timeout | undefined;
  let ticking = false;
  async function tick(limit = 100): Promise<number> {
    const ids = await core.store.listDue(core.clock.now(), limit);
    const width = core.opts.concurrency ?? 8;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        await core
          .track(advance(core, id))
          .catch((err) => core.opts.logger?.error({ err, runId: id }, 'advance failed'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, ids.length) }, worker));
    return ids.length;
  }
  async function idle(): Promise<void> {
    while (core.inFlight.size) await Promise.allSettled([...core.inFlight]);
  }
  return {
    tick,
    idle,
    startLoop(intervalMs = 1000): void {
      if (loop) return;
      loop = setInterval(() => {
        if (ticking) return;
        ticking = true;
        tick()
          .catch((err) => core.opts.logger?.error({ err }, 'tick failed'))
          .finally(() => {
            ticking = false;
          });
      }, intervalMs);
    },
    async stop(): Promise<void> {
      if (loop) clearInterval(loop);
      loop = undefined;
      await idle();
    },
  };
}
