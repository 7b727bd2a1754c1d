import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Receiver } from '@slack/bolt';
import pino from 'pino';
import { createAwsClients } from './aws/clients';
import { loadConfig, secretsOf, type Config } from './config';
import { createEngine, loadWorkflows, parseDuration, type Clock } from './engine';
import { createSlackApp } from './slack/app';
import { createStepRegistry, KNOWN_REGIONS } from './steps';
import { drillRegion, readHealth } from './steps/idc-health';
import { createWatcher, renderStatus } from './watch';
import { createDynamoRunStore, createStateStore, ensureTable } from './store';

/** `target` whose methods first wait for `ready`. */
function afterReady<T extends object>(target: T, ready: Promise<unknown>): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      return typeof value === 'function' ? async (...args: unknown[]) => (await ready, (value as (...a: unknown[]) => unknown).apply(t, args)) : value;
    },
  });
}

/** workflows/ beside src/ (ts) or beside dist/ (built). */
const WORKFLOWS_DIR = [join(__dirname, '../workflows'), join(__dirname, '../../workflows')].find((d) => existsSync(d)) ?? join(__dirname, '../../workflows');

export interface BotExtras {
  dynamoEndpoint?: string;
  log?: pino.Logger;
  /** A Bolt receiver to use instead of HTTP / Socket Mode (Lambda). */
  receiver?: Receiver;
  /** The engine's clock (the sandbox runs a fast one). */
  clock?: Clock;
}

/** Composition root: config → AWS clients → store → steps → workflows → engine → Slack. */
export async function createBot(config: Config, extra: BotExtras = {}) {
  const log = extra.log ?? pino({ level: config.LOG_LEVEL, redact: { paths: ['token', 'signingSecret', '*.token', '*.signingSecret'], censor: '[secret]' } });
  const clients = createAwsClients({ roleArn: config.IDC_ROLE_ARN });
  const homeRegion = config.IDC_HOME_REGION ?? process.env.AWS_REGION ?? 'us-east-1';
  const db = new DynamoDBClient({ ...(extra.dynamoEndpoint ? { endpoint: extra.dynamoEndpoint } : {}), region: process.env.AWS_REGION ?? homeRegion });
  const t0 = performance.now();
  const lap = (what: string) => log.debug({ ms: Math.round(performance.now() - t0) }, `start-up: ${what}`);
  // The table check runs while the rest starts (it is most of a cold start's I/O); whatever uses
  // the table waits for it, and a failed check stops the bot (see startBot).
  const tableReady = ensureTable(db, config.DYNAMODB_TABLE).then(() => lap('table checked'));
  tableReady.catch(() => undefined);
  const clock = extra.clock ?? { now: () => Date.now() };
  const store = afterReady(createDynamoRunStore(db, config.DYNAMODB_TABLE, () => clock.now()), tableReady);
  const registry = createStepRegistry(clients);
  const definitions = loadWorkflows(WORKFLOWS_DIR, { registry, roles: new Set(Object.keys(config.IDC_ROLES)) });
  lap('workflows loaded');
  const preflight = registry.get('idc.preflight')!;
  const baseInput = { homeRegion, keyAlias: config.IDC_KEY_ALIAS, ...(config.IDC_INSTANCE_ARN ? { instanceArn: config.IDC_INSTANCE_ARN } : {}) };
  const slackSettings = {
    token: config.SLACK_BOT_TOKEN as string,
    signingSecret: config.SLACK_SIGNING_SECRET as string,
    appToken: config.SLACK_APP_TOKEN,
    apiUrl: config.SLACK_API_URL,
    channel: config.IDC_CHANNEL as string,
    notifyChannel: config.IDC_NOTIFY_CHANNEL,
    roles: config.IDC_ROLES,
    requesterRole: config.IDC_REQUESTER_ROLE,
    regions: new Set([...KNOWN_REGIONS, ...(config.IDC_ALLOWED_REGIONS?.split(',') ?? [])]),
    baseInput,
  };
  const notifyChannel = config.IDC_NOTIFY_CHANNEL ?? (config.IDC_CHANNEL as string);
  const watcher = createWatcher({
    name: `watch#${homeRegion}`,
    homeRegion,
    read: () => readHealth(clients, { homeRegion, instanceArn: config.IDC_INSTANCE_ARN, now: () => clock.now() }),
    store: afterReady(createStateStore(db, config.DYNAMODB_TABLE), tableReady),
    notify: async (text) => void (await slack.app.client.chat.postMessage({ channel: notifyChannel, text })),
    now: () => clock.now(),
    intervalMs: config.IDC_WATCH_INTERVAL === '0' ? 0 : parseDuration(config.IDC_WATCH_INTERVAL),
    stuckAfterMs: parseDuration(config.IDC_WATCH_STUCK_AFTER),
    logger: log,
  });
  const readOnly = {
    async status() {
      return renderStatus(await watcher.current(), clock.now());
    },
    cachedStatus() {
      const state = watcher.cached();
      return state && renderStatus(state, clock.now());
    },
    async watchNow() {
      const r = await watcher.check(true);
      return `${renderStatus(r.state, clock.now())}\n${r.sent ? `${r.sent} change(s) posted to <#${notifyChannel}>.` : 'Nothing changed since the last check.'}`;
    },
    async drill(region: string) {
      const d = await drillRegion(clients, region);
      const lines = d.checks.map((c) => `${c.ok ? '✅' : '❌'} ${c.check} (${c.ms} ms): ${c.detail}`);
      return `*DR drill of ${region}* (read-only; only ${region}'s own endpoints were asked)\n${lines.join('\n')}\n${d.passed ? `✅ ${region} can serve sign-in on its own.` : `❌ ${region} cannot serve sign-in on its own yet.`}`;
    },
    async plan(region: string) {
      try {
        const input = preflight.input.parse({ operation: 'add', homeRegion, instanceArn: config.IDC_INSTANCE_ARN, region, keyAlias: config.IDC_KEY_ALIAS });
        const out = (await preflight.run(input, { runId: 'plan', stepId: 'plan', idempotencyKey: 'plan', attempt: 1, checkpoint: undefined, saveCheckpoint: async () => undefined, now: Date.now, log: () => undefined })).output as { plan: { changes: string[]; skips: string[]; confirmations: string[] } };
        const list = (xs: string[]) => (xs.length ? xs.map((x) => `• ${x}`).join('\n') : '• nothing');
        return `*Adding ${region} would:*\n${list(out.plan.changes)}\n*Already done:*\n${list(out.plan.skips)}\n*A person must confirm:*\n${list(out.plan.confirmations)}`;
      } catch (err) {
        return `⚠️ ${(err as Error).message}`;
      }
    },
  };
  // The Slack directory answers "who is in which role" for the engine.
  const holder: { dir?: ReturnType<typeof createSlackApp>['directory'] } = {};
  const engine = createEngine({
    store,
    registry,
    definitions,
    owner: `${hostname()}-${process.pid}`,
    leaseMs: config.IDC_LEASE_MS,
    clock,
    directory: { isInRole: (u, r) => (holder.dir as NonNullable<typeof holder.dir>).isInRole(u, r) },
    logger: log,
  });
  const slack = createSlackApp(slackSettings, engine, readOnly, log, extra.receiver);
  const { app, directory, flush, catchUp } = slack;
  holder.dir = directory;
  await app.init();
  lap('Slack app initialised (auth.test)');
  return {
    engine,
    app,
    flush,
    catchUp,
    watcher,
    log,
    /** Settles when the table is there (rejects when it cannot be checked or created). */
    ready: tableReady,
    async stop() {
      await watcher.stop();
      await engine.stop();
      await flush();
      await app.stop();
      clients.destroy();
      db.destroy();
    },
  };
}

