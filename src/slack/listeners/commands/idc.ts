import { esc } from '../../blocks';
import { messageView } from '../../change-form';
import { firstDelivery } from '../../middleware/replay';
import { takeInstance } from '../../fleet';
import { parseCommand } from '../../parse-command';
import { HELP, subcommand, usageOf, type CommandContext } from '../../subcommands';
import { helpFor } from '../../subcommands/options';
import type { ListenerContext } from '../context';

/**
 * `/idc <subcommand>`: parsed and acked at once (a malformed command gets what was wrong and the
 * usage, a person over their budget says so); the slow part (role check, AWS reads, starting a run)
 * is a job dispatched after the ack. What the ack alone answers costs no table write and no job.
 */
export function registerIdcCommand({
  listen,
  settings,
  engine,
  fleet,
  directory,
  dispatch,
  logger,
  rules,
  budget,
}: ListenerContext): void {
  listen.command('/idc', async ({ command, ack, respond, context, client }) => {
    const typed = takeInstance(command.text ?? '');
    const parsed = parseCommand(typed.text, settings.regions, rules);
    if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.error });
    const spec = subcommand(parsed.command.name);
    if (!spec || spec.name === 'help') {
      const topic = 'topic' in parsed.command ? subcommand(parsed.command.topic ?? '') : undefined;
      return ack({
        response_type: 'ephemeral',
        text: topic ? helpFor(usageOf(topic), rules.options?.[topic.name]) : HELP,
      });
    }
    // Which instance (idc-bot.yml): the channel's, or --instance; refused here when none fits.
    const picked = fleet.pick(command.channel_id, typed.instance);
    if (!picked.ok) {
      logger.warn({ audit: 'command_refused', user: command.user_id, channel: command.channel_id }, picked.message);
      return ack({ response_type: 'ephemeral', text: picked.message });
    }
    // Per person, counted here: a flood from one person costs no job, no table write and no AWS call.
    if (!budget.take(command.user_id)) {
      logger.warn(
        { audit: 'command_refused', user: command.user_id, command: spec.name, reason: 'rate' },
        'command refused: over the per-person budget',
      );
      return ack({
        response_type: 'ephemeral',
        text: `You have run ${settings.commandsPerMinute ?? 20} commands in the last minute; wait a moment and try again.`,
      });
    }
    if ('form' in parsed.command) {
      // The trigger id is valid for 3 s: the form opens as a placeholder now, and is filled after the checks.
      await ack();
      if (!(await firstDelivery(context))) return;
      const opened = await client.views
        .open({
          trigger_id: command.trigger_id,
          view: messageView(spec.name, 'Looking up which Regions you can choose…'),
        })
        .catch((err: unknown) => void logger.warn({ err }, 'views.open failed'));
      if (!opened?.view?.id)
        return void (await respond({
          response_type: 'ephemeral',
          text: `Slack could not open the form; type \`/idc ${spec.name} <region> <reason>\` instead.`,
        }));
      return dispatch({
        type: 'form',
        user: command.user_id,
        triggerId: command.trigger_id,
        channel: command.channel_id,
        sub: spec.name,
        viewId: opened.view.id,
        ...(typed.instance ? { instance: typed.instance } : {}),
      });
    }
    const one = picked.members.length === 1 ? picked.members[0] : undefined;
    const ctx: CommandContext | undefined = one && {
      user: command.user_id,
      triggerId: command.trigger_id,
      engine,
      queries: one.queries,
      settings: one.settings,
    };
    // An answer at hand goes in the ack only to someone known (from the cache) to be allowed it.
    const role = spec.restricted ? one?.settings.requesterRole : one?.settings.viewerRole;
    const allowed = one && spec.instant && directory.knownViewer(command.user_id, role, one.name);
    const instant = ctx && allowed === true && spec.instant?.(ctx, parsed.command);
    if (instant)
      return ack({
        response_type: 'ephemeral',
        text: fleet.members.length > 1 ? `*${one?.name}*\n${instant}` : instant,
      });
    await ack({ response_type: 'ephemeral', text: `Working on \`/idc ${esc(command.text.trim())}\`…` });
    if (!(await firstDelivery(context))) return;
    await dispatch({
      type: 'command',
      text: command.text ?? '',
      user: command.user_id,
      triggerId: command.trigger_id,
      responseUrl: command.response_url,
      channel: command.channel_id,
    }).catch(async (err: unknown) => {
      logger.error({ err }, 'could not hand the command on');
      await respond({
        response_type: 'ephemeral',
        text: '⚠️ The bot could not start on that just now; try again in a minute.',
      });
    });
  });
}
