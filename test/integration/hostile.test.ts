import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createAwsClients } from '../../src/aws/clients';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { startSlackEmulator, type SlackEmulator } from '../../dev/emulators/slack/server';
import { createEngine, isTerminal, loadWorkflows, type Engine } from '../../src/engine';
import { createSlackApp, memoryReplayGuard, type SlackDirectory } from '../../src/slack/app';
import { stubQueries } from '../../dev/stub-queries';
import { parseCommand } from '../../src/slack/parse-command';
import { createStepRegistry, KNOWN_REGIONS } from '../../src/steps';
import { hostileCorpus } from '../support/corpus';
import { freshStore } from '../support/dynamo';

const REGIONS = new Set(KNOWN_REGIONS);
let aws: AwsEmulator;
let slack: SlackEmulator;
let engine: Engine;
let flushAll: (deadlineMs?: number) => Promise<unknown>;
let server: Server;
let botUrl: string;
let stopApp: () => Promise<void>;

beforeAll(async () => {
  aws = await startAwsEmulator({ users: 10, groups: 2 });
  Object.assign(process.env, aws.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  slack = await startSlackEmulator({
    token: 'xoxb-hostile',
    signingSecret: 'hostile-signing-secret',
    users: { UREQ: { name: 'rea' }, UANA: { name: 'ana' } },
  });
  const registry = createStepRegistry(createAwsClients({ maxAttempts: 1 }));
  const roles = { 'identity-admins': ['UANA'], requesters: ['UREQ'] };
  const definitions = loadWorkflows(join(__dirname, '../../workflows'), {
    registry,
    roles: new Set(Object.keys(roles)),
  });
  const { store } = await freshStore();
  const directory = {
    isFullMember: async () => true,
    knownViewer: () => undefined,
    isInRole: async (u: string, r: readonly string[]) =>
      r.some((n) => (roles as Record<string, string[]>)[n]?.includes(u)),
  };
  engine = createEngine({ store, registry, definitions, directory, owner: 'hostile' });
  second = { directory, engine: createEngine({ store, registry, definitions, directory, owner: 'replica' }) };
  const { app, flush, init } = createSlackApp({
    replays: sharedReplays,
    settings: {
      token: 'xoxb-hostile',
      signingSecret: 'hostile-signing-secret',
      apiUrl: slack.apiUrl,
      channel: 'C0IDC',
      roles,
      requesterRole: 'requesters',
      baseInput: { homeRegion: 'us-east-1' },
      regions: REGIONS,
      coalesceMs: 20,
    },
    engine,
    queries: stubQueries(),
    directory,
  });
  await init();
  server = (await app.start(0)) as Server;
  stopApp = () => app.stop() as Promise<void>;
  flushAll = flush;
  botUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  slack.setBotUrl(botUrl);
});

// What every replica shares in production (the table); here, one guard for two apps.
const sharedReplays = memoryReplayGuard();
let second: { directory: SlackDirectory; engine: Engine };

afterAll(async () => {
  // Short deadlines: the sample above may leave runs going and Slack rate-limiting their messages.
  await engine.stop(5_000);
  await flushAll(5_000);
  await stopApp();
  await slack.close();
  await aws.close();
});

const STARTS = new Set(['add-region', 'remove-region', 'verify']);

describe('hostile input', () => {
  const corpus = hostileCorpus(10_000);

  it('parses 10,000 hostile command texts without a throw; every refusal says what was wrong and echoes nothing dangerous', () => {
    let accepted = 0;
    for (const text of corpus) {
      const r = parseCommand(text, REGIONS);
      if (r.ok) {
        accepted++;
        if ('region' in r.command) expect(REGIONS.has(r.command.region)).toBe(true);
        continue;
      }
      expect(r.error.length).toBeGreaterThan(10);
      expect(r.error).toMatch(/Usage: `\/idc|Unknown command|Try one of/);
      // Nothing the person typed can ping, link or break out of code formatting.
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(r.error).not.toMatch(/<[!@#]|<https?:|[\u0000-\u0009\u000b-\u001f\u202e]/);
      expect(r.error.length).toBeLessThan(700);
    }
    // The corpus is hostile, not random noise: it holds some valid commands (with junk reasons) too.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(corpus.length / 4);
  });

  it('answers a sample of them over HTTP within 3 s; only valid commands start anything', async () => {
    const before = (await engine.listRecent(100)).length;
    const responsesBefore = slack.responses.length;
    const sample = corpus.filter((_, i) => i % 25 === 0); // 400 texts, every kind
    let validStarts = 0;
    for (const text of sample) {
      const res = await slack.command('UREQ', text);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(3000);
      expect(res.text.length).toBeGreaterThan(0);
      const parsed = parseCommand(text, REGIONS);
      if (parsed.ok && STARTS.has(parsed.command.name)) validStarts++;
    }
    await engine.idle();
    await flushAll();
    const runs = (await engine.listRecent(500)).slice(0, (await engine.listRecent(500)).length - before);
    // Each run is one that the person was told started, and each "started" reply has its run: none
    // lost, none made up. (Valid starts beyond the rate limit or the instance lock are refused.)
    const told = new Set(
      slack.responses
        .slice(responsesBefore)
        .map((r) => /Started workflow `([^`]+)`/.exec(String(r.body.text))?.[1])
        .filter(Boolean),
    );
    expect(told.size).toBeGreaterThan(0);
    expect(told.size).toBeLessThanOrEqual(validStarts);
    expect(new Set(runs.map((r) => r.id))).toEqual(told);
    for (const run of runs) expect(REGIONS.has(String(run.input.region))).toBe(true);
  }, 120_000);

  it('refuses missing, wrong, stale and replayed signatures', async () => {
    const body = slack.commandForm('UREQ', 'help', 'C0IDC');
    const post = (headers: Record<string, string>) =>
      fetch(botUrl, { method: 'POST', headers, body }).then((r) => r.status);
    expect(await post({ 'content-type': 'application/x-www-form-urlencoded' })).toBe(401);
    expect(await post({ ...slack.signedHeaders(body), 'x-slack-signature': `v0=${'1'.repeat(64)}` })).toBe(401);
    expect(await post(slack.signedHeaders(body, Math.floor(Date.now() / 1000) - 301))).toBe(401);
    const captured = slack.signedHeaders(body);
    expect(await post(captured)).toBe(200);
    expect(await post(captured)).toBe(401); // the same signed request again
    // Bolt ignores what follows a second "="; these are the same signature, so replays too.
    for (let i = 1; i <= 3; i++)
      expect(await post({ ...captured, 'x-slack-signature': `${captured['x-slack-signature']}=${i}` })).toBe(401);
    const fresh = slack.signedHeaders(body);
    expect(await post({ ...fresh, 'x-slack-signature': `${fresh['x-slack-signature']}=1` })).toBe(401); // not v0=<64 hex>
    expect(await post(slack.signedHeaders(body, Math.floor(Date.now() / 1000) + 600))).toBe(401); // 10 minutes ahead
  });

  it('a request replayed to another replica is acknowledged there and does nothing', async () => {
    let asked = 0; // the replica's shared replay checks (conditional writes to the table)
    const { app, init } = createSlackApp({
      replays: { firstTime: (sig, until) => (asked++, sharedReplays.firstTime(sig, until)) },
      settings: {
        token: 'xoxb-hostile',
        signingSecret: 'hostile-signing-secret',
        apiUrl: slack.apiUrl,
        channel: 'C0IDC',
        roles: {},
        requesterRole: 'requesters',
        baseInput: {},
        regions: REGIONS,
      },
      engine: second.engine, // its own: its live messages must not follow the first replica's runs
      queries: stubQueries(),
      directory: second.directory,
    });
    await init();
    const replica = (await app.start(0)) as Server;
    const replicaUrl = `http://127.0.0.1:${(replica.address() as AddressInfo).port}/slack/events`;
    try {
      // A command answered in its ack alone acts on nothing, so it asks the table nothing.
      const help = slack.commandForm('UREQ', 'help', 'C0IDC');
      expect((await fetch(replicaUrl, { method: 'POST', headers: slack.signedHeaders(help), body: help })).status).toBe(
        200,
      );
      expect(asked).toBe(0);
      const body = slack.commandForm('UREQ', 'workflows', 'C0IDC');
      const headers = slack.signedHeaders(body);
      const url = new URLSearchParams(body).get('response_url');
      const answers = () => slack.responses.filter((r) => r.url.endsWith(new URL(String(url)).pathname)).length;
      expect((await fetch(botUrl, { method: 'POST', headers, body })).status).toBe(200);
      for (let i = 0; i < 100 && answers() === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(answers()).toBe(1);
      expect((await fetch(replicaUrl, { method: 'POST', headers, body })).status).toBe(200); // acked at once
      await new Promise((r) => setTimeout(r, 300));
      expect(answers()).toBe(1); // but its slow part never ran
      expect(asked).toBe(1); // the table, asked once before acting, said it had seen it
    } finally {
      await app.stop();
    }
  });

  it('survives malformed and forged interactive payloads and changes nothing, even with a gate open', async () => {
    // A real run waiting for approval, so a forged click has something to change (the sample above may hold the lock).
    for (const r of await engine.listRecent(500))
      if (!isTerminal(r.status)) await engine.cancel({ runId: r.id, user: r.requester }).catch(() => undefined);
    const open = await engine.start({
      workflowId: 'add-region',
      input: { region: 'eu-west-3', homeRegion: 'us-east-1' },
      requester: 'UREQ',
    });
    await engine.setMeta(open.id, { channel: 'C0IDC', ts: '1700000000.000100' });
    for (let i = 0; i < 5 && (await engine.get(open.id))?.status !== 'awaiting_approval'; i++) {
      await engine.tick();
      await engine.idle();
    }
    const gate = (await engine.get(open.id))?.steps.approve;
    expect(gate?.status).toBe('awaiting_approval');
    const before = JSON.stringify(await engine.listRecent(500));
    const payload = (p: unknown) =>
      new URLSearchParams({ payload: typeof p === 'string' ? p : JSON.stringify(p) }).toString();
    const ours = { team: { id: 'T0EMU' }, api_app_id: 'A0EMU' }; // from this installation: only the checks below stand
    const realValue = JSON.stringify({ runId: open.id, stepId: 'approve', planHash: gate?.planHash });
    const cases = [
      // the real run's value, on another message, in another channel, or with no message at all
      payload({
        type: 'block_actions',
        ...ours,
        user: { id: 'UANA', team_id: 'T0EMU' },
        channel: { id: 'C0IDC' },
        message: { ts: '1.2' },
        actions: [{ action_id: 'run.approve', value: realValue }],
      }),
      payload({
        type: 'block_actions',
        ...ours,
        user: { id: 'UANA', team_id: 'T0EMU' },
        channel: { id: 'C0OTHER' },
        message: { ts: '1700000000.000100' },
        actions: [{ action_id: 'run.approve', value: realValue }],
      }),
      payload({
        type: 'block_actions',
        ...ours,
        user: { id: 'UANA', team_id: 'T0EMU' },
        actions: [{ action_id: 'run.approve', value: realValue }],
      }),
      payload({
        type: 'view_submission',
        ...ours,
        user: { id: 'UANA' },
        view: {
          callback_id: 'reject.reason',
          private_metadata: JSON.stringify({ ...JSON.parse(realValue), channel: 'C0IDC', ts: '9.9' }),
          state: { values: { reason: { reason: { value: 'forged reason' } } } },
        },
      }),
      payload('{not json'),
      payload({ type: 'block_actions' }),
      payload({ type: 'block_actions', user: { id: 'UANA' }, actions: [] }),
      payload({
        type: 'block_actions',
        user: { id: 'UANA' },
        channel: { id: 'C0IDC' },
        message: { ts: '1.2' },
        actions: [{ action_id: 'run.approve', value: 'not json' }],
      }),
      payload({
        type: 'block_actions',
        user: { id: 'UANA' },
        channel: { id: 'C0IDC' },
        message: { ts: '1.2' },
        actions: [{ action_id: 'run.approve', value: JSON.stringify({ runId: '20260101-abcdef', stepId: 'approve' }) }],
      }),
      payload({ type: 'block_actions', user: { id: 'UANA' }, actions: [{ action_id: 'no.such.action', value: 'x' }] }),
      payload({
        type: 'view_submission',
        user: { id: 'UANA' },
        view: { callback_id: 'reject.reason', private_metadata: '{"runId":"x"', state: { values: {} } },
      }),
      payload({
        type: 'view_submission',
        user: { id: 'UANA' },
        view: {
          callback_id: 'reject.reason',
          private_metadata: 'x'.repeat(5000),
          state: { values: { reason: { reason: { value: '<!channel> '.repeat(500) } } } },
        },
      }),
      'payload=' + '%7B'.repeat(100_000),
      '',
    ];
    for (const [i, body] of cases.entries()) {
      const res = await slack.post(body).catch((err: Error) => ({ status: `case ${i}: ${err.message}` }));
      expect([i, typeof res.status === 'number' && res.status < 500]).toEqual([i, true]);
    }
    expect((await slack.command('UREQ', 'help')).status).toBe(200); // still serving
    // From this installation, an action id or a view none of the listeners takes is acked at once
    // (unacked, the receiver would answer 400 after 1.5 s).
    for (const p of [
      { type: 'block_actions', ...ours, user: { id: 'UANA' }, actions: [{ action_id: 'no.such.action', value: 'x' }] },
      { type: 'view_submission', ...ours, user: { id: 'UANA' }, view: { callback_id: 'no.such.view', state: {} } },
    ]) {
      const t = Date.now();
      expect((await slack.post(payload(p))).status).toBe(200);
      expect(Date.now() - t).toBeLessThan(1500);
    }
    await new Promise((r) => setTimeout(r, 300)); // the slow parts of the clicks have run
    await engine.idle();
    expect(JSON.stringify(await engine.listRecent(500))).toBe(before);
    expect((await engine.get(open.id))?.steps.approve?.decisions).toEqual([]);
    await engine.cancel({ runId: open.id, user: 'UREQ' });
  });
});
