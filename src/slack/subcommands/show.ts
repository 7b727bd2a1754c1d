import type { AuditEvent } from '../../engine';
import { esc } from '../blocks';
import { defineSubcommand, idOf } from './types';

/** The AWS changes an event records, with their request ids (reads left out). */
function awsChanges(e: AuditEvent): string {
  const requests =
    (e.data as { awsRequests?: { action: string; requestId?: string; error?: string }[] } | undefined)?.awsRequests ??
    [];
  const changes = requests.filter((r) => !/\.(Describe|Get|List)/.test(r.action));
  return changes.length
    ? ` (AWS: ${changes.map((r) => `${r.action} ${r.requestId ?? '?'}${r.error ? ` ${r.error}` : ''}`).join(', ')})`
    : '';
}

export const show = defineSubcommand({
  name: 'show',
  args: 'run-id',
  help: 'one workflow and its audit trail',
  run: async ({ engine }, c) => {
    const id = idOf(c);
    const run = await engine.get(id);
    if (!run) return `There is no workflow \`${id}\`.`;
    // The last 20 events, each AWS change with its request ids (the whole trail is in DynamoDB).
    const events = await engine.events(id);
    return [
      `*${run.workflowId}* \`${run.id}\` — ${run.status}`,
      ...events
        .slice(-20)
        .map((e) => `• ${new Date(e.at).toISOString()} ${esc(e.actor)}: ${esc(e.message)}${esc(awsChanges(e))}`),
    ].join('\n');
  },
});
