import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createAwsClients } from '../../src/aws/clients';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { startSlackEmulator, type SlackEmulator, type SlackMessage } from '../../dev/emulators/slack/server';
import { createEngine, isTerminal, loadWorkflows, type Engine, type Run } from '../../src/engine';
import {
  createNotifier,
  createSlackApp,
  createSlackClient,
  createSlackDirectory,
  type SlackDirectory,
} from '../../src/slack/app';
import { stubQueries } from '../../dev/stub-queries';
import { createStepRegistry, KNOWN_REGIONS } from '../../src/steps';
import { freshStore } from '../support/dynamo';
import { FakeClock } from '../support/fake-clock';
import { freePort } from '../../dev/dynamo-local';

const clock = new FakeClock();
let aws: AwsEmulator;
let slack: SlackEmulator;
let engine: Engine;
/** A second engine on the same table, for the Socket Mode app (its live-message listener stays its own). */
let socketEngine: Engine;
let flushAll: (deadlineMs?: number) => Promise<unknown>;
let server: Server;
let directory: SlackDirectory;
let stopApp: () => Promise<void>;
const CHANNEL = 'C0IDC';
const roles = { 'identity-admins': ['UA', 'UB', 'UREQ', 'UGUEST', 'UGONE'], requesters: ['UREQ', 'UA'] };
const people = {
  UA: { name: 'ana' },
  UB: { name: 'ben' },
  UREQ: { name: 'rea' },
  UOUT: { name: 'out' },
  UGUEST: { name: 'guest', is_restricted: true },
};
const settings = {
  token: 'xoxb-test-token',
  signingSecret: 'test-signing-secret',
  channel: CHANNEL,
  roles,
  requesterRole: 'requesters',
  baseInput: { homeRegion: 'us-east-1', keyAlias: 'alias/identity-center' },
  retryMs: 100,
  coalesceMs: 20,
  regions: new Set(KNOWN_REGIONS),
  requireReason: true,
  ticketPattern: /^CHG[0-9]+$/,
  notifyApprovers: 'dm' as const,
};

