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

/** Where a person signs in for the sign-in check (shown only to them). */
export interface SignInPromptView {
  region: string;
  verificationUriComplete: string;
  userCode: string;
  waitMs: number;
}

type SignInHop = 'registration' | 'not_finished' | 'denied' | 'token' | 'portal';

/** How the sign-in check ended: who could sign in and see how many accounts, or which hop failed. */
export type SignInView =
  | { ok: true; region: string; ms: number; accounts: number; moreAccounts: boolean }
  | { ok: false; region: string; ms: number; hop: SignInHop; detail: string };

export interface DrillResult {
  region: string;
  passed: boolean;
  checks: { check: string; ok: boolean; detail: string; ms: number }[];
}

/** `/idc drill <region> --failover`: what a failover would do, without doing it. */
export interface FailoverRehearsalView {
  region: string;
  /** The IdP: what the bot would change (after approval), or what a person would do, or nothing. */
  idp: { automated: boolean; manual: boolean; change?: string; why?: string; error?: string };
  portalUrl?: string;
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

/** The rehearsal: the Region (the drill), the IdP, what users would be told; nothing changed. */
export function renderFailoverRehearsal(r: FailoverRehearsalView, drillPassed: boolean): string {
  const idp = r.idp.error
    ? `❌ the IdP could not be read: ${esc(r.idp.error)}`
    : r.idp.automated
      ? `the bot would change it after two approvals: ${esc(r.idp.change ?? '')}`
      : r.idp.manual
        ? `a person would make it send sign-in to ${r.region} (a task in the workflow): ${esc(r.idp.why ?? '')}`
        : `nothing to change: ${esc(r.idp.why ?? `it already knows ${r.region}`)}`;
  return [
    `*Failover rehearsal to ${r.region}* (nothing was changed)`,
    `1. The Region: ${drillPassed ? '✅ serves sign-in on its own (drill above)' : '❌ not ready (drill above): a failover would stop at its first step'}`,
    `2. The IdP: ${idp}`,
    `3. Everyone would be told to sign in at ${r.portalUrl ?? '(the portal URL could not be worked out)'} (notifications channel)`,
    `For real: \`/idc failover ${r.region}\` (approvals as configured).`,
  ].join('\n');
}

/** What to check when a hop fails. */
const SIGN_IN_ADVICE: Record<SignInHop, string> = {
  registration:
    "the Region's OIDC endpoint refused the device authorization: check that the Region is ACTIVE on the instance (`/idc status`) and that its portal URL is allowed through proxies and firewalls",
  not_finished:
    'the person did not finish signing in: run it again; if the IdP showed an error, check that it knows this Region\'s ACS URL (usually the cause: "Other Requestable SSO URLs" in Okta, Reply URLs in Entra ID)',
  denied:
    "the sign-in was refused: check the IdP's ACS URL for this Region and that the person is assigned to the Identity Center app there",
  token: 'the token endpoint failed: try again; if it persists, check the AWS Health Dashboard for this Region',
  portal:
    "the Region's access portal refused the new session: check that the Region is ACTIVE and that its key replica is usable (`/idc drill`)",
};

/** The result in words: who, through which Region, how long, how many accounts (a count, never names). */
export function renderSignIn(r: SignInView, user: string): string {
  const took = `${Math.round(r.ms / 1000)} s`;
  if (r.ok)
    return `✅ <@${user}> signed in through *${r.region}* on its own endpoints in ${took} and sees ${r.accounts}${r.moreAccounts ? '+' : ''} account(s) in its access portal.`;
  return `❌ Sign-in through *${r.region}* failed at *${r.hop.replace('_', ' ')}* after ${took} (${esc(r.detail)}): ${SIGN_IN_ADVICE[r.hop]}.`;
}
