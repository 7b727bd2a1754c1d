import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createAwsClients } from '../../src/aws/clients';
import { startAwsEmulator, type AwsEmulator } from '../../src/emulators/aws/server';
import { startSlackEmulator, type SlackEmulator, type SlackMessage } from '../../src/emulators/slack/server';
import { createEngine, isTerminal, loadWorkflows, type Engine, type Run } from '../../src/engine';
import { createSlackApp } from '../../src/slack/app';
import { createStepRegistry } from '../../src/steps';
import { freshStore } from '../support/dynamo';
import { FakeClock } from '../support/fake-clock';

const clock = new FakeClock();
let aws: AwsEmulator;
let slack: SlackEmulator;
let engine: Engine;
let server: Server;
let stopApp: () => Promise<void>;
const CHANNEL = 'C0IDC';
const roles = { 'identity-admins': ['UA', 'UB', 'UREQ'], requesters: ['UREQ', 'UA'] };

beforeAll(async () => {
  aws = await startAwsEmulator({ now: clock.now, users: 120, groups: 12 });
  Object.assign(process.env, aws.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  slack = await startSlackEmulator({ token: 'xoxb-test-token', signingSecret: 'test-signing-secret' });
  const registry = createStepRegistry(createAwsClients({ maxAttempts: 1 }));
  const definitions = loadWorkflows(join(__dirname, '../../workflows'), { registry, roles: new Set(Object.keys(roles)) });
  const { store } = await freshStore(clock.now);
  engine = createEngine({ store, registry, definitions, directory: { isInRole: async (u, names) => names.some((n) => (roles as Record<string, string[]>)[n]?.includes(u)) }, owner: 'bot', clock, random: () => 0 });
  const { app } = createSlackApp(
    { token: 'xoxb-test-token', signingSecret: 'test-signing-secret', apiUrl: slack.apiUrl, channel: CHANNEL, roles, requesterRole: 'requesters', baseInput: { homeRegion: 'us-east-1' } },
    engine,
    { status: async () => 'status', plan: async (r) => `plan for ${r}` },
  );
  await app.init();
  server = (await app.start(0)) as Server;
  stopApp = () => app.stop() as Promise<void>;
  slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
});

afterAll(async () => {
  await engine.stop();
  await stopApp();
  await slack.close();
  await aws.close();
});

const until = async <T>(f: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
  for (let i = 0; i < 300; i++) {
    const v = await f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
};

async function drive(runId: string, stop: (r: Run) => boolean): Promise<Run> {
  for (let i = 0; i < 2000; i++) {
    await engine.tick();
    await engine.stop();
    const run = (await engine.get(runId)) as Run;
    if (stop(run) || isTerminal(run.status)) return run;
    clock.advance(5000);
  }
  throw new Error('did not settle');
}

const liveMessage = (runId: string) => slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(runId));
const ephemeralFor = (user: string) => slack.ephemerals.filter((e) => e.user === user).map((e) => e.text);
const lastResponse = () => slack.responses[slack.responses.length - 1]?.body.text as string | undefined;

describe('Slack end to end over HTTP', () => {
  it('runs /idc add-region from the command through approvals, the IdP task and verification', async () => {
    const res = await slack.command('UREQ', 'add-region eu-central-1 DR for <!channel> EU');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const started = await until(() => slack.responses.find((r) => /Started workflow/.test(String(r.body.text))), 'start reply');
    const runId = /`([^`]+)`/.exec(String(started.body.text))?.[1] as string;

    await drive(runId, (r) => r.status === 'awaiting_approval');
    let msg = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('run.approve') ? m : undefined;
    }, 'approval message');
    const text = JSON.stringify(msg.blocks);
    expect(text).toContain('Will change');
    expect(text).toContain('&lt;!channel&gt;'); // the reason is escaped, never a ping
    expect(text).not.toContain('<!channel>');

    expect((await slack.click('UREQ', msg, 'run.approve')).status).toBe(200);
    await until(() => ephemeralFor('UREQ').find((t) => /cannot approve it yourself/.test(t)), 'self-approval refusal');
    await slack.click('UOUT', msg, 'run.approve');
    await until(() => ephemeralFor('UOUT').find((t) => /not one of the approvers/.test(t)), 'outsider refusal');
    await slack.click('UA', msg, 'run.approve');
    await slack.click('UA', msg, 'run.approve');
    await until(() => ephemeralFor('UA').find((t) => /already decided/.test(t)), 'double click refusal');
    // A forged value naming another workflow is refused.
    await slack.clickValue('UB', msg, 'run.approve', JSON.stringify({ runId: '20260101-abcdef', stepId: 'approve' }));
    await until(() => ephemeralFor('UB').find((t) => /does not belong/.test(t)), 'forged value refusal');
    await slack.click('UB', msg, 'run.approve');

    const waiting = await drive(runId, (r) => r.status === 'awaiting_task');
    expect(waiting.status).toBe('awaiting_task');
    msg = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('task.done') ? m : undefined;
    }, 'task message');
    expect(JSON.stringify(msg.blocks)).toContain('Other Requestable SSO URLs');
    await slack.click('UOUT', msg, 'task.done');
    await until(() => ephemeralFor('UOUT').find((t) => /may confirm this task/.test(t)), 'task refusal');
    await slack.click('UA', msg, 'task.done');

    const done = await drive(runId, () => false);
    expect(done.status).toBe('succeeded');
    const final = await until(() => {
      const m = liveMessage(runId) as SlackMessage;
      return JSON.stringify(m.blocks).includes('*succeeded*') ? m : undefined;
    }, 'final message');
    expect(final.edits).toBeGreaterThan(3);
    expect(JSON.stringify(final.blocks)).not.toContain('run.approve');
    // Thread notes are posted right after the in-place update: wait for the last one (the requester is told).
    await until(() => slack.messages.some((m) => m.thread_ts === final.ts && m.text.startsWith('<@UREQ>')), 'requester told in the thread');
    const thread = slack.messages.filter((m) => m.thread_ts === final.ts).map((m) => m.text);
    expect(thread.some((t) => /Verify the Region: eu-central-1 verified/.test(t))).toBe(true);
    expect(aws.world.mutations()).toMatchObject({ CreateKey: 1, ReplicateKey: 1, UpdateInstance: 1, AddRegion: 1 });
  });

  it('refuses bad signatures, stale timestamps, malformed commands and non-requesters; nothing starts', async () => {
    const before = (await engine.listRecent(50)).length;
    expect((await slack.command('UREQ', 'add-region eu-west-1', CHANNEL, { sign: false })).status).toBe(401);
    expect((await slack.command('UREQ', 'add-region eu-west-1', CHANNEL, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    for (const [text, expected] of [
      ['frobnicate', 'Unknown command `frobnicate`'],
      ['add-region', 'The Region is missing.\nUsage: `/idc add-region <region> [reason]`'],
      ['add-region eu-central-one', '`eu-central-one` is not an AWS Region name'],
      ['status now please', '`status` takes no arguments'],
      ['show 42', '`42` is not a workflow id'],
    ]) {
      const res = await slack.command('UREQ', text as string);
      expect(res.status).toBe(200);
      expect(res.json().text).toContain(expected);
    }
    const denied = await slack.command('UB', 'add-region eu-west-1');
    expect(denied.json().text).toContain('Only members of the `requesters` role');
    expect((await engine.listRecent(50)).length).toBe(before);
    expect(lastResponse()).toBeDefined();
  });
});
