import { currentStep, finish, titleOf, type EngineCore, type Note } from './core';
import type { ApprovalStepDef, StepDefinition } from './definition';
import { parseDuration } from './duration';
import { RunActionError } from './errors';
import { isTerminal, type Run } from './run';
import { advanceInBackground } from './scheduler';

/** Cancel and retry: for the run's requester and its approvers, and a retry re-approves a stale approval. */
export function createRunAdmin(core: EngineCore, requireRun: (runId: string) => Promise<Run>) {
  const { clock, directory } = core;

  /** Cancel and retry are for the run's requester and its approvers (who decided, or who may decide). */
  async function requireActor(run: Run, user: string, what: string): Promise<void> {
    if (user === run.requester) return;
    const gates = run.definition.steps.flatMap((s) => ('approval' in s ? [s] : []));
    if (gates.some((g) => run.steps[g.id]?.decisions?.some((d) => d.user === user))) return;
    if (await directory.isInRole(user, [...new Set(gates.flatMap((g) => g.approval.approvers))], run.scope)) return;
    throw new RunActionError(`Only the requester of ${run.id} or one of its approvers may ${what} it`, 'not_allowed');
  }

  /**
   * The approval gate a retry must go through again, if any: the last gate before the failed step,
   * once its approval is older than the gate's lifetime (expiresAfter). Its plan step runs again too.
   */
  function staleGate(run: Run, now: number): { gateIndex: number; from: number } | undefined {
    for (let i = run.cursor - 1; i >= 0; i--) {
      const step = run.definition.steps[i];
      if (!step || !('approval' in step)) continue;
      const approvedAt = run.steps[step.id]?.finishedAt ?? 0;
      if (now - approvedAt <= parseDuration(step.approval.expiresAfter)) return undefined;
      const planIndex = step.approval.plan ? run.definition.steps.findIndex((s) => s.id === step.approval.plan) : -1;
      return { gateIndex: i, from: planIndex >= 0 ? planIndex : i };
    }
    return undefined;
  }

  return {
    /** Cancels a run that has not finished. */
    async cancel(req: { runId: string; user: string; reason?: string }): Promise<Run> {
      const run = await requireRun(req.runId);
      if (isTerminal(run.status))
        throw new RunActionError(`Workflow ${run.id} already ended (${run.status}); nothing to cancel`, 'finished');
      await requireActor(run, req.user, 'cancel');
      const saved = await core.commit(run, (r) => {
        if (isTerminal(r.status)) return null;
        const step = currentStep(r);
        if (step) {
          const s = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
          if (s.status !== 'running') s.status = 'cancelled';
          r.steps[step.id] = s;
        }
        return [
          finish(
            r,
            'cancelled',
            `Cancelled by ${req.user}${req.reason ? `: ${req.reason}` : ''}`,
            clock.now(),
            req.user,
          ),
        ] as Note[];
      });
      if (!saved) throw new RunActionError(`Workflow ${run.id} ended before it could be cancelled`, 'finished');
      return saved;
    },

    /** Retries a failed run from the step that failed. Re-takes the instance lock. */
    async retry(req: { runId: string; user: string }): Promise<Run> {
      const run = await requireRun(req.runId);
      if (run.status !== 'failed')
        throw new RunActionError(`Only failed workflows can be retried; ${run.id} is ${run.status}`, 'not_failed');
      await requireActor(run, req.user, 'retry');
      const saved = await core.commit(
        run,
        (r) => {
          if (r.status !== 'failed') return null;
          // An approval older than its gate's lifetime does not carry a retry: preflight and the gate run again.
          const stale = staleGate(r, clock.now());
          if (stale) {
            const redo = r.definition.steps.slice(stale.from, r.cursor + 1);
            for (const st of redo) {
              const s = r.steps[st.id];
              if (s)
                r.steps[st.id] = {
                  status: 'pending',
                  attempt: s.attempt,
                  retryBase: s.attempt,
                  ...(s.checkpoint === undefined ? {} : { checkpoint: s.checkpoint }),
                };
            }
            r.cursor = stale.from;
            r.status = 'running';
            r.error = undefined;
            r.finishedAt = undefined;
            r.dueAt = clock.now();
            const gate = r.definition.steps[stale.gateIndex] as StepDefinition;
            return [
              {
                actor: req.user,
                type: 'run_retried',
                stepId: gate.id,
                message: `${req.user} retried; the approval is older than ${(gate as ApprovalStepDef).approval.expiresAfter}, so the plan is checked and approved again`,
                emit: 'step_started',
              },
            ];
          }
          const step = currentStep(r);
          if (step) {
            const s = r.steps[step.id] ?? { status: 'pending', attempt: 0 };
            // Attempts keep counting (each step's "did an earlier try act?" check relies on it); tries for maxAttempts count from here.
            Object.assign(s, { status: 'pending', retryBase: s.attempt, startedAt: undefined, polls: undefined });
            if ('poll' in step) s.attempt = 0; // a poll's attempt counts consecutive failed checks
            r.steps[step.id] = s;
          }
          r.status = 'running';
          r.error = undefined;
          r.finishedAt = undefined;
          r.dueAt = clock.now();
          return [
            {
              actor: req.user,
              type: 'run_retried',
              stepId: step?.id,
              message: `${req.user} retried from ${step ? titleOf(step) : 'the end'}`,
              emit: 'step_started',
            },
          ];
        },
        true,
      );
      if (!saved)
        throw new RunActionError(`Workflow ${run.id} changed before it could be retried; try again`, 'conflict');
      advanceInBackground(core, saved.id);
      return saved;
    },
  };
}
