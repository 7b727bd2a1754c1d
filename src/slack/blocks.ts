import type { types } from '@slack/bolt';
import { formatDuration, type Run } from '../engine';

/** Slack mrkdwn escaping: user text can never ping a channel or inject a link. */
export const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (text: string, max = 2900): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export const ACTIONS = { approve: 'run.approve', reject: 'run.reject', taskDone: 'task.done' } as const;

export const ICON: Record<string, string> = {
  pending: '⚪',
  running: '🔄',
  waiting: '⏳',
  awaiting_approval: '🟡',
  approved: '🟢',
  awaiting_task: '🙋',
  confirmed: '🟢',
  succeeded: '✅',
  skipped: '⏭️',
  failed: '❌',
  rejected: '⛔',
  expired: '⌛',
  cancelled: '🚫',
};

export type Block = Record<string, unknown>;
/** A time Slack shows in each reader's own time zone. */
export const slackTime = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{time}|${new Date(ms).toISOString()}>`;
/** A mrkdwn section, verbatim: Slack turns no bare URL or channel name in it into a link or a mention. */
export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: cut(text), verbatim: true },
});

interface PlanLike {
  changes?: string[];
  skips?: string[];
  confirmations?: string[];
}

const button = (action_id: string, text: string, value: string, style: 'primary' | 'danger'): Block => ({
  type: 'button',
  action_id,
  style,
  text: { type: 'plain_text', text },
  value,
});

/** Approve (behind Slack's confirm dialog) and Reject…: the same buttons on the message and the Home tab. */
export function gateActions(runId: string, stepId: string, planHash: string | undefined): Block {
  const value = JSON.stringify({ runId, stepId, planHash });
  const confirm = {
    title: { type: 'plain_text', text: 'Approve this change?' },
    text: { type: 'mrkdwn', text: `This lets the bot make the changes in the plan (\`${planHash ?? '-'}\`).` },
    confirm: { type: 'plain_text', text: 'Approve' },
    deny: { type: 'plain_text', text: 'Back' },
  };
  return {
    type: 'actions',
    block_id: `gate:${stepId}`,
    elements: [
      { ...button(ACTIONS.approve, 'Approve', value, 'primary'), confirm },
      button(ACTIONS.reject, 'Reject…', value, 'danger'),
    ],
  };
}

/** Done on a person's task; behind Slack's confirm dialog when the task says what Done asserts. */
export const taskActions = (runId: string, stepId: string, asserts?: string): Block => ({
  type: 'actions',
  block_id: `task:${stepId}`,
  elements: [
    {
      ...button(ACTIONS.taskDone, 'Done', JSON.stringify({ runId, stepId }), 'primary'),
      ...(asserts
        ? {
            confirm: {
              title: { type: 'plain_text', text: 'Is this done?' },
              text: { type: 'mrkdwn', text: esc(asserts.slice(0, 280)) },
              confirm: { type: 'plain_text', text: 'Yes, done' },
              deny: { type: 'plain_text', text: 'Back' },
            },
          }
        : {}),
    },
  ],
});

