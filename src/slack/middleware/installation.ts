import type { AnyMiddlewareArgs, Middleware, webApi } from '@slack/bolt';
import type { Logger } from '../../engine';

/** Which workspace, Enterprise Grid organization and app this bot is installed as, and as whom (from auth.test). */
export interface Installation {
  teamId: string;
  enterpriseId?: string;
  appId: string;
  botId: string;
  botUserId: string;
}

/** Asks Slack who the bot is: auth.test, and bots.info for the app id when auth.test does not say it. */
export async function resolveInstallation(client: webApi.WebClient): Promise<Installation> {
  const me = await client.auth.test();
  let appId = (me as { app_id?: string }).app_id;
  if (!appId && me.bot_id) appId = (await client.bots.info({ bot: me.bot_id })).bot?.app_id;
  if (!me.team_id || !appId || !me.bot_id || !me.user_id)
    throw new Error(
      'Slack did not say which workspace, app and bot this token belongs to (auth.test, bots.info): use the bot token (xoxb-) of the installed app',
    );
  return {
    teamId: me.team_id,
    enterpriseId: me.enterprise_id || undefined,
    appId,
    botId: me.bot_id,
    botUserId: me.user_id,
  };
}

type Body = {
  team_id?: string;
  team?: { id?: string } | null;
  user?: { id?: string; team_id?: string };
  user_id?: string;
  enterprise_id?: string;
  enterprise?: { id?: string } | null;
  api_app_id?: string;
};

/** What a request says about where it comes from: workspace, Grid organization, app. */
function originOf(body: Body) {
  return {
    teamId: body.team_id ?? body.team?.id ?? undefined,
    userTeamId: body.user?.team_id,
    enterpriseId: body.enterprise_id ?? body.enterprise?.id ?? undefined,
    appId: body.api_app_id,
  };
}

/**
 * Refuses every request that does not come from this installation: another workspace of an
 * Enterprise Grid, a Slack Connect partner in a shared channel, or another app. The person gets an
 * ephemeral; the refusal is logged as an audit line (`audit: "request_refused"`). Fails closed: until
 * the installation is known, everything is refused.
 */
export function onlyThisInstallation(
  installation: () => Installation | undefined,
  logger: Logger,
): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const body = args.body as Body;
    const me = installation();
    const from = originOf(body);
    const why = !me
      ? 'the bot has not finished starting'
      : from.appId !== me.appId
        ? `it was sent to another app (${from.appId ?? 'none'})`
        : from.teamId !== me.teamId
          ? `it comes from another workspace (${from.teamId ?? 'none'})`
          : from.userTeamId !== undefined && from.userTeamId !== me.teamId
            ? `the person belongs to another workspace (${from.userTeamId})`
            : (from.enterpriseId ?? undefined) !== me.enterpriseId
              ? `it comes from another organization (${from.enterpriseId ?? 'none'})`
              : undefined;
    if (!why) return args.next();
    const user = body.user?.id ?? body.user_id;
    logger.warn(
      {
        audit: 'request_refused',
        reason: why,
        user,
        team: from.teamId,
        enterprise: from.enterpriseId,
        app: from.appId,
      },
      'request refused: not from this installation',
    );
    const text = `This bot only takes requests from its own workspace; refused because ${why}. Nothing was changed.`;
    const a = args as unknown as { ack?: (m?: unknown) => Promise<void>; respond?: (m: unknown) => Promise<unknown> };
    if (a.ack) await (body.api_app_id && 'command' in body ? a.ack({ response_type: 'ephemeral', text }) : a.ack());
    if (a.respond && !('command' in body))
      await a.respond({ response_type: 'ephemeral', replace_original: false, text }).catch(() => undefined);
  };
}
