import { randomBytes } from 'node:crypto';
import { decideApproval, type DecisionOutcome } from './approval';
import { logNote } from './audit-log';
import { currentStep, finish, scopeOf, titleOf, type EngineCore } from './core';
import type { TaskStepDef, WorkflowDefinition } from './definition';
import type { LockHolder } from './ports';
import { ConflictError, EngineInputError, LockHeldError, RunActionError } from './errors';
import { validateInputs } from './inputs';
import { heldLocks, isTerminal, type Run } from './run';
import { createRunAdmin } from './run-admin';
import { advanceInBackground } from './scheduler';
import { resolveTemplate, type TemplateScope } from './template';

export interface StartRequest {
  workflowId: string;
  input: Record<string, unknown>;
  requester: string;
  reason?: string;
  /** A change ticket reference, shown and audited with the run. */
  ticket?: string;
  /** Idempotency key of the request (e.g. Slack's trigger id): a repeat returns the first run. */
  requestId?: string;
  meta?: Record<string, unknown>;
}

export interface DecisionRequest {
  runId: string;
  user: string;
  verdict: 'approve' | 'reject';
  reason?: string;
  planHash?: string;
  stepId?: string;
}

export interface DecisionResult {
  /** try_again: the decision was not saved (the run changed too often at once). */
  outcome: DecisionOutcome | 'not_found' | 'try_again';
  message: string;
  run?: Run;
}

