import { decideApproval, type DecisionOutcome } from './approval';
import { currentStep, finish, titleOf, type EngineCore } from './core';
import type { TaskStepDef, WorkflowDefinition } from './definition';
import { ConflictError, RunActionError } from './errors';
import type { Run } from './run';
import { createRunAdmin } from './run-admin';
import { createStart } from './start';
import { advanceInBackground } from './scheduler';

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

  return {
    ...createRunAdmin(core, requireRun),
    ...createStart(core, definitions, requireRun),
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