/** The one live message of a workflow: who, why, the plan, each step, and the buttons that apply now. */
export function buildRunMessage(run: Run): { text: string; blocks: Block[] } {
  const def = run.definition;
  const region = typeof run.input.region === 'string' ? run.input.region : '';
  const title = `${def.title}${region ? ` — ${region}` : ''}`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, 150) } },
    section(
      `${ICON[run.status] ?? ''} *${run.status.replace(/_/g, ' ')}* · requested by <@${run.requester}>${run.reason ? ` · _${esc(run.reason)}_` : ''}${run.ticket ? ` · ticket \`${esc(run.ticket)}\`` : ''}\nWorkflow \`${run.id}\``,
    ),
  ];
  const plan = (
    Object.values(run.steps).find((s) => (s.output as { plan?: unknown } | undefined)?.plan)?.output as
      { plan?: PlanLike } | undefined
  )?.plan;
  if (plan) {
    const list = (items: string[] | undefined) =>
      items?.length ? items.map((i) => `• ${esc(i)}`).join('\n') : '• nothing';
    blocks.push(section(`*Will change*\n${list(plan.changes)}`), section(`*Already done*\n${list(plan.skips)}`));
    if (plan.confirmations?.length) blocks.push(section(`*Approving confirms*\n${list(plan.confirmations)}`));
  }
  const lines = def.steps.map((step, i) => {
    const s = run.steps[step.id];
    const status = s?.status ?? (i < run.cursor ? 'succeeded' : 'pending');
    // A step still going shows when it started (Slack renders the time), so the message only changes when something happens.
    const took = s?.startedAt
      ? s.finishedAt
        ? ` · ${formatDuration(s.finishedAt - s.startedAt)}`
        : ` · since ${slackTime(s.startedAt)}`
      : '';
    const note =
      s?.error && status !== 'succeeded' ? ` — ${esc(s.error.message)}` : s?.summary ? ` — ${esc(s.summary)}` : '';
    return `${ICON[status] ?? '⚪'} ${esc(step.title ?? step.id)}${took}${cut(note, 200)}`;
  });
  blocks.push({ type: 'divider' }, section(lines.join('\n')));
  const step = def.steps[run.cursor];
  const st = step ? run.steps[step.id] : undefined;
  if (step && 'approval' in step && st) {
    const got =
      (st.decisions ?? []).map((d) => `${d.verdict === 'approve' ? '👍' : '👎'} <@${d.user}>`).join(', ') || 'none yet';
    blocks.push(
      section(
        `*Approvals* (${(st.decisions ?? []).filter((d) => d.verdict === 'approve').length} of ${step.approval.minApprovals} from ${step.approval.approvers.join(', ')}): ${got}`,
      ),
    );
    if (st.status === 'awaiting_approval') blocks.push(gateActions(run.id, step.id, st.planHash));
  }
  if (step && 'task' in step && st?.status === 'awaiting_task') {
    const task = st.output as { title?: string; instructions?: string; confirm?: string } | undefined;
    blocks.push(section(`*🙋 ${esc(task?.title ?? step.id)}*\n${esc(task?.instructions ?? '')}`));
    blocks.push(taskActions(run.id, step.id, task?.confirm));
  }
  if (run.outcome) blocks.push(section(`*Outcome:* ${esc(run.outcome)}`));
  if (run.error) blocks.push(section(`*Why it stopped:* ${esc(run.error)}`));
  const hash = st?.planHash ? ` · plan \`${st.planHash}\`` : '';
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${def.id} v${def.version}${hash} · requested ${slackTime(run.createdAt)}` }],
  });
  return { text: `${title}: ${run.status.replace(/_/g, ' ')}`, blocks: blocks.slice(0, 50) };
}

export const REJECT_MODAL = { callbackId: 'reject.reason', block: 'reason', action: 'reason' } as const;

/** The modal that asks why a change is rejected (the reason goes to the requester and the audit trail). */
export function buildRejectModal(run: Run, privateMetadata: string): types.ModalView {
  const region = typeof run.input.region === 'string' ? ` ${run.input.region}` : '';
  return {
    type: 'modal',
    callback_id: REJECT_MODAL.callbackId,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Reject this change' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Rejecting *${esc(run.definition.title)}${esc(region)}* (\`${run.id}\`) stops the workflow; nothing in AWS is changed.`,
        },
      },
      {
        type: 'input',
        block_id: REJECT_MODAL.block,
        label: { type: 'plain_text', text: 'Why?' },
        element: {
          type: 'plain_text_input',
          action_id: REJECT_MODAL.action,
          multiline: true,
          min_length: 3,
          max_length: 500,
        },
      },
    ],
  };
}

/** Help text for /idc. */
export const HELP = [
  '*/idc* — IAM Identity Center multi-Region replication',
  '• `/idc status` — Regions, their status and the key',
  '• `/idc plan <region>` — preflight only: what adding the Region would change',
  '• `/idc add-region <region> [reason]` — start the add-Region workflow (needs approvals)',
  '• `/idc remove-region <region> [reason]` — start the remove-Region workflow (needs approvals)',
  '• `/idc verify <region>` — check a Region on its own endpoints (read-only workflow)',
  '• `/idc drill <region>` — DR drill: can that Region serve sign-in on its own? (read-only, timed)',
  '• `/idc watch now` — check replication now; changes go to the notifications channel',
  '• `/idc workflows` — recent workflows · `/idc show <id>` — one workflow and its audit trail',
  '• `/idc cancel <id>` · `/idc retry <id>`',
].join('\n');