const newRunId = (now: number): string =>
  `${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;

/** What people do to runs: start, approve or reject, confirm a task, cancel, retry. */
export function createCommands(core: EngineCore, definitions: ReadonlyMap<string, WorkflowDefinition>) {
  const { store, clock, directory } = core;
  /** Who may confirm a task: its assignees, and the requester when the task allows it. */
  const mayConfirm = async (step: TaskStepDef, run: Run, user: string) =>
    (step.task.allowRequester && user === run.requester) || directory.isInRole(user, step.task.assignees, run.scope);

  async function requireRun(runId: string): Promise<Run> {
    const run = await store.get(runId);
    if (!run) throw new RunActionError(`There is no workflow ${runId}; /idc workflows lists them`, 'not_found');
    return run;
  }

  /** The locks a run of `def` takes, from its scope (what `lock` and `regionLock` name). */
  const lockKeysOf = (def: WorkflowDefinition, scope: TemplateScope) => ({
    lockKey: def.lock ? String(resolveTemplate(def.lock, scope)) : undefined,
    regionLockKey: def.regionLock ? String(resolveTemplate(def.regionLock.key, scope)) : undefined,
  });

  /**
   * Locks a start read as held by a live run in the last two seconds, by key: a start asked for again
   * meanwhile is refused without reading (heldNow). Forgotten when this process sees the holder give
   * the lock up; another process's release is seen within two seconds (the refusal names the run).
   */
  const seenHeld = new Map<string, { holder: LockHolder; at: number }>();
  const HELD_FOR_MS = 2_000;
  /** Reads a lock again behind a refusal given from memory, so that one asked for steadily stays known. */
  const rechecking = new Set<string>();
  const recheck = (key: string) => {
    if (rechecking.has(key)) return;
    rechecking.add(key);
    store
      .liveLockHolder(key)
      .then(
        (holder) => (holder ? seenHeld.set(key, { holder, at: clock.now() }) : seenHeld.delete(key)),
        () => seenHeld.delete(key), // unknown: start reads it
      )
      .finally(() => rechecking.delete(key));
  };
  core.listeners.push(({ run }) => {
    const held = isTerminal(run.status) ? [] : heldLocks(run);
    for (const [key, seen] of seenHeld) if (seen.holder.runId === run.id && !held.includes(key)) seenHeld.delete(key);
  });

  return {
    ...createRunAdmin(core, requireRun),
    /**
     * Why `start(req)` would be refused, when this process read its lock held a moment ago (no I/O;
     * the input is checked as start checks it). Undefined: not known, and start decides.
     */
    heldNow(req: Pick<StartRequest, 'workflowId' | 'input' | 'requester' | 'requestId'>): LockHeldError | undefined {
      const def = definitions.get(req.workflowId);
      if (!def || (!def.lock && !def.regionLock)) return undefined;
      let input: Record<string, unknown>;
      try {
        input = validateInputs(def, req.input);
      } catch {
        return undefined; // start says what is wrong
      }
      const keys = lockKeysOf(def, { input, steps: {}, run: { id: '', requester: req.requester } });
      for (const key of [keys.lockKey, keys.regionLockKey]) {
        const seen = key === undefined ? undefined : seenHeld.get(key);
        const age = seen ? clock.now() - seen.at : Infinity;
        if (!key || !seen || age >= HELD_FOR_MS || seen.holder.requestId === req.requestId) continue;
        if (age >= HELD_FOR_MS / 2) recheck(key);
        return new LockHeldError(key, seen.holder.runId);
      }
      return undefined;
    },
    /** Starts a workflow. Throws EngineInputError (bad input) or LockHeldError (instance busy). */
    async start(req: StartRequest): Promise<Run> {
      const def = definitions.get(req.workflowId);
      if (!def)
        throw new EngineInputError(
          `Unknown workflow "${req.workflowId}"; known: ${[...definitions.keys()].join(', ')}`,
          'unknown_workflow',
        );
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
        ...(req.ticket ? { ticket: req.ticket } : {}),
        createdAt: now,
        updatedAt: now,
        version: 1,
        cursor: 0,
        steps: {},
        dueAt: now,
        meta: req.meta ?? {},
      };
      if (def.scope) run.scope = String(resolveTemplate(def.scope, scopeOf(run)));
      const { lockKey, regionLockKey } = lockKeysOf(def, scopeOf(run));
      const lockKeys = [lockKey, regionLockKey].filter((k): k is string => Boolean(k));
      if (lockKeys.length) {
        // A small read spares the whole write when another change holds a lock (people asking at the
        // same moment share it). The holder may be this very request's run, delivered again; a
        // repeat of a request whose run holds no lock any more is caught by the write itself.
        for (const key of lockKeys) {
          const holder = await store.liveLockHolder(key);
          if (!holder) {
            seenHeld.delete(key);
            continue;
          }
          const repeat =
            req.requestId !== undefined &&
            (holder.requestId
              ? holder.requestId === req.requestId
              : (await store.requestRun(req.requestId)) === holder.runId); // a lock that does not say
          if (repeat) return requireRun(holder.runId);
          seenHeld.set(key, { holder, at: clock.now() });
          throw new LockHeldError(key, holder.runId);
        }
        if (lockKey) run.lockKey = lockKey;
        if (regionLockKey) run.regionLockKey = regionLockKey;
      }
      const message = `${def.title} requested by ${req.requester}${req.reason ? `: ${req.reason}` : ''}${req.ticket ? ` (ticket ${req.ticket})` : ''}`;
      const result = await store.create(
        run,
        [
          {
            runId: id,
            seq: 1,
            at: now,
            actor: req.requester,
            type: 'run_started',
            message,
            data: { input, ...(req.ticket ? { ticket: req.ticket } : {}) },
          },
        ],
        { lockKeys, requestId: req.requestId },
      );
      if (!result.created) return requireRun(result.runId);
      core.wake(now);
      logNote(
        core.opts.logger,
        run,
        { actor: req.requester, type: 'run_started', message },
        {
          input,
          triggerId: req.requestId,
          channel: req.meta?.channel,
        },
      );
      core.emit({ type: 'run_started', run, message });
      return run;
    },

    /** Records an approval or rejection from `user` on the run's open gate. Never throws for a refused click. */
    async decide(req: DecisionRequest): Promise<DecisionResult> {
      const run = await store.get(req.runId);
      if (!run) return { outcome: 'not_found', message: `There is no workflow ${req.runId}.` };
      const step = currentStep(run);
      if (!step || !('approval' in step) || (req.stepId !== undefined && req.stepId !== step.id)) {
        const expired = run.status === 'expired';
        return {
          outcome: expired ? 'expired' : 'not_open',
          message: expired
            ? 'This request has expired; ask the requester to start it again.'
            : 'This request is not waiting for approval any more.',
          run,
        };
      }
      const allowed = await directory.isInRole(req.user, step.approval.approvers, run.scope);
      let answer: DecisionResult = {
        outcome: 'not_open',
        message: 'This request is not waiting for approval any more.',
        run,
      };
      let saved: Run | undefined;
      try {
        saved = await core.commit(run, (r) => {
          const cur = currentStep(r);
          const s = r.steps[step.id];
          if (!s || cur?.id !== step.id) {
            answer = { outcome: 'not_open', message: 'This request is not waiting for approval any more.', run: r };
            return null;
          }
          const now = clock.now();
          const result = decideApproval(step.approval, s, {
            user: req.user,
            verdict: req.verdict,
            now,
            requester: r.requester,
            allowed,
            planHash: req.planHash,
            reason: req.reason,
          });
          answer = { outcome: result.outcome, message: result.message, run: r };
          if (!['recorded', 'opened', 'rejected'].includes(result.outcome)) return null;
          s.decisions = result.decisions;
          const approvals = result.decisions.filter((d) => d.verdict === 'approve').length;
          const because = req.reason ? `: ${req.reason}` : '';
          if (result.outcome === 'rejected') {
            s.status = 'rejected';
            s.finishedAt = now;
            return [
              {
                actor: req.user,
                type: 'approval_rejected',
                stepId: step.id,
                message: `${req.user} rejected${because}`,
                emit: 'approval_recorded',
                data: { reason: req.reason },
              },
              finish(r, 'rejected', `Rejected by ${req.user}${because}`, now, req.user),
            ];
          }
          if (result.outcome === 'opened') {
            s.status = 'approved';
            r.status = 'running';
            r.dueAt = now;
          }
          return [
            {
              actor: req.user,
              type: 'approval_granted',
              stepId: step.id,
              message: `${req.user} approved plan ${s.planHash ?? '-'} (${approvals} of ${step.approval.minApprovals})`,
              emit: 'approval_recorded',
            },
          ];
        });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // Too many changes at once: the click was not saved, and the person must know.
        return {
          outcome: 'try_again',
          message: 'Your decision was not saved because the workflow was busy; press the button again.',
          run,
        };
      }
      if (saved) {
        answer.run = saved;
        if (answer.outcome === 'opened') advanceInBackground(core, saved.id);
      }
      return answer;
    },

    /** What the run waits for from `user` now, by the rules of decide and confirmTask (records nothing). */
    async waitingFor(run: Run, user: string): Promise<'gate' | 'task' | undefined> {
      const step = currentStep(run);
      const st = step && run.steps[step.id];
      if (!step || !st) return undefined;
      if ('approval' in step) {
        const { outcome } = decideApproval(step.approval, st, {
          user,
          verdict: 'approve',
          now: clock.now(),
          requester: run.requester,
          allowed: await directory.isInRole(user, step.approval.approvers, run.scope),
        });
        return outcome === 'recorded' || outcome === 'opened' ? 'gate' : undefined;
      }
      return 'task' in step && st.status === 'awaiting_task' && (await mayConfirm(step, run, user))
        ? 'task'
        : undefined;
    },

    /** A person confirms the run's open human task. */
    async confirmTask(req: {
      runId: string;
      user: string;
      stepId?: string;
    }): Promise<{ ok: boolean; message: string; run?: Run }> {
      const run = await store.get(req.runId);
      if (!run) return { ok: false, message: `There is no workflow ${req.runId}.` };
      const step = currentStep(run);
      if (
        !step ||
        !('task' in step) ||
        run.steps[step.id]?.status !== 'awaiting_task' ||
        (req.stepId !== undefined && req.stepId !== step.id)
      ) {
        return { ok: false, message: 'This task is not open any more.', run };
      }
      if (!(await mayConfirm(step, run, req.user)))
        return {
          ok: false,
          message: `Only ${step.task.assignees.join(', ')}${step.task.allowRequester ? ' or the requester' : ''} may confirm this task.`,
          run,
        };
      const saved = await core.commit(run, (r) => {
        const s = r.steps[step.id];
        if (currentStep(r)?.id !== step.id || s?.status !== 'awaiting_task') return null;
        s.status = 'confirmed';
        s.confirmedBy = req.user;
        const asserted = (s.output as { confirm?: unknown } | undefined)?.confirm;
        r.status = 'running';
        r.dueAt = clock.now();
        return [
          {
            actor: req.user,
            type: 'task_confirmed',
            stepId: step.id,
            message: `${req.user} confirmed: ${titleOf(step)}${typeof asserted === 'string' ? ` (${asserted})` : ''}`,
            emit: 'task_confirmed',
          },
        ];
      });
      if (!saved) return { ok: false, message: 'This task is not open any more.', run };
      advanceInBackground(core, saved.id);
      return { ok: true, message: 'Thanks, recorded. The workflow goes on.', run: saved };
    },

    /** Stores adapter data on the run (e.g. the Slack message ts). */
    setMeta(runId: string, patch: Record<string, unknown>): Promise<Run | undefined> {
      return core.commit(runId, (r) => {
        Object.assign(r.meta, patch);
        return [];
      });
    },
  };
}
