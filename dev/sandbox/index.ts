import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pino from 'pino';
import { FILE_OWNS, loadConfig, type Config } from '../../src/config';
import { freePort, startDynamoLocal } from '../dynamo-local';
import { startAwsEmulator } from '../emulators/aws/server';
import { startOktaEmulator } from '../emulators/idp/okta';
import { startSlackEmulator } from '../emulators/slack/server';
import { startBot } from '../../src/main';
import { startSandboxPage } from './page';

/** The people of the sandbox workspace: one requester, two approvers, one outsider. */
export const PEOPLE = {
  UREQ: { name: 'rea', real_name: 'Rea Quester', role: 'requester' },
  UALICE: { name: 'alice', real_name: 'Alice Approver', role: 'identity admin' },
  UBOB: { name: 'bob', real_name: 'Bob Approver', role: 'identity admin' },
  UOUT: { name: 'omar', real_name: 'Omar Outsider', role: 'no role' },
} as const;

/** prod's channels (its workflows; its watch and outcomes), then nonprod's (both in one). */
export const CHANNELS = { C0IDC: 'idc-ops', C0NOTIFY: 'idc-alerts', C0NONPROD: 'idc-nonprod' } as const;

/** A clock that runs `speed` times faster than the wall clock; the speed can change while it runs. */
export function fastClock(speed: number) {
  let baseReal = Date.now();
  let baseSim = baseReal;
  let rate = speed;
  return {
    now: () => baseSim + (Date.now() - baseReal) * rate,
    get speed() {
      return rate;
    },
    setSpeed(next: number) {
      baseSim = baseSim + (Date.now() - baseReal) * rate;
      baseReal = Date.now();
      rate = next;
    },
  };
}

const NONPROD_ACCOUNT = '222222222222';

/** The sandbox's idc-bot.yml: two instances, each with its channel, its roles and its app in Okta. */
const configFile = (prodApp: string, nonprodApp: string) => `defaults:
  roles: { identity-admins: [UALICE, UBOB], requesters: [UREQ] }
instances:
  - name: prod
    primaryRegion: us-east-1
    channel: C0IDC
    notifyChannel: C0NOTIFY
    idpApp: ${prodApp}
  - name: nonprod
    primaryRegion: eu-west-1
    roleArn: arn:aws:iam::${NONPROD_ACCOUNT}:role/idc-bot
    externalId: sandbox-nonprod
    channel: C0NONPROD
    idpApp: ${nonprodApp}
`;

export interface SandboxOptions {
  /** How much faster than real time the sandbox runs (default SANDBOX_SPEED or 60: an hour a minute). */
  speed?: number;
  /** Port of the page (default PORT, 3000). 0 picks a free one. */
  port?: number;
}

/**
 * The local sandbox: DynamoDB Local, the AWS emulator with two AWS Organizations (prod: an instance
 * in us-east-1 in the bot's own account, 300 users, 40 groups; nonprod: an instance in eu-west-1 in
 * account 222222222222, reached by assuming its role with an external ID), the Slack emulator, an
 * Okta org with each instance's Identity Center app (the bot's IdP adapter on), the real bot wired to
 * them from a configuration file, and a page that looks like Slack, whose AWS and IdP panels follow
 * the channel's instance. Everything runs on one fast clock, so the add-region runbook (about 50
 * minutes of AWS time) takes about a minute.
 */
