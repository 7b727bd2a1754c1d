import { EngineInputError, LockHeldError } from '../../engine';
import { esc } from '../blocks';
import { ephemeral, type ListenerContext } from '../listeners/context';
import { parseCommand } from '../parse-command';
import { postToResponseUrl } from '../response-url';
import { takeInstance, type FleetMember } from '../fleet';
import { subcommand, type CommandContext } from '../subcommands';
import type { Command, Subcommand } from '../subcommands/types';
import type { SlowJob } from './types';

/** Posts an ephemeral answer to the person through the command's response_url (valid 30 minutes, 5 uses). */
export async function replyVia(responseUrl: string, text: string): Promise<void> {
  const status = await postToResponseUrl(responseUrl, { response_type: 'ephemeral', text });
  if (status < 200 || status > 299) throw new Error(`response_url answered ${status}`);
}

/** The slow part of `/idc`: which instance, who may run it, then the subcommand (the ack counted the budget). */
export function createCommandJob({ app, settings: base, engine, fleet, directory, logger, rules }: ListenerContext) {
  return async (job: Extract<SlowJob, { type: 'command' }>): Promise<void> => {
    const say = async (text: string) =>
      job.responseUrl
        ? replyVia(job.responseUrl, text).catch((err) => logger.warn({ err }, 'respond failed'))
        : ephemeral(logger, app.client, job.channel, job.user, text);
    const typed = takeInstance(job.text);
    const parsed = job.command
      ? { ok: true as const, command: job.command }
      : parseCommand(typed.text, base.regions, rules);
    const spec = parsed.ok ? subcommand(parsed.command.name) : undefined;
    if (!parsed.ok || !spec) return; // refused in the ack already
    const picked = fleet.pick(job.channel, job.instance ?? typed.instance);
    if (!picked.ok) {
      logger.warn(
        { audit: 'command_refused', user: job.user, command: spec.name, channel: job.channel },
        picked.message,
      );
      return void (await say(picked.message));
    }
    if (picked.members.length > 1 && spec.name !== 'status')
      return void (await say(
        `This channel serves ${picked.members.map((m) => m.name).join(', ')}: add \`--instance <name>\` to say which.`,
      ));
    // A channel that serves several instances gets each one's status.
    const answers = await Promise.all(
      picked.members.map(async (member) => {
        const answer = await runFor(member, spec, parsed.command, job, say);
        return fleet.members.length > 1 ? `*${member.name}*\n${answer}` : answer;
      }),
    );
    await say(answers.join('\n\n'));
  };

  /** The subcommand for one instance: its roles, channel, inputs and answers; or why it was refused. */
  async function runFor(
    { name, settings, queries }: FleetMember,
    spec: Subcommand,
    command: Command,
    job: Extract<SlowJob, { type: 'command' }>,
    say: (text: string) => Promise<unknown>,
  ): Promise<string> {
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
      if (spec.restricted && !(await directory.isInRole(ctx.user, [settings.requesterRole], name)))
        return `Only members of the \`${settings.requesterRole}\` role may run \`/idc ${spec.name}\`. Ask an admin to add you to the roles (IDC_ROLES, or the instance's roles in idc-bot.yml).`;
      const viewer = settings.viewerRole
        ? await directory.isInRole(ctx.user, [settings.viewerRole], name)
        : await directory.isFullMember(ctx.user);
      if (!spec.restricted && !viewer) {
        logger.warn({ audit: 'command_refused', user: ctx.user, command: spec.name }, 'read-only command refused');
        return settings.viewerRole
          ? `Only members of the \`${settings.viewerRole}\` role may run \`/idc ${spec.name}\`.`
          : `Guests and other restricted accounts may not run \`/idc ${spec.name}\`: it shows the organization's sign-in set-up.`;
      }
      return await spec.run(ctx, command);
    } catch (err) {
      const known = err instanceof EngineInputError || err instanceof LockHeldError;
      if (!known) logger.error({ err, instance: name }, 'command failed');
      return known
        ? `⚠️ ${esc((err as Error).message)}`
        : '⚠️ Something went wrong on our side; the error is logged. Try again, or check `/idc workflows`.';
    }
  }
}