beforeAll(async () => {
  aws = await startAwsEmulator({ now: clock.now, users: 120, groups: 12 });
  Object.assign(process.env, aws.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  slack = await startSlackEmulator({
    token: 'xoxb-test-token',
    signingSecret: 'test-signing-secret',
    users: people,
    appToken: 'xapp-test-app-token',
    rateWindowMs: 2000,
  });
  const registry = createStepRegistry(createAwsClients({ maxAttempts: 1 }));
  const definitions = loadWorkflows(join(__dirname, '../../workflows'), {
    registry,
    roles: new Set(Object.keys(roles)),
  });
  const { store } = await freshStore(clock.now);
  // Roles are answered by the Slack app's own directory (users.info, user groups), as in production.
  directory = createSlackDirectory(roles, createSlackClient({ ...settings, apiUrl: slack.apiUrl }));
  engine = createEngine({ store, registry, definitions, directory, owner: 'bot', clock, random: () => 0 });
  socketEngine = createEngine({ store, registry, definitions, directory, owner: 'socket', clock, random: () => 0 });
  const { app, flush, init } = createSlackApp({
    settings: { ...settings, apiUrl: slack.apiUrl },
    engine,
    queries: stubQueries(),
    directory,
  });
  await init();
  server = (await app.start(0)) as Server;
  stopApp = () => app.stop() as Promise<void>;
  flushAll = flush;
  slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
});

afterAll(async () => {
  await engine.stop();
  await flushAll(); // no Slack call may outlive the emulator
  await stopApp();
  await slack.close();
  await aws.close();
});

const until = async <T>(f: () => T | undefined | Promise<T | undefined>, what: string, ms = 6000): Promise<T> => {
  for (let i = 0; i < ms / 20; i++) {
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

/** Sends the command as UREQ and returns the id of the workflow the bot says it started. */
async function startViaSlack(text: string): Promise<string> {
  const seen = slack.responses.length;
  await slack.command('UREQ', text);
  const started = await until(
    () => slack.responses.slice(seen).find((r) => /Started workflow/.test(String(r.body.text))),
    `start reply to ${text}`,
  );
  return /`([^`]+)`/.exec(String(started.body.text))?.[1] as string;
}

const liveMessage = (runId: string) =>
  slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(runId));
const ephemeralFor = (user: string) => slack.ephemerals.filter((e) => e.user === user).map((e) => e.text);
const lastResponse = () => slack.responses[slack.responses.length - 1]?.body.text as string | undefined;

describe('Slack end to end over HTTP', () => {
  it('runs /idc add-region from the command through approvals, the IdP task and verification', async () => {
    const res = await slack.command('UREQ', 'add-region eu-central-1 DR for <!channel> EU');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const started = await until(
      () => slack.responses.find((r) => /Started workflow/.test(String(r.body.text))),
      'start reply',
    );
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
    // A guest account never approves, even when the configuration names it (users.info says so),
    // nor does someone who has left the workspace (users.info: user_not_found).
    await slack.click('UGUEST', msg, 'run.approve');
    await until(() => ephemeralFor('UGUEST').find((t) => /not one of the approvers/.test(t)), 'guest refusal');
    await slack.click('UGONE', msg, 'run.approve');
    await until(
      () => ephemeralFor('UGONE').find((t) => /not one of the approvers/.test(t)),
      'departed approver refusal',
    );
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
    // Thread notes since the last update go out as one reply: wait for the one that tells the requester.
    await until(
      () => slack.messages.some((m) => m.thread_ts === final.ts && m.text.includes('<@UREQ>')),
      'requester told in the thread',
    );
    const thread = slack.messages.filter((m) => m.thread_ts === final.ts).map((m) => m.text);
    expect(thread.some((t) => /Verify the Region: eu-central-1 verified/.test(t))).toBe(true);
    expect(aws.world.mutations()).toMatchObject({ CreateKey: 1, ReplicateKey: 1, UpdateInstance: 1, AddRegion: 1 });
    // Updates are coalesced: the whole runbook stayed inside Slack's tiers (chat.update 50/min) without a 429.
    expect(final.edits).toBeLessThan(50);
    expect(slack.limited).toEqual([]);
    // /idc show gives the audit trail, each AWS change with its request id.
    const seen = slack.responses.length;
    await slack.command('UREQ', `show ${runId}`);
    const shown = await until(
      () => slack.responses.slice(seen).find((r) => String(r.body.text).startsWith('*add-region*')),
      'show reply',
    );
    expect(String(shown.body.text)).toMatch(/SSOAdmin\.AddRegion [0-9a-f-]{36}/);
  });

  it('ends add-region --sign-in-check with a person signing in: /idc drill --sign-in completes that step', async () => {
    const run = await engine.start({
      workflowId: 'add-region',
      input: { region: 'eu-west-2', homeRegion: 'us-east-1', keyAlias: 'alias/identity-center', signInCheck: true },
      requester: 'UREQ',
      reason: 'DR with proof',
    });
    await drive(run.id, (r) => r.status === 'awaiting_approval');
    await engine.decide({ runId: run.id, user: 'UA', verdict: 'approve' });
    await engine.decide({ runId: run.id, user: 'UB', verdict: 'approve' });
    await drive(run.id, (r) => r.status === 'awaiting_task');
    await engine.confirmTask({ runId: run.id, user: 'UA' }); // the IdP, by hand
    const waiting = await drive(run.id, (r) => r.status === 'awaiting_task');
    expect(waiting.definition.steps[waiting.cursor]?.id).toBe('sign-in');
    // An outsider's sign-in proves nothing for the workflow (the task's rules), the requester's does.
    const seen = slack.responses.length;
    await slack.command('UOUT', 'drill eu-west-2 --sign-in');
    await until(
      () => slack.responses.slice(seen).find((r) => /signed in through/.test(String(r.body.text))),
      'outsider',
    );
    expect((await engine.get(run.id))?.status).toBe('awaiting_task');
    await slack.command('UREQ', 'drill eu-west-2 --sign-in');
    const said = await until(
      () => slack.responses.slice(seen).find((r) => /completes the sign-in step/.test(String(r.body.text))),
      'sign-in step completed',
    );
    expect(String(said.body.text)).toContain(run.id);
    const done = await drive(run.id, () => false);
    expect([done.status, done.steps['sign-in']?.confirmedBy]).toEqual(['succeeded', 'UREQ']);
    aws.world.instance.regions.delete('eu-west-2'); // the Region quota: the tests below add others
  });

  it('fails over with the primary down: a person points the IdP, then everyone is told where to sign in', async () => {
    aws.world.faults.outage.add('us-east-1');
    try {
      const runId = await startViaSlack('failover eu-central-1 us-east-1 sign-in errors');
      const waiting = await drive(runId, (r) => r.status === 'awaiting_task');
      expect(waiting.definition.steps[waiting.cursor]?.id).toBe('switch-idp'); // no IdP adapter here
      await engine.confirmTask({ runId, user: 'UA' });
      expect((await drive(runId, () => false)).status).toBe('succeeded');
      const told = await until(
        () => slack.messages.find((m) => m.channel === CHANNEL && /until further notice/.test(m.text)),
        'the announcement',
      );
      expect(told.text).toMatch(
        /Sign in through eu-central-1 until further notice: https:\/\/ssoins-\w+\.eu-central-1\.portal\.amazonaws\.com/,
      );
      expect(told.text).toContain(runId);
    } finally {
      aws.world.faults.outage.delete('us-east-1');
    }
  });

  it('refuses bad signatures, stale timestamps, malformed commands and non-requesters; nothing starts', async () => {
    const before = (await engine.listRecent(50)).length;
    expect((await slack.command('UREQ', 'add-region eu-west-1', CHANNEL, { sign: false })).status).toBe(401);
    expect(
      (await slack.command('UREQ', 'add-region eu-west-1', CHANNEL, { timestamp: Math.floor(Date.now() / 1000) - 600 }))
        .status,
    ).toBe(401);
    for (const [text, expected] of [
      ['frobnicate', 'Unknown command `frobnicate`'],
      ['verify', 'The Region is missing.\nUsage: `/idc verify <region>`'],
      ['add-region eu-central-one', '`eu-central-one` is not an AWS Region name'],
      ['status now please', '`status` takes no arguments'],
      ['show 42', '`42` is not a workflow id'],
    ]) {
      const res = await slack.command('UREQ', text as string);
      expect(res.status).toBe(200);
      expect(res.json().text).toContain(expected);
    }
    const seen = slack.responses.length;
    await slack.command('UB', 'add-region eu-west-1 DR');
    await until(
      () =>
        slack.responses.slice(seen).find((r) => String(r.body.text).includes('Only members of the `requesters` role')),
      'role refusal',
    );
    expect((await engine.listRecent(50)).length).toBe(before);
    expect(lastResponse()).toBeDefined();
  });

  it('refuses a start in the ack while another workflow holds the instance, once it has read the lock', async () => {
    const holder = await startViaSlack('add-region ap-southeast-2 first');
    const refusal = new RegExp(`Another workflow \\(${holder}\\)`);
    // UA's first try reads the lock (the slow part answers); the next one is answered in the ack itself.
    let seen = slack.responses.length;
    expect((await slack.command('UA', 'add-region eu-west-2 second')).json().text).toMatch(/^Working on/);
    await until(() => slack.responses.slice(seen).find((r) => refusal.test(String(r.body.text))), 'refusal');
    expect((await slack.command('UA', 'remove-region us-west-2 third')).json().text).toMatch(refusal);
    // Not to someone who may not start workflows: that refusal comes from the slow part, as before.
    seen = slack.responses.length;
    expect((await slack.command('UB', 'add-region eu-west-2 fourth')).json().text).toMatch(/^Working on/);
    await until(() => slack.responses.slice(seen).find((r) => /Only members of/.test(String(r.body.text))), 'UB');
    // Once the holder has ended here, nothing is remembered: the next start goes through.
    await engine.cancel({ runId: holder, user: 'UREQ', reason: 'test' });
    seen = slack.responses.length;
    expect((await slack.command('UA', 'add-region eu-west-2 fifth')).json().text).toMatch(/^Working on/);
    const started = await until(
      () => slack.responses.slice(seen).find((r) => /Started workflow/.test(String(r.body.text))),
      'start',
    );
    await engine.cancel({ runId: /`([^`]+)`/.exec(String(started.body.text))?.[1] as string, user: 'UA' });
  });

  it('takes workflow inputs as options, a reason and a ticket: remove-region --delete-replica-key reaches the second gate', async () => {
    const help = await slack.command('UREQ', 'help remove-region');
    expect(help.json().text).toContain('`--delete-replica-key` — also schedule deletion of the key replica');
    expect(help.json().text).toContain('`--deletion-window-days <number>`');
    expect(help.json().text).toContain('`--ticket <ref>`');
    for (const [text, expected] of [
      ['remove-region eu-west-3', 'A change needs a reason'],
      ['remove-region eu-west-3 cleanup --delete-replica', 'Unknown option `--delete-replica` for `remove-region`'],
      ['remove-region eu-west-3 cleanup --deletion-window-days', '`--deletion-window-days` needs a value'],
      ['remove-region eu-west-3 cleanup --ticket INC9', '`INC9` is not a change ticket reference here'],
    ]) {
      const res = await slack.command('UREQ', text as string);
      expect(res.json().text).toContain(expected);
    }
    const seen = slack.responses.length;
    await slack.command('UREQ', 'remove-region eu-west-3 cleanup --deletion-window-days seven');
    await until(
      () =>
        slack.responses.slice(seen).find((r) => /deletionWindowDays" must be a whole number/.test(String(r.body.text))),
      'input refusal',
    );
    aws.world.instance.regions.set('eu-west-3', { name: 'eu-west-3', status: 'ACTIVE', addedDate: clock.now() });
    try {
      const runId = await startViaSlack(
        'remove-region eu-west-3 no longer needed --delete-replica-key --deletion-window-days 7 --ticket CHG42',
      );
      const run = (await engine.get(runId)) as Run;
      expect(run.input).toMatchObject({ region: 'eu-west-3', deleteReplicaKey: true, deletionWindowDays: 7 });
      expect([run.reason, run.ticket]).toEqual(['no longer needed', 'CHG42']);
      expect((await engine.events(runId))[0]?.data).toMatchObject({ ticket: 'CHG42' });
      await until(() => JSON.stringify(liveMessage(runId)?.blocks ?? '').includes('ticket `CHG42`'), 'ticket shown');
      // Approved, the Region removed: the replica-deletion gate is reachable from Slack now.
      const first = await drive(runId, (r) => r.status === 'awaiting_approval');
      // The approvers are asked: mentioned in the thread (never the requester), and each by direct message.
      const asked = await until(
        () => slack.messages.find((m) => m.thread_ts === liveMessage(runId)?.ts && m.text.startsWith('🔔')),
        'approvers asked in the thread',
      );
      expect(asked.text).toMatch(/<@UA>.*<@UB>/);
      expect(asked.text).not.toContain('<@UREQ>');
      await until(() => slack.messages.find((m) => m.channel === 'UB' && m.text.includes(runId)), 'DM to UB');
      await engine.decide({ runId, user: 'UA', verdict: 'approve' });
      await engine.decide({ runId, user: 'UB', verdict: 'approve' });
      const second = await drive(runId, (r) => r.status === 'awaiting_approval' && r.cursor !== first.cursor);
      expect(second.definition.steps[second.cursor]?.id).toBe('approve-key-deletion');
      await engine.cancel({ runId, user: 'UREQ' });
    } finally {
      aws.world.instance.regions.delete('eu-west-3');
    }
  });

  it('asks for a reason in a modal when someone rejects, and records it', async () => {
    const runId = await startViaSlack('add-region ap-southeast-2 latency');
    await drive(runId, (r) => r.status === 'awaiting_approval');
    const msg = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('run.reject') ? m : undefined;
    }, 'approval message');
    // Four hours later the approvers who have not decided are reminded in the thread (not the requester).
    clock.advance(4 * 3_600_000 + 1000);
    await drive(runId, (r) => r.status === 'awaiting_approval');
    const reminder = await until(
      () => slack.messages.find((m) => m.thread_ts === msg.ts && m.text.startsWith('⏰')),
      'approval reminder',
    );
    expect(reminder.text).toContain('still waiting for 2 more approvals from identity-admins');
    expect(reminder.text).toContain('<@UB>');
    expect(reminder.text).not.toContain('<@UREQ>');
    const before = slack.views.length;
    await slack.click('UB', msg, 'run.reject');
    const modal = await until(
      () => slack.views.slice(before).find((v) => v.user === '' || v.view.callback_id === 'reject.reason'),
      'reason modal',
    );
    expect(JSON.stringify(modal.view)).toContain(runId);
    // Too short: the modal shows the error on the field and nothing is decided.
    const short = await slack.submitView('UB', modal.id, { reason: { reason: 'no' } });
    expect(short.json()).toEqual({ response_action: 'errors', errors: { reason: expect.stringContaining('Say why') } });
    expect((await engine.get(runId))?.status).toBe('awaiting_approval');
    const ok = await slack.submitView('UB', modal.id, { reason: { reason: 'Not during the <!here> freeze' } });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    const run = (await engine.get(runId)) as Run;
    expect(run.status).toBe('rejected');
    expect(run.error).toContain('Not during the <!here> freeze');
    const final = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('*rejected*') ? m : undefined;
    }, 'rejected message');
    expect(JSON.stringify(final.blocks)).toContain('&lt;!here&gt;');
    expect(JSON.stringify(final.blocks)).not.toContain('run.approve');
    expect((await engine.events(runId)).some((e) => e.actor === 'UB' && /rejected: Not during/.test(e.message))).toBe(
      true,
    );
  });

  afterEach(() => {
    slack.setRateLimit('chat.update', 50);
    slack.setRateLimit('chat.postMessage', 60);
    slack.failNext(0);
  });

  it('does not hold a shutdown for ever while Slack is down: flush gives up at its deadline, and catches up later', async () => {
    slack.failNext(100_000);
    const runId = await engine
      .start({
        workflowId: 'verify-region',
        input: { region: 'eu-central-1', homeRegion: 'us-east-1' },
        requester: 'UREQ',
      })
      .then((r) => r.id);
    const started = Date.now();
    expect(await flushAll(800)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
    slack.failNext(0);
    expect(await flushAll()).toBe(true);
    expect(liveMessage(runId)).toBeDefined();
    await engine.cancel({ runId, user: 'UREQ' }).catch(() => undefined);
  });

  it('keeps going through Slack rate limits and a Slack outage; the messages catch up', async () => {
    slack.setRateLimit('chat.update', 2);
    slack.setRateLimit('chat.postMessage', 3);
    const limitedBefore = slack.limited.length;
    const runId = await startViaSlack('verify eu-central-1');
    slack.failNext(20); // Slack answers 503 for a while
    const done = await drive(runId, () => false);
    expect(done.status).toBe('succeeded'); // Slack's trouble never held the workflow back
    const final = await until(
      () => {
        const m = liveMessage(runId);
        return m && JSON.stringify(m.blocks).includes('*succeeded*') ? m : undefined;
      },
      'final message after 429s and 503s',
      25_000,
    );
    expect(final).toBeDefined();
    expect(slack.limited.length).toBeGreaterThan(limitedBefore);
  }, 30_000);
});

