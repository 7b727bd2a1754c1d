import './zod-english'; // first: before anything loads zod
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Receiver } from '@slack/bolt';
import pino from 'pino';
import { createAwsClients, createDynamoClient, sessionName } from './aws/clients';
import { configAtStart } from './config-parameter';
import { secretsOf, type Config } from './config';
import { createLogger } from './log';
import { createEngine, loadWorkflows, type Clock, type WorkflowDefinition } from './engine';
import { createIdentityProvider } from './idp';
import { createMember } from './fleet-member';
import {
  createFleet,
  createSlackApp,
  createSlackClient,
  createSlackDirectory,
  resolveInstallation,
  type Dispatch,
  type SlackSettings,
} from './slack/app';
import { createFleetRegistry, createStepRegistry, KNOWN_REGIONS } from './steps';
import { createDynamoRunStore, createReplayStore, createStateStore, ensureTable } from './store';

/** `target` whose methods first wait for `ready()`. */
function afterReady<T extends object>(target: T, ready: () => Promise<unknown>): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      return typeof value === 'function'
        ? async (...args: unknown[]) => (await ready(), (value as (...a: unknown[]) => unknown).apply(t, args))
        : value;
    },
  });
}

/** workflows/ beside src/ (ts), beside dist/ (built) or inside the Lambda bundle. */
const WORKFLOWS_DIR =
  [join(__dirname, '../workflows'), join(__dirname, '../../workflows'), join(__dirname, 'workflows')].find((d) =>
    existsSync(d),
  ) ?? join(__dirname, '../../workflows');

export interface BotExtras {
  dynamoEndpoint?: string;
  log?: pino.Logger;
  /** A Bolt receiver to use instead of HTTP / Socket Mode (Lambda). */
  receiver?: Receiver;
  /** Runs a Slack request's slow part elsewhere (Lambda: another invocation of the function). */
  defer?: Dispatch;
  /** The engine's clock (the sandbox runs a fast one). */
  clock?: Clock;
}

/**
 * Fails closed: in production an approval gate may not be open to everyone ("*" in its role), since
 * approving is what lets the bot change AWS.
 */
function refuseOpenApprovers(definitions: ReadonlyMap<string, WorkflowDefinition>, config: Config): void {
  if (config.mode !== 'production') return;
  const approvers = new Set(
    [...definitions.values()].flatMap((d) => d.steps.flatMap((s) => ('approval' in s ? s.approval.approvers : []))),
  );
  for (const inst of config.instances) {
    const open = [...approvers].filter((role) => inst.roles[role]?.includes('*'));
    if (open.length)
      throw new Error(
        `${config.IDC_CONFIG ? `instances "${inst.name}" in ${config.IDC_CONFIG}` : 'IDC_ROLES'} gives everyone ("*") the approver role ${open.join(', ')}: name the approvers (Slack user IDs or a user group ID), since an approval lets the bot change AWS`,
      );
  }
}

/** Role names every instance defines: what workflows may name as approvers and assignees. */
const commonRoles = (instances: Config['instances']) =>
  new Set(Object.keys(instances[0]?.roles ?? {}).filter((r) => instances.every((i) => r in i.roles)));

