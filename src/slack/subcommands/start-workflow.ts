import type { StartRequest } from '../../engine';
import { esc } from '../blocks';
import type { Command, CommandContext } from './types';
import { regionOf } from './types';

/** The start of `workflowId` for the command's Region, with the configured inputs that workflow declares. */
function startRequest(ctx: CommandContext, c: Command, workflowId: string): StartRequest {
  const { engine, settings } = ctx;
  // The configured inputs this workflow declares (verify-region takes no keyAlias, say).
  const declared = engine.definitions.get(workflowId)?.inputs ?? {};
  const base = Object.fromEntries(Object.entries(settings.baseInput).filter(([k]) => k in declared));
  const reason = 'reason' in c ? c.reason : undefined;
  return {
    workflowId,
    input: { ...base, ...('options' in c ? c.options : {}), region: regionOf(c) },
    requester: ctx.user,
    reason,
    ...('ticket' in c && c.ticket ? { ticket: c.ticket } : {}),
    requestId: ctx.triggerId,
    meta: { channel: settings.channel },
  };
}

/** Starts `workflowId` for the command's Region. */
export async function startWorkflow(ctx: CommandContext, c: Command, workflowId: string): Promise<string> {
  const run = await ctx.engine.start(startRequest(ctx, c, workflowId));
  return `Started workflow \`${run.id}\`; follow it in <#${ctx.settings.channel}>.`;
}

/**
 * The refusal of that start when the bot read its lock held a moment ago (no I/O), for the ack
 * itself: many people asking at once for what another workflow is doing cost no job and no read.
 */
export function refusedNow(ctx: CommandContext, c: Command, workflowId: string): string | undefined {
  const held = ctx.engine.heldNow(startRequest(ctx, c, workflowId));
  return held && `⚠️ ${esc(held.message)}`;
}