/** Starts the long-running bot: HTTP on PORT (or Socket Mode with SLACK_APP_TOKEN) and the engine loop. */
export async function startBot(config: Config, extra: BotExtras = {}) {
  const bot = await createBot(config, extra);
  await bot.app.start(config.PORT);
  bot.log.debug({ uptimeMs: Math.round(process.uptime() * 1000) }, 'start-up: serving');
  bot.ready.catch((err: unknown) => {
    bot.log.fatal({ err }, `DynamoDB table ${config.DYNAMODB_TABLE} could not be checked or created: check the table name, the region and the role's dynamodb permissions`);
    void bot.stop().finally(() => process.exit(1));
  });
  // The loop's first tick resumes whatever was in flight before a restart; serving does not wait for it.
  bot.engine.startLoop(config.IDC_TICK_MS);
  void bot.engine.tick().catch((err: unknown) => bot.log.error({ err }, 'first tick failed'));
  void bot.catchUp().catch((err: unknown) => bot.log.warn({ err }, 'could not bring live messages up to date'));
  bot.watcher.start(Math.min(10_000, config.IDC_TICK_MS * 10)); // a due check costs one DynamoDB read per look
  return bot;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = pino({ level: config.LOG_LEVEL });
  log.info({ mode: config.mode, uptimeMs: Math.round(process.uptime() * 1000) }, `Starting in ${config.mode} mode: ${config.modeReason}`);
  const secrets = secretsOf(config);
  process.on('unhandledRejection', (err) => log.error({ err: secrets.reduce((m, s) => m.split(s).join('[secret]'), String(err)) }, 'unhandled rejection'));
  if (config.mode === 'sandbox') {
    const { startSandbox } = await import('./sandbox');
    try {
      const sandbox = await startSandbox(config, log);
      process.stdout.write(`\nSandbox ready: open ${sandbox.url}\n(Ctrl-C stops everything, DynamoDB Local included.)\n\n`);
      const shutdown = () => void sandbox.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    } catch (err) {
      log.error(`Sandbox failed to start: ${(err as Error).message}`);
      process.exit(1);
    }
    return;
  }
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(config, { log });
  } catch (err) {
    const e = err as { code?: string; data?: { error?: string }; message?: string };
    const why =
      e.code === 'slack_webapi_platform_error' ? `Slack refused the bot token (${e.data?.error}): check SLACK_BOT_TOKEN and that the app is installed in the workspace`
      : e.code === 'slack_webapi_request_error' ? `Slack could not be reached (${e.message}): check the network, a proxy, or SLACK_API_URL`
      : (e.message ?? String(err));
    log.fatal({ err: { code: e.code, message: e.message } }, `The bot could not start: ${why}`);
    process.exit(1);
  }
  if (config.SLACK_APP_TOKEN) log.info('idc-bot is connected to Slack over Socket Mode');
  else log.info({ port: config.PORT }, 'idc-bot is listening on /slack/events');
  const shutdown = () => void bot.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) void main();