/** Composition root: config → per-instance AWS clients and steps → store → workflows → directory → engine → Slack. */
export async function createBot(config: Config, extra: BotExtras = {}) {
  const log = extra.log ?? createLogger(config.LOG_LEVEL, secretsOf(config));
  const t0 = performance.now();
  const lap = (what: string) => log.debug({ ms: Math.round(performance.now() - t0) }, `start-up: ${what}`);
  const clock = extra.clock ?? { now: () => Date.now() };
  // One adapter per instance (its own app in the IdP), shared by its per-person sessions.
  const idps = new Map(config.instances.map((i) => [i.name, createIdentityProvider(config, i.idpApp)]));
  // Each instance: its own clients (its account's role, refreshed before expiry), key policy and steps.
  const stepsIn = (inst: Config['instances'][number], session: string) => {
    const clients = createAwsClients({ roleArn: inst.roleArn, externalId: inst.externalId, sessionName: session });
    const keyPolicy = { delegatedAdminAccountId: inst.delegatedAdminAccount };
    const idp = idps.get(inst.name);
    return { inst, clients, keyPolicy, registry: createStepRegistry(clients, { keyPolicy, idp }) };
  };
  const instances = config.instances.map((inst) => stepsIn(inst, sessionName(inst.name)));
  // A run's AWS calls go out in a role session named after the person who asked (CloudTrail shows them);
  // the bot's own credentials (no role) have no session to name.
  const fleetSteps = createFleetRegistry(new Map(instances.map((i) => [i.inst.name, i.registry])), (name, person) => {
    const inst = config.instances.find((i) => i.name === name);
    if (!inst?.roleArn) return undefined;
    const own = stepsIn(inst, sessionName(name, person));
    return { registry: own.registry, destroy: () => own.clients.destroy() };
  });
  const registry = fleetSteps.registry;
  const definitions = loadWorkflows(WORKFLOWS_DIR, { registry, roles: commonRoles(config.instances) });
  lap('workflows loaded');
  refuseOpenApprovers(definitions, config);
  const shared: Omit<SlackSettings, 'channel' | 'notifyChannel' | 'roles' | 'baseInput'> = {
    token: config.SLACK_BOT_TOKEN as string,
    signingSecret: config.SLACK_SIGNING_SECRET as string,
    appToken: config.SLACK_APP_TOKEN,
    port: config.PORT,
    apiUrl: config.SLACK_API_URL,
    requesterRole: config.IDC_REQUESTER_ROLE,
    viewerRole: config.IDC_VIEWER_ROLE,
    commandsPerMinute: config.IDC_COMMANDS_PER_MINUTE,
    requireReason: config.IDC_REQUIRE_REASON,
    notifyApprovers: config.IDC_NOTIFY_APPROVERS,
    ticketPattern: config.IDC_TICKET_PATTERN,
    regions: new Set([...KNOWN_REGIONS, ...config.instances.flatMap((i) => i.allowedRegions?.split(',') ?? [])]),
  };
  const slackClient = createSlackClient(shared, log);
  // Who the bot is in Slack (auth.test, bots.info): asked once the definitions are accepted, and
  // answered while the rest is built.
  const whoAmI = resolveInstallation(slackClient);
  whoAmI.catch(() => undefined); // awaited below; a start stopped before then must not leave it unhandled
  const homeRegion = config.instances[0]?.homeRegion ?? 'us-east-1';
  const db = createDynamoClient({ region: process.env.AWS_REGION ?? homeRegion, endpoint: extra.dynamoEndpoint });
  // The table check starts on the table's first use, or right after the bot listens (startBot), so
  // that loading the table's client does not hold up listening; whatever uses the table waits for
  // it, and a failed check stops the bot (see startBot).
  // Where the deployment made the table (DYNAMODB_CREATE_TABLE=false, as the stack sets), the bot
  // neither checks nor creates it: its first read or write says plainly if it is missing.
  const state = { stopping: false, table: 'checking' as 'checking' | 'ready' | 'failed' };
  let tableCheck: Promise<void> | undefined;
  const tableReady = () =>
    (tableCheck ??= (config.DYNAMODB_CREATE_TABLE ? ensureTable(db, config.DYNAMODB_TABLE) : Promise.resolve()).then(
      () => {
        state.table = 'ready';
        lap('table checked');
      },
      (err: unknown) => {
        state.table = 'failed';
        throw err;
      },
    ));
  const store = afterReady(
    createDynamoRunStore(db, config.DYNAMODB_TABLE, () => clock.now()),
    tableReady,
  );
  const stateStore = afterReady(createStateStore(db, config.DYNAMODB_TABLE), tableReady);
  // Each instance: its watcher (on its own, so one failing instance never holds back the others),
  // its read-only answers and its Slack settings.
  const members = instances.map((i) =>
    createMember(i, { config, shared, slackClient, stateStore, clock, log, several: config.instances.length > 1 }),
  );
  const fleet = createFleet(members);
  const directory = createSlackDirectory((scope) => fleet.of(scope)?.settings.roles ?? {}, slackClient);
  // Unique per process, even where every container's PID is 1.
  const owner = `${process.env.HOSTNAME ?? 'bot'}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const engine = createEngine({
    store,
    registry,
    definitions,
    directory,
    owner,
    leaseMs: config.IDC_LEASE_MS,
    clock,
    logger: log,
  });
  const watchers = members.map((m) => m.watcher);
  const replays = afterReady(createReplayStore(db, config.DYNAMODB_TABLE), tableReady);
  const first = members[0] as (typeof members)[number];
  const { app, init, flush, catchUp, runJob } = createSlackApp({
    settings: first.settings,
    engine,
    queries: first.queries,
    fleet,
    directory,
    logger: log,
    receiver: extra.receiver,
    defer: extra.defer,
    replays,
    health: () => ({ ok: !state.stopping && state.table !== 'failed', ...state }),
    installation: await whoAmI,
  });
  await init();
  lap('Slack app initialised (auth.test)');
  return {
    engine,
    app,
    flush,
    catchUp,
    /** Each instance's watcher (one unless idc-bot.yml lists several). */
    watchers,
    log,
    replays,
    runJob,
    /** Checks the table (once): settles when it is there, rejects when it cannot be checked or created. */
    ready: tableReady,
    /**
     * Stops claiming work, lets the step in hand finish or releases its lease within `deadlineMs`
     * (another replica takes it over), posts what is owed to Slack, then disconnects.
     */
    async stop(deadlineMs = 20_000) {
      state.stopping = true;
      await Promise.all(watchers.map((w) => w.stop()));
      await engine.stop(deadlineMs);
      await flush();
      await app.stop();
      for (const i of instances) i.clients.destroy();
      fleetSteps.destroy();
      db.destroy();
    },
  };
}

/** The first-start failure of the table check, with its real cause first and what to do. */
export function tableFailure(table: string, err: unknown): string {
  const e = err as Error;
  const cause =
    e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')
      ? 'no AWS credentials were found: give the bot a role (an instance profile, task or function role), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
      : /AccessDenied|not authorized/i.test(`${e?.name} ${e?.message}`)
        ? `access denied (${e.message}): give the bot's role the BotTable statement of npm run iam-policy`
        : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}; check DYNAMODB_TABLE, AWS_REGION and the network`;
  return `DynamoDB table ${table} could not be checked or created: ${cause}`;
}

/** Starts the long-running bot: HTTP on PORT (or Socket Mode with SLACK_APP_TOKEN) and the engine loop. */
export async function startBot(config: Config, extra: BotExtras = {}) {
  const bot = await createBot(config, extra);
  await bot.app.start(config.PORT);
  const uptimeMs = Math.round(process.uptime() * 1000);
  if (config.SLACK_APP_TOKEN) bot.log.info({ uptimeMs }, 'idc-bot is connected to Slack over Socket Mode');
  else bot.log.info({ port: config.PORT, uptimeMs }, 'idc-bot is listening on /slack/events');
  // What only the slow parts need starts now (the table's client and its check, about 60 ms on a cold process).
  bot.ready().catch((err: unknown) => {
    bot.log.fatal({ err }, tableFailure(config.DYNAMODB_TABLE, err));
    void bot.stop().finally(() => process.exit(1));
  });
  // The loop's first tick resumes whatever was in flight before a restart; serving does not wait for it.
  bot.engine.startLoop(config.IDC_TICK_MS);
  void bot.engine.tick().catch((err: unknown) => bot.log.error({ err }, 'first tick failed'));
  void bot.catchUp().catch((err: unknown) => bot.log.warn({ err }, 'could not bring live messages up to date'));
  for (const w of bot.watchers) w.start(Math.min(10_000, config.IDC_TICK_MS * 10)); // looks when a check is due, or to deliver
  return bot;
}

/** Runs the production bot from the environment: exits 2 on a bad configuration, 1 when it cannot start. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = await configAtStart(env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (config.mode !== 'production') {
    process.stderr.write(
      'SLACK_BOT_TOKEN is not set: the production bot needs the settings in README.md (Configuration). For the local sandbox, run `npm start` in a clone.\n',
    );
    process.exit(2);
  }
  const log = createLogger(config.LOG_LEVEL, secretsOf(config));
  log.info(
    { mode: config.mode, uptimeMs: Math.round(process.uptime() * 1000) },
    `Starting in ${config.mode} mode: ${config.modeReason}`,
  );
  const secrets = secretsOf(config);
  process.on('unhandledRejection', (err) =>
    log.error({ err: secrets.reduce((m, s) => m.split(s).join('[secret]'), String(err)) }, 'unhandled rejection'),
  );
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(config, { log });
  } catch (err) {
    const e = err as { code?: string; data?: { error?: string }; message?: string };
    const why =
      e.code === 'slack_webapi_platform_error'
        ? `Slack refused the bot token (${e.data?.error}): check SLACK_BOT_TOKEN and that the app is installed in the workspace`
        : e.code === 'slack_webapi_request_error'
          ? `Slack could not be reached (${e.message}): check the network, a proxy, or SLACK_API_URL`
          : (e.message ?? String(err));
    log.fatal({ err: { code: e.code, message: e.message } }, `The bot could not start: ${why}`);
    process.exit(1);
  }
  // ECS sends SIGTERM and waits stopTimeout (the stack sets 60 s) before SIGKILL; systemd, TimeoutStopSec.
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping: no new work is claimed; the step in hand finishes or is released');
    setTimeout(() => process.exit(1), 45_000).unref();
    void bot.stop(20_000).then(
      () => process.exit(0),
      (err: unknown) => (log.error({ err }, 'stop failed'), process.exit(1)),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) void main();
