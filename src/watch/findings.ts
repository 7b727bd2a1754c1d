import type { HealthSnapshot } from '../health';

/** A condition that holds until it clears (alerted once, recovered once). */
export interface Condition {
  id: string;
  text: string;
}

/** What the watcher remembers between checks (in DynamoDB). */
export interface WatchState {
  lastCheck: number;
  snapshot?: HealthSnapshot;
  error?: string;
  conditions: Record<string, { text: string; since: number }>;
  /** When each Region entered its current status (REMOVING has no date in the API). */
  statusSince: Record<string, { status: string; since: number }>;
  /** Messages decided but not yet delivered to Slack. */
  outbox: string[];
}

const days = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

/** The conditions a snapshot shows (pure). */
export function conditionsOf(
  s: HealthSnapshot,
  statusSince: WatchState['statusSince'],
  now: number,
  stuckAfterMs: number,
): Condition[] {
  const out: Condition[] = [];
  for (const r of s.regions) {
    if (r.status === 'ADDING' || r.status === 'REMOVING') {
      const since = r.status === 'ADDING' && r.addedAt ? r.addedAt : (statusSince[r.name]?.since ?? now);
      if (now - since > stuckAfterMs)
        out.push({
          id: `stuck:${r.name}`,
          text: `${r.name} has been ${r.status} for ${minutes(now - since)} (more than ${minutes(stuckAfterMs)}): check the AWS Health Dashboard and open a support case if it does not move`,
        });
    }
    if (r.status === 'ACTIVE' && !r.primary && (r.answers === false || r.identityStore === false)) {
      out.push({
        id: `silent:${r.name}`,
        text: `${r.name} stopped answering (${r.answers === false ? 'DescribeRegion' : 'Identity Store'} failed: ${r.error ?? 'no answer'}): people cannot sign in through ${r.name}; run /idc drill ${r.name}`,
      });
    }
  }
  if (s.encryption.status === 'UPDATE_FAILED')
    out.push({
      id: 'encryption-failed',
      text: `Identity Center's encryption update failed: ${s.encryption.reason ?? 'no reason given'}. Fix the key policy (docs/key-policy.md), then retry`,
    });
  const active = new Set(s.regions.filter((r) => r.status === 'ACTIVE').map((r) => r.name));
  const silent = new Set(out.filter((c) => c.id.startsWith('silent:')).map((c) => c.id.slice('silent:'.length)));
  for (const k of s.keys) {
    if (silent.has(k.region) && k.state === 'Unreadable') continue; // same outage, already reported
    if (k.state === 'Missing' && !active.has(k.region)) continue; // a Region being added gets its replica first
    const where = k.primary ? `the primary key in ${k.region}` : `the key replica in ${k.region}`;
    if (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion') {
      out.push({
        id: `key-deletion:${k.region}`,
        text: `${where} is scheduled for deletion${k.deletionAt ? ` on ${days(k.deletionAt)}` : ''}: sign-in through ${k.region} breaks then. Cancel it: aws kms cancel-key-deletion --key-id <key> --region ${k.region}, then enable it`,
      });
    } else if (k.state === 'Disabled') {
      out.push({
        id: `key-disabled:${k.region}`,
        text: `${where} is disabled: Identity Center in ${k.region} cannot decrypt. Enable it: aws kms enable-key --key-id <key> --region ${k.region}`,
      });
    } else if (k.state === 'Missing' && active.has(k.region)) {
      out.push({
        id: `key-missing:${k.region}`,
        text: `${where} is missing although ${k.region} is an ACTIVE Region: replicate the key there again (/idc add-region ${k.region} reconciles it)`,
      });
    } else if (k.state === 'Unreadable') {
      out.push({ id: `key-unreadable:${k.region}`, text: `${where} could not be read: ${k.error}` });
    } else if (!k.grantsIdc) {
      out.push({
        id: `key-policy:${k.region}`,
        text: `The policy of ${where} no longer lets Identity Center use it: put the policy from docs/key-policy.md back on it`,
      });
    } else if (!k.sameAsPrimary) {
      out.push({
        id: `policy-drift:${k.region}`,
        text: `The policy of ${where} differs from the primary key's (KMS does not copy policies between Regions): make it the same`,
      });
    }
    if (k.extraGrants?.length)
      out.push({
        id: `key-extra-grants:${k.region}`,
        text: `The policy of ${where} grants more than Identity Center needs: ${k.extraGrants.slice(0, 5).join('; ')}${k.extraGrants.length > 5 ? ` and ${k.extraGrants.length - 5} more` : ''}. Whoever holds them can use or manage the key that encrypts your identity data: remove them, or confirm they are intended (docs/key-policy.md)`,
      });
  }
  return out;
}

/** Changes between two snapshots that are worth one message each (pure). */
export function eventsBetween(prev: HealthSnapshot | undefined, s: HealthSnapshot): string[] {
  if (!prev) return [];
  const out: string[] = [];
  const before = new Map(prev.regions.map((r) => [r.name, r.status]));
  const after = new Map(s.regions.map((r) => [r.name, r.status]));
  for (const [name, status] of after) {
    if (!before.has(name)) out.push(`ℹ️ Region ${name} appeared on the instance (${status})`);
    else if (before.get(name) !== status) out.push(`ℹ️ Region ${name} is now ${status} (was ${before.get(name)})`);
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`ℹ️ Region ${name} is no longer on the instance`);
  if (prev.encryption.keyArn !== s.encryption.keyArn)
    out.push(
      `ℹ️ Identity Center's key changed: ${prev.encryption.keyArn ?? 'AWS owned key'} → ${s.encryption.keyArn ?? 'AWS owned key'}`,
    );
  return out;
}

/** The next state and the messages to send, from the previous state and a new check (pure). */
export function nextState(
  prev: WatchState | undefined,
  result: { snapshot: HealthSnapshot } | { error: string; homeRegion: string },
  now: number,
  stuckAfterMs: number,
): WatchState {
  const statusSince: WatchState['statusSince'] = {};
  let conditions: Condition[];
  let snapshot = prev?.snapshot;
  if ('snapshot' in result) {
    snapshot = result.snapshot;
    for (const r of snapshot.regions) {
      const was = prev?.statusSince[r.name];
      statusSince[r.name] = was && was.status === r.status ? was : { status: r.status, since: now };
    }
    conditions = conditionsOf(snapshot, statusSince, now, stuckAfterMs);
  } else {
    Object.assign(statusSince, prev?.statusSince);
    conditions = [
      {
        id: `unreachable:${result.homeRegion}`,
        text: `Identity Center did not answer in ${result.homeRegion}: ${result.error}. The additional Regions may still serve sign-in: run /idc drill <region>`,
      },
    ];
  }
  const was = prev?.conditions ?? {};
  const next: WatchState['conditions'] = {};
  const outbox = [...(prev?.outbox ?? [])];
  if ('snapshot' in result) outbox.push(...eventsBetween(prev?.snapshot, result.snapshot));
  for (const c of conditions) {
    const old = was[c.id];
    next[c.id] = { text: c.text, since: old?.since ?? now };
    if (!old) outbox.push(`🔴 ${c.text}`);
  }
  for (const [id, c] of Object.entries(was))
    if (!next[id]) outbox.push(`✅ Recovered (no longer the case): ${c.text.split(':')[0]}`);
  return {
    lastCheck: now,
    ...(snapshot ? { snapshot } : {}),
    ...('error' in result ? { error: result.error } : {}),
    conditions: next,
    statusSince,
    outbox,
  };
}

/** The picture for /idc status and /idc watch now (Slack mrkdwn). */
