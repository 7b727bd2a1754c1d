import { EngineInputError, LockHeldError } from '../../engine';
import { esc } from '../blocks';
import { perPersonBudget } from '../limiter';
import { ephemeral, type ListenerContext } from '../listeners/context';
import { parseCommand } from '../parse-command';
import { subcommand, type CommandContext } from '../subcommands';
import type { SlowJob } from './types';

/** Posts an ephemeral answer to the person through the command's response_url (valid 30 minutes, 5 uses). */
export async function replyVia(responseUrl: string, text: string): Promise<void> {
  const res = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', text }),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}

/** The slow part of `/idc`: who may run it, the per-person budget, then the subcommand itself. */
export function createCommandJob({ app, settings, engine, queries, directory, logger, rules }: ListenerContext) {
  const budget = perPersonBudget(settings.commandsPerMinute ?? 20);
  return async (job: Extract<SlowJob, { type: 'command' }>): Promise<void> => {
    const say = async (text: string) =>
      job.responseUrl
        ? replyVia(job.responseUrl, text).catch((err) => logger.warn({ err }, 'respond failed'))
        : ephemeral(logger, app.client, job.channel, job.user, text);
    const parsed = job.command
      ? { ok: true as const, command: job.command }
      : parseCommand(job.text, settings.regions, rules);
    const spec = parsed.ok ? subcommand(parsed.command.name) : undefined;
    if (!parsed.ok || !spec) return; // refused in the ack already
    const ctx: CommandContext = {
      user: job.user,
      triggerId: job.triggerId,
      engine,
      queries,
      settings,
      client: app.client,
      tell: async (text) => void (await say(text)),
    };
    try {
      if (spec.restricted && !(await directory.isInRole(ctx.user, [settings.requesterRole]))) {
        return void (await say(
          `Only members of the \`${settings.requesterRole}\` role may run \`/idc ${spec.name}\`. Ask an admin to add you to IDC_ROLES.`,
        ));
      }
      const viewer = settings.viewerRole
        ? await directory.isInRole(ctx.user, [settings.viewerRole])
        : await directory.isFullMember(ctx.user);
      if (!spec.restricted && !viewer) {
        logger.warn({ audit: 'command_refused', user: ctx.user, command: spec.name }, 'read-only command refused');
        return void (await say(
          settings.viewerRole
            ? `Only members of the \`${settings.viewerRole}\` role may run \`/idc ${spec.name}\`.`
            : `Guests and other restricted accounts may not run \`/idc ${spec.name}\`: it shows the organization's sign-in set-up.`,
        ));
      }
      if (!budget.take(ctx.user)) {
        return void (await say(
          `You have run ${settings.commandsPerMinute ?? 20} commands in the last minute; wait a moment and try again.`,
        ));
      }
      await say(await spec.run(ctx, parsed.command));
    } catch (err) {
      const known = err instanceof EngineInputError || err instanceof LockHeldError;
      if (!known) logger.error({ err }, 'command failed');
      await say(
        known
          ? `⚠️ ${esc((err as Error).message)}`
          : '⚠️ Something went wrong on our side; the error is logged. Try again, or check `/idc workflows`.',
      );
    }
  };
}