describe('read-only commands', () => {
  it('are for full members only: a guest cannot read the audit trail or the plan', async () => {
    const seen = slack.responses.length;
    await slack.command('UGUEST', 'workflows');
    const answer = await until(
      () => slack.responses.slice(seen).find((r) => /Guests and other restricted accounts/.test(String(r.body.text))),
      'refusal',
    );
    expect(String(answer.body.text)).toContain('/idc workflows');
  });

  it('answer a status at hand in the ack itself, only to someone known to be allowed to see it', async () => {
    let seen = slack.responses.length;
    // UA's first status takes the slow part (who UA is: users.info), which reads the status.
    expect((await slack.command('UA', 'status')).json().text).toMatch(/^Working on/);
    await until(() => slack.responses.slice(seen).find((r) => /No problems found/.test(String(r.body.text))), 'status');
    // Now the status is at hand and UA is known: the ack is the answer.
    expect((await slack.command('UA', 'status')).json().text).toContain('No problems found');
    // A guest gets no status from the ack, at hand or not, and the refusal after it.
    seen = slack.responses.length;
    for (let i = 0; i < 2; i++) {
      expect((await slack.command('UGUEST', 'status')).json().text).not.toContain('No problems found');
      await until(
        () => slack.responses.slice(seen).find((r) => /Guests and other restricted accounts/.test(String(r.body.text))),
        'refusal',
      );
      seen = slack.responses.length;
    }
  });

  it('are limited per person per minute, refused in the ack (no job, no table write)', async () => {
    const seen = slack.responses.length;
    const acks: string[] = [];
    for (let i = 0; i < 21; i++) acks.push(await (await slack.command('UOUT', 'workflows')).text);
    const answered = acks.filter((a) => !/commands in the last minute/.test(a)).length;
    expect(answered).toBeLessThanOrEqual(20); // (fewer if this person ran commands in the last minute)
    expect(/commands in the last minute/.test(acks[20] as string)).toBe(true);
    await until(() => slack.responses.length - seen >= answered || undefined, 'the answers');
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.responses.length - seen).toBe(answered); // the refused ones ran nothing
  });
});

