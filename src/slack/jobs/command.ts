import http from 'node:http';
import https from 'node:https';
import { EngineInputError, LockHeldError } from '../../engine';
import { esc } from '../blocks';
import { perPersonBudget } from '../limiter';
import type { ListenerContext } from '../listeners/context';
import { parseCommand } from '../parse-command';
import { subcommand, type CommandContext } from '../subcommands';
import type { SlowJob } from './types';

/** Kept-alive connections to Slack's response_url host (node:https costs a fraction of fetch's CPU per call). */
const agents = { 'https:': new https.Agent({ keepAlive: true }), 'http:': new http.Agent({ keepAlive: true }) };

/** Posts an ephemeral answer to the person through the command's response_url (valid 30 minutes, 5 uses). */
export function replyVia(responseUrl: string, text: string): Promise<void> {
  const url = new URL(responseUrl);
  const body = JSON.stringify({ response_type: 'ephemeral', text });
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'https:' | 'http:'],
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`response_url answered ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('response_url did not answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The slow part of `/idc`: who may run it, the per-person budget, then the subcommand itself. */
export function createCommandJob({ app, settings, engine, queries, directory, logger, rules }: ListenerContext) {
  const budget = perPersonBudget(settings.commandsPerMinute ?? 20);
  return async (job: Extract<SlowJob, { type: 'command' }>): Promise<void> => {
    const say = (text: string) =>
      replyVia(job.responseUrl, text).catch((err) => logger.warn({ err }, 'respond failed'));
    const parsed = parseCommand(job.text, settings.regions, rules);
    const spec = parsed.ok ? subcommand(parsed.command.name) : undefined;
    if (!parsed.ok || !spec) return; // refused in the ack already
    const ctx: CommandContext = {
      user: job.user,
      triggerId: job.triggerId,
      engine,
      queries,
      settings,
      client: app.client,
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
