import type { types } from '@slack/bolt';
import type { Run } from '../engine';
import { esc, gateActions, ICON, section, slackTime, taskActions, type Block } from './blocks';
import { renderStatus, type StatusView } from './render';

/** What the person looking at the Home tab may act on now. */
export interface WaitingFor {
  run: Run;
  stepId: string;
  kind: 'gate' | 'task';
}

export interface HomeModel {
  /** The watcher's picture; absent when the person may not see it (`refused` says why). */
  status?: StatusView;
  refused?: string;
  /** Workflows not finished, newest first. */
  inFlight: Run[];
  waiting: WaitingFor[];
  /** What the person's last click from here did. */
  notice?: string;
  /** The workflow channel, for links. */
  channel: string;
  now: number;
}

const titleOf = (run: Run) =>
  `${esc(run.definition.title)}${typeof run.input.region === 'string' ? ` — ${esc(run.input.region)}` : ''}`;
const header = (text: string): Block => ({ type: 'header', text: { type: 'plain_text', text } });

/**
 * The Home tab: what waits for the person (gates they may approve, tasks they may confirm, with the
 * buttons of the channel's message), the replication picture, and the workflows in flight.
 */
export function buildHome(m: HomeModel): types.HomeView {
  const blocks: Block[] = [];
  if (m.notice) blocks.push(section(`_${esc(m.notice)}_`), { type: 'divider' });
  if (m.refused) {
    blocks.push(header('IAM Identity Center'), section(esc(m.refused)));
    return { type: 'home', blocks: blocks as unknown as types.KnownBlock[] };
  }
  blocks.push(header('Waiting for you'));
  if (!m.waiting.length) blocks.push(section('Nothing: no approval or task waits for you.'));
  for (const w of m.waiting.slice(0, 10)) {
    const st = w.run.steps[w.stepId];
    const plan = st?.planHash ? ` · plan \`${st.planHash}\`` : '';
    blocks.push(
      section(
        `${w.kind === 'gate' ? '🟡 *Approve or reject*' : '🙋 *Your task*'}: ${titleOf(w.run)}\nRequested by <@${w.run.requester}>${w.run.reason ? ` · _${esc(w.run.reason)}_` : ''}${w.run.ticket ? ` · ticket \`${esc(w.run.ticket)}\`` : ''} · \`${w.run.id}\`${plan} · details in <#${w.run.meta.channel ?? m.channel}>`,
      ),
      w.kind === 'gate'
        ? gateActions(w.run.id, w.stepId, st?.planHash)
        : taskActions(w.run.id, w.stepId, (st?.output as { confirm?: string } | undefined)?.confirm),
    );
  }
  blocks.push({ type: 'divider' }, header('Replication'));
  blocks.push(section(m.status ? renderStatus(m.status) : 'The watcher has not looked yet.'));
  blocks.push({ type: 'divider' }, header(`In flight (${m.inFlight.length})`));
  blocks.push(
    section(
      m.inFlight.length
        ? m.inFlight
            .slice(0, 20)
            .map(
              (r) =>
                `${ICON[r.status] ?? ''} ${titleOf(r)} · ${r.status.replace(/_/g, ' ')} · \`${r.id}\` · since ${slackTime(r.createdAt)}`,
            )
            .join('\n')
        : 'No workflow is in flight.',
    ),
  );
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Updated ${slackTime(m.now)} · \`/idc help\` lists every command.` }],
  });
  return { type: 'home', blocks: blocks.slice(0, 100) as unknown as types.KnownBlock[] };
}
