import type { Command, CommandContext } from './types';
import { regionOf } from './types';

/** Starts `workflowId` for the command's Region with the configured inputs that workflow declares. */
export async function startWorkflow(ctx: CommandContext, c: Command, workflowId: string): Promise<string> {
  const { engine, settings } = ctx;
  // The configured inputs this workflow declares (verify-region takes no keyAlias, say).
  const declared = engine.definitions.get(workflowId)?.inputs ?? {};
  const base = Object.fromEntries(Object.entries(settings.baseInput).filter(([k]) => k in declared));
  const reason = 'reason' in c ? c.reason : undefined;
  const run = await engine.start({
    workflowId,
    input: { ...base, ...('options' in c ? c.options : {}), region: regionOf(c) },
    requester: ctx.user,
    reason,
    ...('ticket' in c && c.ticket ? { ticket: c.ticket } : {}),
    requestId: ctx.triggerId,
    meta: { channel: settings.channel },
  });
  return `Started workflow \`${run.id}\`; follow it in <#${settings.channel}>.`;
}
