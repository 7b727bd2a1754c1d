import type { WatchState } from '../watch';
import { esc } from './blocks';

/** The watcher's picture at a time (what `/idc status` shows). */
export interface StatusView {
  state: WatchState;
  now: number;
}

/** What adding a Region would change, or why it cannot be planned. */
export type PlanView =
  { region: string; changes: string[]; skips: string[]; confirmations: string[] } | { region: string; error: string };

export interface DrillResult {
  region: string;
  passed: boolean;
  checks: { check: string; ok: boolean; detail: string; ms: number }[];
}

/** `/idc status`: each Region, the encryption and key, open problems, and when it was checked. */
export function renderStatus({ state, now }: StatusView): string {
  const s = state.snapshot;
  const ago = Math.max(0, Math.round((now - state.lastCheck) / 1000));
  const lines: string[] = [];
  if (s) {
    lines.push(`*${s.instanceArn}* (primary ${s.primaryRegion})`);
    for (const r of s.regions) {
      const health = r.primary
        ? ''
        : r.answers === false || r.identityStore === false
          ? ' — ❌ not answering'
          : r.status === 'ACTIVE'
            ? ' — answers on its own endpoints'
            : '';
      lines.push(`• ${r.name}: ${r.status}${r.primary ? ' (primary)' : ''}${health}`);
    }
    const e = s.encryption;
    lines.push(
      `Encryption: ${e.keyType === 'CUSTOMER_MANAGED_KEY' ? `customer managed key ${e.keyArn?.split('/').pop()}` : 'AWS owned key'} — ${e.status}`,
    );
    for (const k of s.keys)
      lines.push(
        `• key ${k.primary ? 'primary' : 'replica'} in ${k.region}: ${k.state}${k.grantsIdc ? '' : ', policy does not grant Identity Center'}${k.primary || k.sameAsPrimary ? '' : ', policy differs from the primary'}`,
      );
  }
  const open = Object.values(state.conditions);
  lines.push(
    open.length
      ? `*Problems (${open.length}):*\n${open.map((c) => `🔴 ${esc(c.text)}`).join('\n')}`
      : '✅ No problems found.',
  );
  lines.push(`_Last check ${ago < 5 ? 'just now' : `${ago} s ago`}${s ? ` (${s.calls} AWS calls)` : ''}._`);
  return lines.join('\n');
}

/** `/idc watch now`: the picture, and how many changes went to the notifications channel. */
export const renderWatchNow = (r: { status: StatusView; sent: number }, notifyChannel: string): string =>
  `${renderStatus(r.status)}\n${r.sent ? `${r.sent} change(s) posted to <#${notifyChannel}>.` : 'Nothing changed since the last check.'}`;

/** `/idc plan <region>`. */
export function renderPlan(p: PlanView): string {
  if ('error' in p) return `⚠️ ${esc(p.error)}`;
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `• ${esc(x)}`).join('\n') : '• nothing');
  return `*Adding ${p.region} would:*\n${list(p.changes)}\n*Already done:*\n${list(p.skips)}\n*A person must confirm:*\n${list(p.confirmations)}`;
}

/** `/idc drill <region>`: each check with its time, and the verdict. */
export function renderDrill(d: DrillResult): string {
  const lines = d.checks.map((c) => `${c.ok ? '✅' : '❌'} ${esc(c.check)} (${c.ms} ms): ${esc(c.detail)}`);
  const verdict = d.passed
    ? `✅ ${d.region} can serve sign-in on its own.`
    : `❌ ${d.region} cannot serve sign-in on its own yet.`;
  return `*DR drill of ${d.region}* (read-only; only ${d.region}'s own endpoints were asked)\n${lines.join('\n')}\n${verdict}`;
}