describe('requests from outside this installation (Enterprise Grid, Slack Connect, another app)', () => {
  it.each([
    ['another workspace', { teamId: 'T0OTHER' }],
    ['another Grid organization', { enterpriseId: 'E0OTHER' }],
    ['another app', { appId: 'A0OTHER' }],
  ])('refuses a command from %s with an ephemeral, and starts nothing', async (_what, origin) => {
    const before = (await engine.listRecent(100)).length;
    const res = await slack.command('UREQ', 'add-region sa-east-1 sneaky', CHANNEL, { origin });
    expect(res.status).toBe(200);
    expect(res.json().text).toMatch(/only takes requests from its own workspace; refused because/);
    await engine.idle();
    expect((await engine.listRecent(100)).length).toBe(before);
  });

  it('does not count an approval clicked from another workspace, another organization or another message', async () => {
    const runId = await startViaSlack('add-region ca-central-1 grid test');
    await drive(runId, (r) => r.status === 'awaiting_approval');
    const msg = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('run.approve') ? m : undefined;
    }, 'approval message');
    const seen = slack.responses.length;
    await slack.click('UA', msg, 'run.approve', { userTeamId: 'T0PARTNER' }); // a Slack Connect partner
    await slack.click('UB', msg, 'run.approve', { enterpriseId: 'E0OTHER', appId: 'A0OTHER' });
    // Each person is told why (through response_url); wait for both answers, or for a decision to slip through.
    const decisions = async () => (await engine.get(runId))?.steps.approve?.decisions ?? [];
    for (let i = 0; i < 100; i++) {
      const refused = slack.responses
        .slice(seen)
        .filter((r) => /only takes requests from its own/.test(String(r.body.text)));
      if (refused.length >= 2 || (await decisions()).length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await decisions()).toEqual([]);
    // The right person and the right value, but on another message (copied into a thread, say): refused.
    const value = String(
      (msg.blocks ?? [])
        .flatMap((b) => (b.elements as { action_id?: string; value?: string }[]) ?? [])
        .find((e) => e.action_id === 'run.approve')?.value,
    );
    await slack.clickValue('UA', { ...msg, ts: '1700000000.000001' }, 'run.approve', value);
    await until(() => ephemeralFor('UA').find((t) => /does not belong/.test(t)), 'other-message refusal');
    expect(await decisions()).toEqual([]);
    await engine.cancel({ runId, user: 'UREQ' });
  });
});

