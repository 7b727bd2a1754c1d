import { formatDuration } from '../../engine';
import { auditRows, toCsv } from '../audit-export';
import { defineSubcommand } from './types';

/** Runs read for one export at most (newest first); an older window says so. */
const MAX_RUNS = 500;

export const audit = defineSubcommand({
  name: 'audit',
  args: 'audit',
  help: 'the audit trail as a file (CSV or JSON) in a direct message to you, for change records',
  run: async ({ engine, client, user, now }, c) => {
    if (!client) return 'The audit export needs the Slack app.';
    const { sinceMs, format } = 'sinceMs' in c ? c : { sinceMs: 30 * 86_400_000, format: 'csv' as const };
    const from = (now?.() ?? Date.now()) - sinceMs;
    const recent = await engine.listRecent(MAX_RUNS);
    const runs = recent.filter((r) => r.createdAt >= from);
    const withEvents = await Promise.all(runs.map(async (run) => ({ run, events: await engine.events(run.id) })));
    const rows = auditRows(withEvents.reverse());
    const content = format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : toCsv(rows);
    const day = new Date().toISOString().slice(0, 10);
    const dm = await client.conversations.open({ users: user });
    await client.filesUploadV2({
      channel_id: dm.channel?.id as string,
      file: Buffer.from(content, 'utf8'),
      filename: `idc-audit-${day}.${format}`,
      title: `IAM Identity Center changes, last ${formatDuration(sinceMs)}`,
      initial_comment: `Audit trail of ${runs.length} workflow(s), ${rows.length} event(s), since ${new Date(from).toISOString()}.`,
    });
    const capped =
      recent.length === MAX_RUNS && runs.length === MAX_RUNS ? ` (the newest ${MAX_RUNS} workflows only)` : '';
    return `Sent you the audit trail as \`idc-audit-${day}.${format}\` in a direct message: ${runs.length} workflow(s), ${rows.length} event(s)${capped}.`;
  },
});
