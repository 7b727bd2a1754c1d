import type { ApprovalStepDef } from './definition';
import type { Decision, StepState } from './run';

export type DecisionOutcome =
  | 'recorded' // counted; more approvals needed
  | 'opened' // enough approvals: the gate opens
  | 'rejected' // a rejection closes the gate and ends the workflow
  | 'not_open'
  | 'expired'
  | 'not_allowed'
  | 'self_approval'
  | 'duplicate'
  | 'stale_plan';

export interface DecisionRequest {
  user: string;
  verdict: 'approve' | 'reject';
  now: number;
  requester: string;
  /** Does the configuration put `user` in one of the gate's approver roles? */
  allowed: boolean;
  /** The plan hash the person saw (from the button); must match the gate's. */
  planHash?: string;
  reason?: string;
}

const MESSAGES: Record<DecisionOutcome, string> = {
  recorded: 'Your approval is recorded.',
  opened: 'Approved: the workflow goes on.',
  rejected: 'Rejected: the workflow is stopped.',
  not_open: 'This request is not waiting for approval any more.',
  expired: 'This request has expired; ask the requester to start it again.',
  not_allowed: 'You are not one of the approvers of this request.',
  self_approval: 'You asked for this change, so you cannot approve it yourself; another approver must.',
  duplicate: 'You have already decided on this request; each person counts once.',
  stale_plan: 'The plan changed since this message was posted; review the new plan and decide on it.',
};

/** Pure approval policy: what a click does to a gate. Returns the outcome and the new decisions. */
export function decideApproval(
  gate: ApprovalStepDef['approval'],
  state: StepState,
  req: DecisionRequest,
): { outcome: DecisionOutcome; message: string; decisions: Decision[] } {
  const decisions = state.decisions ?? [];
  const out = (outcome: DecisionOutcome, next = decisions) => ({
    outcome,
    message: MESSAGES[outcome],
    decisions: next,
  });
  if (state.status !== 'awaiting_approval') return out(state.status === 'expired' ? 'expired' : 'not_open');
  if (state.expiresAt !== undefined && req.now >= state.expiresAt) return out('expired');
  if (!req.allowed) return out('not_allowed');
  if (req.planHash !== undefined && state.planHash !== undefined && req.planHash !== state.planHash)
    return out('stale_plan');
  if (decisions.some((d) => d.user === req.user)) return out('duplicate');
  if (req.verdict === 'approve' && req.user === req.requester && !gate.allowRequester) return out('self_approval');
  const decision: Decision = {
    user: req.user,
    verdict: req.verdict,
    at: req.now,
    ...(state.planHash ? { planHash: state.planHash } : {}),
    ...(req.reason ? { reason: req.reason } : {}),
  };
  const next = [...decisions, decision];
  if (req.verdict === 'reject') return out('rejected', next);
  const approvals = next.filter((d) => d.verdict === 'approve').length;
  return out(approvals >= gate.minApprovals ? 'opened' : 'recorded', next);
}