const selected = (value: string) => ({
  type: 'static_select',
  selected_option: { text: { type: 'plain_text' as const, text: value }, value },
});
const ticked = (name: string) => ({
  type: 'checkboxes',
  selected_options: [{ text: { type: 'plain_text' as const, text: `--${name}` }, value: 'true' }],
});
/** The modal the command opened for `user`, once the bot has filled it (views.update). */
const openedForm = (user: string, before: number) =>
  until(() => slack.views.slice(before).find((v) => v.user === user && v.updates), 'the form filled in');

describe('the change form (a modal)', () => {
  it('opens on /idc add-region without a Region, offers only what may be added, checks each field, and starts the same workflow', async () => {
    const before = slack.views.length;
    const res = await slack.command('UREQ', 'add-region');
    expect(res.status).toBe(200);
    expect(res.text).toBe(''); // nothing in the channel: the form opens instead
    const form = await openedForm('UREQ', before);
    expect(form.view.callback_id).toBe('change.form');
    const select = JSON.stringify(form.view.blocks);
    // Only what regionChoices offered (stubbed here; the AWS side is tested in aws-workflows).
    expect(select).toContain('"value":"eu-central-1"');
    expect(select).toContain('"value":"eu-west-1"');
    expect(select).not.toContain('"value":"us-west-2"');
    // Every field is checked as the command parser checks it; Slack shows each error at its field.
    const bad = await slack.submitView('UREQ', form.id, {
      region: { region: selected('us-west-2') },
      reason: { reason: 'x' },
      ticket: { ticket: 'INC9' },
    });
    expect(bad.json()).toEqual({
      response_action: 'errors',
      errors: {
        region: expect.stringContaining('Choose one of the Regions'),
        reason: expect.stringContaining('Say why'),
        ticket: expect.stringContaining('Not a change ticket reference'),
      },
    });
    const started = slack.ephemerals.length;
    const ok = await slack.submitView('UREQ', form.id, {
      region: { region: selected('eu-west-1') },
      reason: { reason: 'DR for the EU' },
      ticket: { ticket: 'CHG77' },
    });
    expect(ok.text).toBe('');
    const reply = await until(
      () => slack.ephemerals.slice(started).find((e) => e.user === 'UREQ' && /Started workflow/.test(e.text)),
      'started, told to the person',
    );
    const runId = /`([^`]+)`/.exec(reply.text)?.[1] as string;
    const run = (await engine.get(runId)) as Run;
    expect(run.input).toMatchObject({ region: 'eu-west-1' });
    expect([run.requester, run.reason, run.ticket, run.definition.id]).toEqual([
      'UREQ',
      'DR for the EU',
      'CHG77',
      'add-region',
    ]);
    await engine.cancel({ runId, user: 'UREQ' });
  });

  it('carries the workflow options (remove-region: delete the replica key) and refuses people who may not request', async () => {
    const before = slack.views.length;
    await slack.command('UREQ', 'remove-region');
    const form = await openedForm('UREQ', before);
    expect(JSON.stringify(form.view.blocks)).toContain('delete-replica-key');
    const bad = await slack.submitView('UREQ', form.id, {
      region: { region: selected('us-west-2') },
      reason: { reason: 'cleanup' },
      'opt:deletion-window-days': { 'deletion-window-days': { type: 'number_input', value: '7.5' } },
    });
    expect(bad.json()).toMatchObject({ errors: { 'opt:deletion-window-days': 'A whole number, please.' } });
    const started = slack.ephemerals.length;
    await slack.submitView('UREQ', form.id, {
      region: { region: selected('us-west-2') },
      reason: { reason: 'cleanup' },
      'opt:delete-replica-key': { 'delete-replica-key': ticked('delete-replica-key') },
      'opt:deletion-window-days': { 'deletion-window-days': { type: 'number_input', value: '9' } },
    });
    const reply = await until(
      () => slack.ephemerals.slice(started).find((e) => e.user === 'UREQ' && /Started workflow/.test(e.text)),
      'started',
    );
    const run = (await engine.get(/`([^`]+)`/.exec(reply.text)?.[1] as string)) as Run;
    expect(run.input).toMatchObject({ region: 'us-west-2', deleteReplicaKey: true, deletionWindowDays: 9 });
    await engine.cancel({ runId: run.id, user: 'UREQ' });

    // Not a requester: the form says why, offers nothing, and nothing starts.
    const count = (await engine.listRecent(100)).length;
    const seen = slack.views.length;
    await slack.command('UB', 'add-region');
    const refused = await openedForm('UB', seen);
    expect(JSON.stringify(refused.view)).toContain('Only members of the `requesters` role');
    expect(refused.view.submit).toBeUndefined();
    expect((await engine.listRecent(100)).length).toBe(count);
  });
});

