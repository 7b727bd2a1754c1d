import { backoffDelay } from '../backoff';
import { finish, nextDue, park, release, scopeOf, succeed, titleOf, unchanged, type EngineCore } from '../core';
import { classify, makeContext, parseInput } from '../step-context';
import type { ApprovalStepDef } from '../definition';
import { formatDuration, parseDuration } from '../duration';
import { diffPlans, hashPlan, planOf } from '../plan-hash';
import type { Run, StepState } from '../run';
import type { StepResult } from '../step';
import { resolveTemplate } from '../template';

/**
 * An approval gate: opens (bound to the plan's hash), reminds, expires, and once approved re-checks
 * the plan before anything changes; a changed plan voids the approvals.
 */
export async function runApproval(core: EngineCore, run: Run, step: ApprovalStepDef): Promise<Run | undefined> {
  const { clock, owner } = core;
  const before = run.steps[step.id];
  const cursor = run.cursor;
  const gate = step.approval;
  const now = clock.now();
  const status = before?.status ?? 'pending';
  const planStep = gate.plan ? run.definition.steps.find((s) => s.id === gate.plan) : undefined;
  if (status === 'pending') {
    return core.commit(run, (r) => {
      if (!unchanged(r, cursor, step.id, before)) return null;
      const t = clock.now();
      const planHash = gate.plan ? hashPlan(planOf(r.steps[gate.plan]?.output)) : undefined;
      const s: StepState = {
        status: 'awaiting_approval',
        attempt: 0,
        startedAt: t,
        openedAt: t,
        expiresAt: t + parseDuration(gate.expiresAfter),
        decisions: [],
        ...(planHash ? { planHash } : {}),
      };
      if (gate.remindEvery && t + parseDuration(gate.remindEvery) < (s.expiresAt as number))
        s.remindAt = t + parseDuration(gate.remindEvery);
      r.steps[step.id] = s;
      r.status = 'awaiting_approval';
      r.dueAt = nextDue(s);
      release(r, owner);
      const who = `${gate.minApprovals} approval${gate.minApprovals > 1 ? 's' : ''} from ${gate.approvers.join(', ')}`;
      return [
        {
          actor: owner,
          type: 'approval_requested',
          stepId: step.id,
          message: `${titleOf(step)}: waiting for ${who}${planHash ? ` on plan ${planHash}` : ''}`,
          emit: 'approval_requested',
        },
      ];
    });
  }
  if (status === 'awaiting_approval') {
    if (before?.expiresAt !== undefined && now >= before.expiresAt) {
      return core.commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const s = r.steps[step.id] as StepState;
        const t = clock.now();
        s.status = 'expired';
        s.finishedAt = t;
        const got = (s.decisions ?? []).filter((d) => d.verdict === 'approve').length;
        return [
          finish(
            r,
            'expired',
            `${titleOf(step)}: expired after ${gate.expiresAfter} with ${got} of ${gate.minApprovals} approvals; nothing was changed. Start a new request if it is still needed`,
            t,
          ),
        ];
      });
    }
    if (before?.remindAt !== undefined && now >= before.remindAt) {
      return core.commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const s = r.steps[step.id] as StepState;
        const t = clock.now();
        const next = t + parseDuration(gate.remindEvery as string);
        s.remindAt = next < (s.expiresAt ?? Infinity) ? next : undefined;
        r.dueAt = nextDue(s);
        const missing = gate.minApprovals - (s.decisions ?? []).filter((d) => d.verdict === 'approve').length;
        const left = s.expiresAt !== undefined ? `; it expires in ${formatDuration(s.expiresAt - t)}` : '';
        return [
          {
            actor: owner,
            type: 'approval_reminder',
            stepId: step.id,
            message: `${titleOf(step)}: still waiting for ${missing} more approval${missing > 1 ? 's' : ''} from ${gate.approvers.join(', ')}${left}`,
            emit: 'approval_reminder',
          },
        ];
      });
    }
    return park(core, run, step.id, before);
  }
  if (status !== 'approved') return undefined;
  // The gate opened: before anything changes, check that the plan the approvers saw still holds.
  if (planStep && 'action' in planStep) {
    const kind = core.registry.get(planStep.action);
    const input = kind ? parseInput(kind, resolveTemplate(planStep.with, scopeOf(run))) : undefined;
    if (!kind || !input?.ok)
      return core.commit(run, (r) => [
        finish(
          r,
          'failed',
          `Could not re-check the plan of ${titleOf(step)}: ${input && !input.ok ? input.message : 'kind not registered'}`,
          clock.now(),
        ),
      ]);
    let fresh: StepResult<unknown>;
    try {
      fresh = await kind.run(
        input.value,
        makeContext(core, run, planStep.id, (run.steps[planStep.id]?.attempt ?? 1) + 1),
      );
    } catch (err) {
      const f = classify(err);
      return core.commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        if (!f.retryable) {
          return [
            {
              actor: owner,
              type: 'plan_check_failed',
              stepId: step.id,
              message: `Re-checking the plan failed: ${f.message}`,
              emit: 'step_failed',
            },
            finish(r, 'failed', `Re-checking the plan failed: ${f.message}`, clock.now()),
          ];
        }
        r.dueAt = clock.now() + (f.retryAfterMs ?? backoffDelay(core.retryPolicy, 1, core.random));
        return [
          {
            actor: owner,
            type: 'plan_check_retry',
            stepId: step.id,
            message: `Re-checking the plan failed (${f.message}); trying again`,
          },
        ];
      });
    }
    const newHash = hashPlan(planOf(fresh.output));
    if (newHash !== before?.planHash) {
      return core.commit(run, (r) => {
        if (!unchanged(r, cursor, step.id, before)) return null;
        const t = clock.now();
        const changes = diffPlans(planOf(r.steps[planStep.id]?.output), planOf(fresh.output));
        const ps = r.steps[planStep.id] as StepState;
        Object.assign(ps, { output: fresh.output, summary: fresh.summary, details: fresh.details });
        const s = r.steps[step.id] as StepState;
        Object.assign(s, {
          status: 'awaiting_approval',
          decisions: [],
          planHash: newHash,
          openedAt: t,
          expiresAt: t + parseDuration(gate.expiresAfter),
          replans: (s.replans ?? 0) + 1,
        });
        r.status = 'awaiting_approval';
        r.dueAt = s.expiresAt;
        release(r, owner);
        return [
          {
            actor: owner,
            type: 'plan_changed',
            stepId: step.id,
            message: `The plan changed since it was approved (${before?.planHash} → ${newHash}); approvals are void, please review again. Changes: ${changes.join('; ')}`,
            emit: 'plan_changed',
            data: { changes },
          },
          {
            actor: owner,
            type: 'approval_requested',
            stepId: step.id,
            message: `${titleOf(step)}: waiting for approval of plan ${newHash}`,
            emit: 'approval_requested',
          },
        ];
      });
    }
  }
  return core.commit(run, (r) => {
    if (!unchanged(r, cursor, step.id, before)) return null;
    const s = r.steps[step.id] as StepState;
    const by = (s.decisions ?? []).filter((d) => d.verdict === 'approve').map((d) => d.user);
    return [
      succeed(
        r,
        step.id,
        clock.now(),
        owner,
        `${titleOf(step)}: approved by ${by.join(', ')}${s.planHash ? ` (plan ${s.planHash} re-checked, unchanged)` : ''}`,
      ),
    ];
  });
}
