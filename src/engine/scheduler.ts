import { currentStep, finish, release, scopeOf, succeedSkipped, titleOf, type EngineCore, type Mutator } from './core';
import {
  WorkflowDefinitionSchema,
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

const truthy = (v: unknown) => !(v === false || v === undefined || v === null || v === '' || v === 'false');

/** Finishes a run early (`finishWhen`), skips a step whose `when` is false, or finishes the run after the last step. */
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
  const early = run.definition.finishWhen;
  if ((st === undefined || st.status === 'pending') && early && truthy(resolveTemplate(early.when, scopeOf(run)))) {
    const cursor = run.cursor;
    const summary = String(resolveTemplate(early.summary, scopeOf(run)));
    return (r) => {
      if (r.cursor !== cursor || isTerminal(r.status)) return null;
      const now = core.clock.now();
      for (const rest of r.definition.steps.slice(r.cursor))
        r.steps[rest.id] = { status: 'skipped', attempt: 0, finishedAt: now };
      r.cursor = r.definition.steps.length;
      r.outcome = summary;
      return [finish(r, 'succeeded', summary, now)];
    };
  }
  if ((st === undefined || st.status === 'pending') && step.when !== undefined) {
    if (!truthy(resolveTemplate(step.when, scopeOf(run)))) {
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

/** Why this release cannot interpret a run's definition snapshot, if it cannot. */
function unreadableSnapshot(run: Run): string | undefined {
  const parsed = WorkflowDefinitionSchema.safeParse(run.definition);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return `its definition (${run.workflowId} v${run.workflowVersion}) is not one this version of the bot can run (${issue?.path.join('.')}: ${issue?.message}); deploy the version that started it, or cancel it`;
}

/** Does whatever is due for one run, as far as it can go now. */
export async function advance(core: EngineCore, runId: string): Promise<void> {
  const { clock } = core;
  let run = await core.store.get(runId);
  for (let i = 0; run && i < 100 && !core.stopping; i++) {
    const now = clock.now();
    if (isTerminal(run.status) || run.dueAt === undefined || run.dueAt > now) return;
    if (!core.mayTakeOver(run)) return;
    if (i === 0) {
      const why = unreadableSnapshot(run);
      if (why) {
        await core.commit(run, (r) =>
          isTerminal(r.status) ? null : [finish(r, 'failed', `Workflow ${r.id}: ${why}`, clock.now())],
        );
        return;
      }
    }
    const s = structural(core, run);
    run = s ? await core.commit(run, s) : await execute(core, run);
  }
}

/**
 * Failures of the engine itself on a run (not of a step): an item it cannot read, a write that
 * keeps failing. Such a run is tried again with a growing delay, and failed after a few times, so
 * it never holds back the others or retries for ever.
 */
function createPoisonGuard(core: EngineCore) {
  const failures = new Map<string, { count: number; next: number }>();
  const max = core.opts.maxEngineFailures ?? 5;
  return {
    /** Should this run be left alone for now? */
    resting: (runId: string) => (failures.get(runId)?.next ?? 0) > core.mono(),
    ok: (runId: string) => void failures.delete(runId),
    async failed(runId: string, err: unknown): Promise<void> {
      const f = failures.get(runId) ?? { count: 0, next: 0 };
      f.count++;
      f.next = core.mono() + Math.min(60_000, 1_000 * 2 ** f.count);
      failures.set(runId, f);
      const message = (err as Error)?.message ?? String(err);
      core.opts.logger?.error({ err, runId, failures: f.count }, 'advance failed');
      if (f.count < max) return;
      failures.delete(runId);
      const why = `the bot could not advance it ${f.count} times (${message}); it was stopped so it holds nothing`;
      try {
        const failed = await core.commit(runId, (r) =>
          isTerminal(r.status) ? null : [finish(r, 'failed', why, core.clock.now())],
        );
        if (failed) return;
      } catch {
        // unreadable or unwritable as a whole: mark it on the item's attributes only
      }
      await core.store
        .markBroken(runId, why)
        .catch((e: unknown) => core.opts.logger?.error({ err: e, runId }, 'could not mark a broken workflow'));
    },
  };
}

/** Advances `runId` in the background, logging (not throwing) what goes wrong. */
export function advanceInBackground(core: EngineCore, runId: string): void {
  void core.track(advance(core, runId).catch((err) => core.opts.logger?.error({ err, runId }, 'advance failed')));
}

/**
 * The due-work loop. `tick` does what is due now, a few runs at a time, and returns when they are
 * done (tests, Lambda). `startLoop` keeps a refilling pool instead: each run is advanced by at most
 * one worker of this process, a slow or hung run holds one slot only, and the others go on.
 */
export function createScheduler(core: EngineCore) {
  let loop: NodeJS.Timeout | undefined;
  const busy = new Set<string>();
  const poison = createPoisonGuard(core);
  const width = () => core.opts.concurrency ?? 8;

  function launch(id: string): Promise<void> {
    busy.add(id);
    return core
      .track(advance(core, id))
      .then(
        () => poison.ok(id),
        (err) => poison.failed(id, err),
      )
      .finally(() => busy.delete(id));
  }

  async function due(limit: number): Promise<string[]> {
    const ids = await core.store.listDue(core.clock.now(), limit);
    return ids.filter((id) => !busy.has(id) && !poison.resting(id));
  }

  async function tick(limit = 100): Promise<number> {
    if (core.stopping) return 0;
    const ids = await due(limit);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) await launch(ids[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(width(), ids.length) }, worker));
    return ids.length;
  }

  /** Fills free slots of the pool with due runs (does not wait for them); returns when to look next. */
  async function fill(): Promise<number | undefined> {
    if (core.stopping) return undefined;
    if (busy.size >= width()) return core.clock.now();
    const { due: ids, next } = await core.store.dueWork(core.clock.now(), 100);
    for (const id of ids) {
      if (busy.size >= width() || core.stopping) return core.clock.now();
      if (!busy.has(id) && !poison.resting(id)) void launch(id);
    }
    // Something was due: look again soon (a run whose lease this process is still watching, say).
    return ids.length ? core.clock.now() : next;
  }

  async function idle(): Promise<void> {
    while (core.inFlight.size) await Promise.allSettled([...core.inFlight]);
  }

  let filling = false;
  return {
    tick,
    idle,
    /**
     * Sleeps until the earliest due time it knows (the table's, and its own writes', see
     * `core.wake`), at most `idlePollMs` (other replicas' new work), and looks at most once per
     * `intervalMs`: an idle process asks DynamoDB every two minutes, not every second.
     */
    startLoop(intervalMs = 1000, idlePollMs = core.opts.idlePollMs ?? 120_000): void {
      if (loop) return;
      let wakeAt = Infinity;
      let lastLook = -Infinity;
      const arm = (at: number) => {
        const now = core.clock.now();
        const when = Math.max(at, lastLook + intervalMs, now);
        if (loop && when >= wakeAt) return;
        if (loop) clearTimeout(loop);
        wakeAt = when;
        loop = setTimeout(look, (when - now) / (core.clock.speed ?? 1));
        loop.unref();
      };
      const look = () => {
        wakeAt = Infinity;
        if (filling) return arm(core.clock.now() + intervalMs);
        filling = true;
        lastLook = core.clock.now();
        fill()
          .then(
            (next) => arm(Math.min(next ?? Infinity, lastLook + idlePollMs)),
            (err) => {
              core.opts.logger?.error({ err }, 'tick failed');
              arm(lastLook + intervalMs);
            },
          )
          .finally(() => (filling = false));
      };
      core.wake = (dueAt) => {
        if (!core.stopping) arm(dueAt);
      };
      arm(core.clock.now());
    },
    /**
     * Stops claiming work at once, waits for steps in progress up to `deadlineMs`, then abandons
     * the rest: their leases are released so another runner resumes them without waiting.
     */
    async stop(deadlineMs = 30_000): Promise<void> {
      if (loop) clearTimeout(loop);
      loop = undefined;
      core.wake = () => undefined;
      core.stopping = true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
      const outcome = await Promise.race([idle().then(() => 'done' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        for (const [runId, lease] of core.executing) {
          lease.lose(new Error('the bot is shutting down'));
          await core
            .commit(runId, (r) => {
              if (r.leaseOwner !== core.owner) return null;
              release(r, core.owner);
              r.dueAt = core.clock.now();
              return [
                {
                  actor: core.owner,
                  type: 'lease_released',
                  message: 'The bot shut down mid-step; another runner resumes it',
                },
              ];
            })
            .catch((err) => core.opts.logger?.warn({ err, runId }, 'could not release a lease at shutdown'));
        }
      }
      core.stopping = false;
    },
  };
}