describe('the Home tab', () => {
  const homeText = (user: string) => JSON.stringify(slack.home(user)?.view ?? {});
  const published = (user: string, n: number) =>
    until(() => ((slack.home(user)?.publishes ?? 0) > n ? slack.home(user) : undefined), `${user}'s Home tab`);

  it('shows each person what waits for them, with buttons that act as the channel ones do', async () => {
    const opened = async (user: string) => {
      const n = slack.home(user)?.publishes ?? 0;
      const res = await slack.homeOpened(user);
      expect(res.status).toBe(200);
      return published(user, n);
    };
    await opened('UA');
    expect(homeText('UA')).toContain('Nothing: no approval or task waits for you.');
    const runId = await startViaSlack('add-region sa-east-1 latency for Brazil');
    await drive(runId, (r) => r.status === 'awaiting_approval');
    const msg = await until(() => {
      const m = liveMessage(runId);
      return m && JSON.stringify(m.blocks).includes('run.approve') ? m : undefined;
    }, 'approval message');
    const realValue = String(
      (msg.blocks ?? [])
        .flatMap((b) => (b.elements as { action_id: string; value: string }[] | undefined) ?? [])
        .find((e) => e.action_id === 'run.approve')?.value,
    );
    // A value that is not on the published tab (published before the gate opened) changes nothing.
    await slack.clickHome('UA', 'run.approve', undefined, realValue);
    await new Promise((r) => setTimeout(r, 300));
    expect((await engine.get(runId))?.steps.approve?.decisions ?? []).toEqual([]);

    await opened('UA');
    expect(homeText('UA')).toContain(runId);
    expect(homeText('UA')).toContain('run.approve');
    expect(homeText('UA')).toContain('Replication');
    // The requester cannot approve their own change: no button for them; a guest sees nothing.
    await opened('UREQ');
    expect(homeText('UREQ')).not.toContain('run.approve');
    expect(homeText('UREQ')).toContain(runId); // but it is in flight
    await opened('UGUEST');
    expect(homeText('UGUEST')).toContain('Guests and other restricted accounts');
    expect(homeText('UGUEST')).not.toContain(runId);
    const n0 = slack.home('UA')?.publishes ?? 0;

    // Approve from the Home tab: counted like a click in the channel, and the tab says so.
    const value = JSON.parse(
      String(
        ((slack.home('UA')?.view.blocks as { elements?: { action_id: string; value: string }[] }[]) ?? [])
          .flatMap((b) => b.elements ?? [])
          .find((e) => e.action_id === 'run.approve' && e.value.includes(runId))?.value,
      ),
    ) as { stepId: string };
    await slack.clickHome('UA', 'run.approve', undefined);
    const after = await published('UA', n0);
    expect(JSON.stringify(after.view)).toContain('Your approval is recorded.');
    expect((await engine.get(runId))?.steps[value.stepId]?.decisions?.map((d) => d.user)).toEqual(['UA']);
    expect(JSON.stringify(after.view)).not.toContain('run.approve'); // decided: nothing waits for UA

    // Reject from the Home tab: the same reason modal, and the tab is published again.
    await opened('UB');
    const views = slack.views.length;
    await slack.clickHome('UB', 'run.reject');
    const modal = await until(
      () => slack.views.slice(views).find((v) => v.view.callback_id === 'reject.reason'),
      'reason modal',
    );
    const n1 = slack.home('UB')?.publishes ?? 0;
    await slack.submitView('UB', modal.id, { reason: { reason: 'Not in this quarter' } });
    expect((await engine.get(runId))?.status).toBe('rejected');
    expect(JSON.stringify((await published('UB', n1)).view)).toContain('Rejected');
  });
});

