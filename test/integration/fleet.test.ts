import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import type { World } from '../../dev/emulators/aws/world';
import { startSlackEmulator, type SlackEmulator } from '../../dev/emulators/slack/server';
import { fastClock } from '../../dev/sandbox';
import { loadConfig } from '../../src/config';
import { createBot } from '../../src/main';

// Two AWS Organizations, each with its Identity Center instance in its own management account, from
// one bot: idc-bot.yml maps a channel to each; the bot assumes each account's role (STS AssumeRole
// with its external ID) and keeps runs, locks, roles and watchers apart.

const clock = fastClock(600);
let aws: AwsEmulator;
let slack: SlackEmulator;
let prod: World;
let nonprod: World;
const dir = mkdtempSync(join(tmpdir(), 'idc-fleet-'));

beforeAll(async () => {
  aws = await startAwsEmulator({ now: clock.now, timeScale: 60, users: 5, groups: 2 });
  prod = aws.addAccount({ accountId: '111111111111', externalId: 'prod-ext', users: 5, groups: 2 });
  nonprod = aws.addAccount({ accountId: '222222222222', externalId: 'nonprod-ext', users: 5, groups: 2 });
  Object.assign(process.env, aws.env, {
    AWS_ACCESS_KEY_ID: 'AKIDBOTACCOUNT',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  });
  slack = await startSlackEmulator({
    token: 'xoxb-fleet',
    signingSecret: 'fleet-signing-secret',
    users: {
      UREQ: { name: 'rea' },
      UANA: { name: 'ana' },
      UBEN: { name: 'ben' },
      UNIA: { name: 'nia' },
      UNED: { name: 'ned' },
    },
  });
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

function fileWith(nonprodExternalId = 'nonprod-ext'): string {
  const path = join(dir, `idc-bot-${nonprodExternalId}.yml`);
  writeFileSync(
    path,
    `defaults:
  roles: { identity-admins: [UANA, UBEN], requesters: [UREQ] }
instances:
  - name: prod
    primaryRegion: us-east-1
    roleArn: arn:aws:iam::111111111111:role/idc-bot
    externalId: prod-ext
    channel: C0PROD
  - name: nonprod
    primaryRegion: us-east-1
    roleArn: arn:aws:iam::222222222222:role/idc-bot
    externalId: ${nonprodExternalId}
    channel: C0NONPROD
    roles: { identity-admins: [UNIA, UNED], requesters: [UREQ] }
`,
  );
  return path;
}

async function bot(file: string) {
  const config = loadConfig({
    ...process.env,
    SLACK_BOT_TOKEN: 'xoxb-fleet',
    SLACK_SIGNING_SECRET: 'fleet-signing-secret',
    SLACK_API_URL: slack.apiUrl,
    IDC_CONFIG: file,
    IDC_WATCH_INTERVAL: '0',
    IDC_LEASE_MS: String(3_600_000),
    DYNAMODB_TABLE: `fleet-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
  });
  const b = await createBot(config, {
    dynamoEndpoint: process.env.TEST_DYNAMO_ENDPOINT,
    log: pino({ level: 'silent' }),
    clock,
  });
  await b.app.start(0);
  const port = (
    b.app as unknown as { receiver: { server?: { address(): { port: number } } } }
  ).receiver.server?.address().port;
  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
  b.engine.startLoop(50);
  return b;
}

const said = (user: string, channel: string, re: RegExp) =>
  waitFor(() => slack.ephemerals.some((e) => e.user === user && e.channel === channel && re.test(e.text)));

async function waitFor(ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const liveMessage = (channel: string) =>
  slack.messages
    .filter((m) => m.channel === channel && !m.thread_ts && /Add an IAM Identity Center Region/.test(m.text ?? ''))
    .pop();

describe('several Identity Center instances from one bot (idc-bot.yml)', () => {
  it('runs an add-region in each at once: each in its own account, under its own lock, approved by its own approvers', async () => {
    const b = await bot(fileWith());
    try {
      await slack.command('UREQ', 'add-region eu-central-1 DR for prod', 'C0PROD');
      await slack.command('UREQ', 'add-region eu-central-1 DR for nonprod', 'C0NONPROD');
      await waitFor(() => /awaiting approval/.test(JSON.stringify(liveMessage('C0PROD')?.blocks ?? [])));
      await waitFor(() => /awaiting approval/.test(JSON.stringify(liveMessage('C0NONPROD')?.blocks ?? [])));
      const [p, n] = await b.engine
        .listRecent(10)
        .then((runs) => [runs.find((r) => r.scope === 'prod'), runs.find((r) => r.scope === 'nonprod')]);
      // Each holds its own instance's lock: neither waits for the other.
      expect(await b.engine.lockHolder('idc:prod:us-east-1')).toBe(p?.id);
      expect(await b.engine.lockHolder('idc:nonprod:us-east-1')).toBe(n?.id);

      // nonprod's approvers are not prod's: their clicks on prod's gate count for nothing.
      await slack.click('UNIA', liveMessage('C0PROD')!, 'run.approve');
      await said('UNIA', 'C0PROD', /not one of the approvers/);
      for (const u of ['UANA', 'UBEN']) await slack.click(u, liveMessage('C0PROD')!, 'run.approve');
      for (const u of ['UNIA', 'UNED']) await slack.click(u, liveMessage('C0NONPROD')!, 'run.approve');
      await waitFor(async () => (await b.engine.get(p!.id))?.status === 'awaiting_task', 30_000);
      await waitFor(async () => (await b.engine.get(n!.id))?.status === 'awaiting_task', 30_000);

      // Each change went to its own account, through its own role session; the bot's account has none.
      expect(prod.mutations()).toMatchObject({ CreateKey: 1, ReplicateKey: 1, AddRegion: 1 });
      expect(nonprod.mutations()).toMatchObject({ CreateKey: 1, ReplicateKey: 1, AddRegion: 1 });
      expect(aws.world.mutations()).toEqual({});
      const sessions = [...aws.sessions.values()].map((s) => `${s.accountId}/${s.sessionName}`);
      expect(sessions).toEqual(
        expect.arrayContaining(['111111111111/idc-bot-prod-UREQ', '222222222222/idc-bot-nonprod-UREQ']),
      );
      // Every change a run made went out in a session that names who asked for it (CloudTrail's view).
      for (const w of [prod, nonprod])
        for (const c of w.calls.filter((c) => ['CreateKey', 'ReplicateKey', 'AddRegion'].includes(c.action)))
          expect(c.session).toMatch(/^idc-bot-(prod|nonprod)-UREQ$/);
      // /idc workflows lists each channel's instance's runs only.
      await slack.command('UREQ', 'workflows', 'C0NONPROD');
      await said('UREQ', 'C0NONPROD', new RegExp(n!.id));
      expect(slack.ephemerals.some((r) => r.channel === 'C0NONPROD' && r.text.includes(p!.id))).toBe(false);
    } finally {
      await b.stop(1000);
    }
  }, 90_000);

  it('refuses a command for an instance from another channel, or from a channel that serves none, saying where', async () => {
    const b = await bot(fileWith());
    try {
      await slack.command('UREQ', 'status --instance nonprod', 'C0PROD');
      await said('UREQ', 'C0PROD', /The instance nonprod is run from <#C0NONPROD>, not from this channel/);
      await slack.command('UREQ', 'add-region eu-west-1 DR', 'C0RANDOM');
      await said(
        'UREQ',
        'C0RANDOM',
        /This channel serves no Identity Center instance\. The bot serves prod \(<#C0PROD>\), nonprod/,
      );
      await slack.command('UREQ', 'status --instance staging', 'C0PROD');
      await said('UREQ', 'C0PROD', /There is no instance "staging"/);
    } finally {
      await b.stop(1000);
    }
  }, 60_000);

  it('one instance whose role cannot be assumed (a wrong external ID) leaves the other working, and says which', async () => {
    const b = await bot(fileWith('wrong-ext'));
    try {
      // The watchers check side by side: the failing one holds back nothing.
      const [good, bad] = await Promise.all(b.watchers.map((w) => w.check(true)));
      expect(good?.state.snapshot?.instanceArn).toBeDefined();
      expect(bad?.state.error).toMatch(
        /not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/idc-bot/,
      );
      await slack.command('UREQ', 'status', 'C0PROD');
      await said('UREQ', 'C0PROD', /^\*prod\*\n[\s\S]*us-east-1/);
      await slack.command('UREQ', 'status', 'C0NONPROD');
      await said('UREQ', 'C0NONPROD', /^\*nonprod\*\n[\s\S]*sts:AssumeRole/);
    } finally {
      await b.stop(1000);
    }
  }, 60_000);
});
