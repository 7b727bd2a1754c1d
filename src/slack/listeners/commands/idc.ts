import type { RespondFn } from '@slack/bolt';
import { EngineInputError, LockHeldError } from '../../../engine';
import { esc } from '../../blocks';
import { limiter, perPersonBudget } from '../../limiter';
import { parseCommand } from '../../parse-command';
import { HELP, subcommand, type CommandContext } from '../../subcommands';
import type { ListenerContext } from '../context';

/**
 * `/idc <subcommand>`: parsed and acked at once (a malformed command gets what was wrong and the
 * usage); the slow part (role check, AWS reads, starting a run) runs after the ack, a few at a time.
 */
export function registerIdcCommand({ app, settings, engine, queries, directory, logger }: ListenerContext): void {
  const afterAck = limiter(settings.backgroundConcurrency ?? 4);
  const budget = perPersonBudget(settings.commandsPerMinute ?? 20);
  const say = (respond: RespondFn, text: string) =>
    respond({ response_type: 'ephemeral', text }).catch((err) => logger.warn({ err }, 'respond failed'));
  app.command('/idc', async ({ command, ack, respond }) => {
    const parsed = parseCommand(command.text ?? '', settings.regions);
    if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.error });
    const c = parsed.command;
    const spec = subcommand(c.name);
    if (!spec) return ack({ response_type: 'ephemeral', text: HELP });
    if (spec.name === 'help') return ack({ response_type: 'ephemeral', text: HELP });
    const ctx: CommandContext = { user: command.user_id, triggerId: command.trigger_id, engine, queries, settings };
    const instant = spec.instant?.(ctx);
    if (instant) return ack({ response_type: 'ephemeral', text: instant });
    await ack({ response_type: 'ephemeral', text: `Working on \`/idc ${esc(command.text.trim())}\`…` });
    await afterAck(async () => {
      try {
        if (spec.restricted && !(await directory.isInRole(ctx.user, [settings.requesterRole]))) {
          return void (await say(
            respond,
            `Only members of the \`${settings.requesterRole}\` role may run \`/idc ${spec.name}\`. Ask an admin to add you to IDC_ROLES.`,
          ));
        }
        const viewer = settings.viewerRole
          ? await directory.isInRole(ctx.user, [settings.viewerRole])
          : await directory.isFullMember(ctx.user);
        if (!spec.restricted && !viewer) {
          logger.warn({ audit: 'command_refused', user: ctx.user, command: spec.name }, 'read-only command refused');
          return void (await say(
            respond,
            settings.viewerRole
              ? `Only members of the \`${settings.viewerRole}\` role may run \`/idc ${spec.name}\`.`
              : `Guests and other restricted accounts may not run \`/idc ${spec.name}\`: it shows the organization's sign-in set-up.`,
          ));
        }
        if (!budget.take(ctx.user)) {
          return void (await say(
            respond,
            `You have run ${settings.commandsPerMinute ?? 20} commands in the last minute; wait a moment and try again.`,
          ));
        }
        await say(respond, await spec.run(ctx, c));
      } catch (err) {
        const known = err instanceof EngineInputError || err instanceof LockHeldError;
        if (!known) logger.error({ err }, 'command failed');
        await say(
          respond,
          known
            ? `⚠️ ${esc((err as Error).message)}`
            : '⚠️ Something went wrong on our side; the error is logged. Try again, or check `/idc workflows`.',
        );
      }
    });
  });
}