describe('audit export', () => {
  it('sends the audit trail as a CSV file in a direct message (files.uploadV2), one row per event', async () => {
    const runId = await startViaSlack('verify eu-central-1');
    await drive(runId, () => false);
    for (const [text, expected] of [
      ['audit --since forever', '`--since` takes a number of days or hours'],
      ['audit --format xml', '`--format` takes `csv` or `json`'],
    ]) {
      const res = await slack.command('UREQ', text as string);
      expect(res.json().text).toContain(expected);
    }
    const seen = slack.responses.length;
    await slack.command('UREQ', 'audit --since 1d');
    const answer = await until(
      () => slack.responses.slice(seen).find((r) => /Sent you the audit trail/.test(String(r.body.text))),
      'audit answer',
    );
    expect(String(answer.body.text)).toMatch(/idc-audit-\d{4}-\d\d-\d\d\.csv/);
    const file = slack.uploads.at(-1);
    expect(file?.channel).toBe('DUREQ');
    const lines = (file?.content ?? '').trim().split('\r\n');
    expect(lines[0]).toBe(
      'at,runId,workflow,region,requester,reason,ticket,status,actor,event,step,message,awsRequests',
    );
    const mine = lines.filter((l) => l.includes(`"${runId}"`));
    expect(mine.length).toBeGreaterThan(2);
    expect(mine[0]).toContain('"run_started"');
    expect(mine.some((l) => /"run_(succeeded|failed)"/.test(l))).toBe(true); // its end is in the trail too
  });
});

