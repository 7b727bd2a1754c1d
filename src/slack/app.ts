import type { Receiver } from '@slack/bolt';
import { App, webApi } from './bolt';
import type { Engine, Logger } from '../engine';
import type { SlackDirectory } from './directory';
import { createFleet, type Fleet } from './fleet';
import { createLiveMessages } from './live-messages';
import { createJobRunner, localDispatch, type Dispatch } from './jobs';
import { createRouter, registerListeners, type ListenerContext } from './listeners';
import { boltLogger, SILENT } from './logger';
import { onlyThisInstallation, resolveInstallation, type Installation } from './middleware/installation';
import { memoryReplayGuard, refuseReplays, type ReplayGuard } from './middleware/replay';
import { perPersonBudget } from './limiter';
import { healthRoute, httpReceiver } from './receiver';
import type { ParseRules } from './parse-command';
import { SUBCOMMANDS } from './subcommands';
import { optionTable } from './subcommands/options';
import type { Queries, SlackSettings } from './settings';

export interface SlackAppDeps {
  settings: SlackSettings;
  engine: Engine;
  queries: Queries;
  /**
   * Several Identity Center instances (idc-bot.yml): each one's settings and answers. Default: one,
   * from `settings` and `queries`.
   */
  fleet?: Fleet;
  /** Who holds which role (built before the engine: see createSlackDirectory). */
  directory: SlackDirectory;
  logger?: Logger;
  /** A Bolt receiver to use instead of HTTP / Socket Mode (Lambda). */
  receiver?: Receiver;
  /** Where request signatures already seen are kept (default: this process; production: the table). */
  replays?: ReplayGuard;
  /**
   * Runs a request's slow part elsewhere (Lambda: another invocation of the function). Default: in
   * this process after the ack, a few at a time.
   */
  defer?: Dispatch;
  /** What `GET /healthz` reports (HTTP and Socket Mode); no route when absent. */
  health?: () => { ok: boolean; [k: string]: unknown };
  /**
   * Who the bot is, when the caller asked Slack already (main: while the rest was being built, so
   * `init` makes no call). Default: `init` asks.
   */
  installation?: Installation;
}

/** The Web API client options: Slack's URL, retries, and the bot's logger (Bolt would hand the client only a level). */
const clientOptionsOf = (s: Pick<SlackSettings, 'apiUrl'>, logger: Logger) => ({
  ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}),
  logger: boltLogger(logger),
  retryConfig: { retries: 2, factor: 1.5, minTimeout: 200 },
});

/** A Web API client with the bot token, for what runs outside listeners (the role directory). */
export const createSlackClient = (
  s: Pick<SlackSettings, 'token' | 'apiUrl'>,
  logger: Logger = SILENT,
): webApi.WebClient => new webApi.WebClient(s.token, clientOptionsOf(s, logger));

/** Creates the Bolt app: /idc, the approval and task buttons, and the live workflow messages. */
export function createSlackApp({
  settings,
  engine,
  queries,
  fleet = createFleet([{ name: 'default', settings, queries }]),
  directory,
  logger = SILENT,
  receiver,
  replays,
  defer,
  health,
  installation: known,
}: SlackAppDeps) {
  const bolt = boltLogger(logger);
  const clientOptions = clientOptionsOf(settings, logger);
  const routes = health ? [healthRoute(health)] : [];
  const app = new App({
    token: settings.token,
    // Bolt's own auth.test is left out where the caller already knows who the bot is.
    ...(known ? { botId: known.botId, botUserId: known.botUserId, tokenVerificationEnabled: false } : {}),
    deferInitialization: true,
    // The bot keeps no conversation state: Bolt's default store would look each request up (and
    // reject with an Error for every one not found).
    convoStore: false,
    logger: bolt,
    clientOptions,
    ...(receiver
      ? { receiver }
      : settings.appToken
        ? {
            socketMode: true,
            appToken: settings.appToken,
            customRoutes: routes,
            installerOptions: { clientOptions, port: settings.port ?? 3000 },
          }
        : { receiver: httpReceiver(settings.signingSecret, bolt, routes) }),
  });
  let installation: Installation | undefined;
  app.use(refuseReplays(replays ?? memoryReplayGuard(), logger));
  app.use(onlyThisInstallation(() => installation, logger));
  const starts = Object.fromEntries(SUBCOMMANDS.filter((c) => c.workflow).map((c) => [c.name, c.workflow as string]));
  const rules: ParseRules = {
    options: optionTable(starts, engine.definitions, settings.baseInput),
    requireReason: settings.requireReason,
    ticketPattern: settings.ticketPattern,
  };
  const ctx: ListenerContext = {
    app,
    listen: createRouter(),
    settings,
    engine,
    queries,
    fleet,
    directory,
    logger,
    rules,
    budget: perPersonBudget(settings.commandsPerMinute ?? 20),
    dispatch: async () => undefined,
  };
  const runJob = createJobRunner(ctx);
  ctx.dispatch = defer ?? localDispatch(runJob, settings.backgroundConcurrency ?? 4);
  registerListeners(ctx);
  const live = createLiveMessages(settings, engine, app.client, logger, ctx.fleet);
  return {
    app,
    ...live,
    /** Runs a slow job handed over by `defer` (the Lambda handler's deferred invocation). */
    runJob,
    /** Initialises Bolt (auth.test) and learns which installation requests must come from. */
    async init(): Promise<void> {
      // Bolt's own auth.test and ours (with bots.info) go out together: one round trip less at start.
      [, installation] = await Promise.all([app.init(), known ?? resolveInstallation(app.client)]);
    },
  };
}

export { boltLogger } from './logger';
export { esc } from './blocks';
export { createNotifier } from './notify';
export {
  memoryReplayGuard,
  refusal,
  seenHere,
  sharedCheck,
  signatureHeaders,
  type ReplayGuard,
} from './middleware/replay';
export { createSlackDirectory, type SlackDirectory } from './directory';
export { createFleet, type Fleet, type FleetMember } from './fleet';
export { resolveInstallation, type Installation } from './middleware/installation';
export type { Queries, SlackSettings } from './settings';
export type { Dispatch, SlowJob } from './jobs';
export type { DrillResult, FailoverRehearsalView, PlanView, StatusView } from './render';