export async function startSandbox(base: Config, log: pino.Logger, opts: SandboxOptions = {}) {
  const children: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const c of children.splice(0).reverse()) await c.stop().catch(() => undefined);
  };
  try {
    const speed = opts.speed ?? Number(process.env.SANDBOX_SPEED ?? 60);
    if (!(speed > 0)) throw new Error(`SANDBOX_SPEED must be a positive number (got ${process.env.SANDBOX_SPEED})`);
    const clock = fastClock(speed);
    const page = await startSandboxPage(opts.port ?? base.PORT);
    children.push(page);
    const dynamo = await startDynamoLocal();
    children.push(dynamo);
    // AWS durations are real-world ones (timeScale 60: a replica in 3 min, the Region in 40 min) on the fast clock.
    const aws = await startAwsEmulator({ users: 300, groups: 40, timeScale: 60, now: clock.now });
    const nonprod = aws.addAccount({
      accountId: NONPROD_ACCOUNT,
      externalId: 'sandbox-nonprod',
      primaryRegion: 'eu-west-1',
      users: 60,
      groups: 8,
    });
    // A sign-in code lives 10 minutes of the person's time, not of the sandbox's fast clock.
    for (const w of [aws.world, nonprod]) w.signIn.expiresInS = 600 * 3600;
    children.push({ stop: aws.close });
    const token = 'xoxb-sandbox-token';
    const signingSecret = 'sandbox-signing-secret';
    const slack = await startSlackEmulator({
      token,
      signingSecret,
      users: Object.fromEntries(
        Object.entries(PEOPLE).map(([id, p]) => [id, { name: p.name, real_name: p.real_name }]),
      ),
    });
    children.push({ stop: slack.close });
    // The IdP: an Okta org whose Identity Center app holds the primary Region's ACS URL; the bot's
    // adapter registers each new Region's (behind its own approval). The page switches the app to
    // the single-URL kind (then a person does it: the task).
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const okta = await startOktaEmulator({ clientId: '0oasandboxbot', publicKey, keyId: 'sandbox' });
    children.push({ stop: okta.close });
    const oktaApp = okta.addApp(`https://us-east-1.signin.aws/platform/saml/acs/${randomUUID()}`);
    const nonprodApp = okta.addApp(`https://eu-west-1.signin.aws/platform/saml/acs/${randomUUID()}`);
    const file = join(mkdtempSync(join(tmpdir(), 'idc-sandbox-')), 'idc-bot.yml');
    children.push({ stop: async () => rmSync(dirname(file), { recursive: true, force: true }) });
    writeFileSync(file, configFile(oktaApp, nonprodApp));
    Object.assign(process.env, aws.env, {
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: 'us-east-1',
    });
    const botPort = await freePort();
    const own = Object.entries(process.env).filter(([k]) => !(FILE_OWNS as readonly string[]).includes(k));
    const config = loadConfig({
      ...Object.fromEntries(own),
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_APP_TOKEN: '',
      SLACK_API_URL: slack.apiUrl,
      IDC_CONFIG: file,
      PORT: String(botPort),
      IDC_TICK_MS: '250',
      // Leases are in sandbox time: an hour of it is a minute of yours at the default speed.
      IDC_LEASE_MS: String(3_600_000),
      IDC_IDP: 'okta',
      OKTA_ORG_URL: okta.url,
      OKTA_CLIENT_ID: '0oasandboxbot',
      OKTA_KEY_ID: 'sandbox',
      OKTA_PRIVATE_KEY: privateKey,
    });
    const bot = await startBot(config, { dynamoEndpoint: dynamo.endpoint, log, clock });
    children.push(bot);
    slack.setBotUrl(`http://127.0.0.1:${botPort}/slack/events`);
    page.attach({
      slack,
      clock,
      people: PEOPLE,
      channels: CHANNELS,
      okta,
      orgs: [
        { name: 'prod', channels: ['C0IDC', 'C0NOTIFY'], world: aws.world, idpApp: oktaApp },
        { name: 'nonprod', channels: ['C0NONPROD'], world: nonprod, idpApp: nonprodApp },
      ],
    });
    log.info(
      {
        page: page.url,
        slack: slack.url,
        aws: aws.url,
        dynamo: dynamo.endpoint,
        bot: `http://127.0.0.1:${botPort}/slack/events`,
        speed,
      },
      'Sandbox ready',
    );
    return { url: page.url, slack, aws, nonprod, okta, oktaApp, nonprodApp, bot, clock, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