describe('channels the bot is not in', () => {
  it('says once, with the fix, that it cannot post findings to the notifications channel, and keeps them', async () => {
    slack.outside.add('C0NOTIFY');
    const errors: string[] = [];
    const logger = {
      error: (_: unknown, m: string) => void errors.push(m),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
    };
    const notify = createNotifier(
      createSlackClient({ ...settings, apiUrl: slack.apiUrl }),
      'C0NOTIFY',
      CHANNEL,
      logger as never,
    );
    try {
      await expect(notify('🔴 a finding')).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
      await expect(notify('🔴 another')).rejects.toBeDefined(); // still queued by the watch, told once
      expect(errors).toEqual([expect.stringContaining('invite it there (/invite @idc-bot)')]);
      expect(
        slack.messages.filter(
          (m) => m.channel === CHANNEL && m.text.includes('cannot post replication findings to <#C0NOTIFY>'),
        ),
      ).toHaveLength(1);
      slack.outside.delete('C0NOTIFY');
      await notify('🔴 a finding');
      expect(slack.messages.some((m) => m.channel === 'C0NOTIFY' && m.text === '🔴 a finding')).toBe(true);
    } finally {
      slack.outside.delete('C0NOTIFY');
    }
  });
});

describe('Slack over Socket Mode', () => {
  it('answers /idc over the socket, acking each envelope within 3 s, with GET /healthz on its port', async () => {
    const port = await freePort();
    let healthy = true;
    const { app, init } = createSlackApp({
      settings: { ...settings, apiUrl: slack.apiUrl, appToken: 'xapp-test-app-token', port },
      engine: socketEngine,
      queries: stubQueries(),
      directory,
      health: () => ({ ok: healthy }),
    });
    await init();
    await app.start();
    try {
      await until(() => slack.socketConnected, 'socket connection');
      // No inbound Slack traffic in Socket Mode; the health route is the only thing on the port.
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { ok: true }]);
      healthy = false;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST' })).status).toBe(404);
      const help = await slack.command('UREQ', 'help');
      expect(help.ms).toBeLessThan(3000);
      expect(help.json().text).toContain('/idc add-region <region> [reason]');
      const bad = await slack.command('UREQ', 'add-region mars-north-1');
      expect(bad.json().text).toContain('`mars-north-1` is not an AWS Region name');
      expect((await slack.command('UREQ', 'plan eu-centrl-1')).json().text).toContain('Did you mean `eu-central-1`?');
      await slack.command('UREQ', 'status');
      await until(
        () => slack.responses.find((r) => String(r.body.text).includes('No problems found')),
        'status over socket',
      );
    } finally {
      await app.stop();
      await until(() => !slack.socketConnected, 'socket closed');
    }
  });
});
