import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../src/aws/clients';
import {
  ConflictError,
  createEngine,
  parseWorkflow,
  type Clock,
  type Engine,
  type EngineOptions,
  type Run,
  type RunStore,
} from '../../src/engine';
import { createStepRegistry } from '../../src/steps';
import { createDynamoRunStore } from '../../src/store';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { staticDirectory } from '../support/directory';
import { freshStore } from '../support/dynamo';
import { FakeClock } from '../support/fake-clock';
import { createMemoryRunStore } from '../support/memory-run-store';
import { TEST_WORKFLOW, testWorld } from '../support/test-kinds';

const directory = staticDirectory({ admins: ['UALICE', 'UBOB', 'UREQ'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
};
/** A store whose writes can be held up, as if the process were paused (a Lambda freeze, a long GC). */
function pausable(store: RunStore, paused: { renewals: boolean; writes?: boolean }): RunStore {
  const later = async () => {
    while (paused.writes) await sleep(10);
  };
  return {
    ...store,
    renewLease: (...a) => (paused.renewals ? new Promise(() => undefined) : store.renewLease(...a)),
    update: async (...a) => (await later(), store.update(...a)),
  };
}

function world(store: RunStore, clock: Clock, opts: Partial<EngineOptions> = {}) {
  const { world: w, registry } = testWorld();
  const def = parseWorkflow(TEST_WORKFLOW, 'change-thing.yml', { registry });
  const definitions = new Map([[def.id, def]]);
  const make = (owner: string, s: RunStore = store, c: Clock = clock) =>
    createEngine({
      registry,
      definitions,
      directory,
      leaseMs: 30_000,
      random: () => 0,
      ...opts,
      store: s,
      owner,
      clock: c,
    });
  return { w, make };
}

/** Starts a change-thing run and approves it, so its "make" step is next. */
async function approved(e: Engine, target = 'alpha'): Promise<Run> {
  const run = await e.start({ workflowId: 'change-thing', input: { target }, requester: 'UREQ' });
  for (let i = 0; i < 5; i++) await e.tick();
  await e.idle();
  await e.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
  return run;
}

describe('engine correctness under skew, pauses and partial failures', () => {
  it('clock skew: a runner whose clock is 5 minutes ahead never takes over a lease that is being renewed', async () => {
    const { store } = await freshStore();
    const { w, make } = world(store, { now: () => Date.now() }, { leaseMs: 600 });
    const a = make('runner-a');
    const b = make('runner-b', store, { now: () => Date.now() + 5 * 60_000 });
    const run = await approved(a);
    let release!: () => void;
    w.block = new Promise<void>((r) => (release = r));
    await a.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' }); // A claims "make" and works on it
    await until('A started', () => w.calls === 1);
    for (let i = 0; i < 25; i++) {
      await b.tick(); // 2.5 s of B looking, four leases long: A renews every 200 ms, so B must leave it alone
      await sleep(100);
    }
    expect(w.attempts).toEqual([1]);
    release();
    await a.idle();
    await b.stop();
    expect((await a.get(run.id))?.steps.make).toMatchObject({ status: 'succeeded', attempt: 1 });
  });

  it.each([
    ['DynamoDB Local', async () => (await freshStore()).store],
    ['memory', async () => createMemoryRunStore()],
  ])('the same process never re-claims a step it is still running, even after a freeze (%s)', async (_n, makeStore) => {
    const clock = new FakeClock();
    const store = await makeStore();
    const paused = { renewals: false };
    const { w, make } = world(pausable(store, paused), clock);
    const a = make('lambda-1');
    const run = await approved(a);
    let release!: () => void;
    w.block = new Promise<void>((r) => (release = r));
    await a.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await until('try 1 started', () => w.calls === 1);
    paused.renewals = true; // frozen: no renewals
    clock.advance(61_000); // ...for two leases
    await a.tick();
    clock.advance(61_000);
    await a.tick(); // the next invocation of the same process
    expect(w.attempts).toEqual([1]);
    paused.renewals = false;
    release();
    await a.idle();
    expect(w.sideEffects).toBe(1);
  });

  it('retry keeps counting attempts, so a retried step still knows an earlier try may have acted', async () => {
    const clock = new FakeClock();
    const { w, make } = world(createMemoryRunStore(), clock);
    const e = make('runner');
    const run = await approved(e);
    w.failures.push('retryable', 'retryable', 'retryable');
    await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    for (let i = 0; i < 10; i++) {
      clock.advance(60_000);
      await e.tick();
    }
    await e.idle();
    expect((await e.get(run.id))?.status).toBe('failed');
    await e.retry({ runId: run.id, user: 'UREQ' });
    await e.idle();
    expect(w.attempts).toEqual([1, 2, 3, 4]);
    expect((await e.get(run.id))?.steps.make).toMatchObject({ status: 'succeeded', attempt: 4, retryBase: 3 });
  });

  it('a poll that timed out while the bot was down asks once more before failing', async () => {
    const clock = new FakeClock();
    const { w, make } = world(createMemoryRunStore(), clock);
    const e = make('runner');
    const run = await approved(e);
    await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await e.idle();
    for (let i = 0; i < 3; i++) await e.tick();
    expect((await e.get(run.id))?.steps.wait?.status).toBe('waiting');
    clock.advance(2 * 3_600_000 + 60_000); // down for 2 h 1 min; meanwhile the status became READY
    w.status = 'READY';
    for (let i = 0; i < 3; i++) await e.tick();
    const after = (await e.get(run.id)) as Run;
    expect(after.steps.wait?.status).toBe('succeeded');
    expect(after.status).toBe('awaiting_task');
  });

  it('decide() says "try again" when it could not save the click', async () => {
    const clock = new FakeClock();
    const store = createMemoryRunStore();
    const { make } = world(store, clock);
    const e = make('runner');
    const run = await approved(e);
    const busy = make('runner', {
      ...store,
      update: async (r) => {
        throw new ConflictError(r.id);
      },
    });
    const res = await busy.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    expect(res.outcome).toBe('try_again');
    expect((await e.get(run.id))?.steps.approve?.decisions?.map((d) => d.user)).toEqual(['UALICE']);
  });

  it('stop() claims nothing new, and hands over what it could not finish in time', async () => {
    const { store } = await freshStore();
    const { w, make } = world(store, { now: () => Date.now() }, { leaseMs: 1_000 });
    const a = make('runner-a');
    const first = await approved(a, 'one');
    const second = await approved(a, 'two');
    let release!: () => void;
    w.block = new Promise<void>((r) => (release = r));
    await a.decide({ runId: first.id, user: 'UBOB', verdict: 'approve' });
    await until('first step started', () => w.calls === 1);
    a.startLoop(20);
    const stopping = a.stop(300);
    await a.decide({ runId: second.id, user: 'UBOB', verdict: 'approve' }); // due now, while stopping
    const started = Date.now();
    await stopping;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(w.calls).toBe(1); // the second run's step was not claimed
    const handed = (await a.get(first.id)) as Run;
    expect(handed.leaseOwner).toBeUndefined(); // another runner resumes it without waiting
    release();
  });
});

describe('retry and cancel', () => {
  it('are for the requester and the approvers of that run only', async () => {
    const clock = new FakeClock();
    const { w, make } = world(createMemoryRunStore(), clock);
    const e = make('runner');
    const run = await approved(e);
    await expect(e.cancel({ runId: run.id, user: 'UEVE' })).rejects.toThrow(
      /Only the requester .* or one of its approvers may cancel/,
    );
    w.failures.push('fatal');
    await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await e.idle();
    expect((await e.get(run.id))?.status).toBe('failed');
    await expect(e.retry({ runId: run.id, user: 'UEVE' })).rejects.toThrow(/may retry/);
    await e.retry({ runId: run.id, user: 'UBOB' }); // an approver of this run
    await e.idle();
    expect((await e.get(run.id))?.status).not.toBe('failed');
  });

  it('a retry after the approval has aged past its gate goes through preflight and the gate again', async () => {
    const clock = new FakeClock();
    const { w, make } = world(createMemoryRunStore(), clock);
    const e = make('runner');
    const run = await approved(e);
    w.failures.push('fatal');
    await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await e.idle();
    expect((await e.get(run.id))?.status).toBe('failed');
    clock.advance(30 * 24 * 3_600_000); // a month later
    await e.retry({ runId: run.id, user: 'UREQ' });
    await e.idle();
    const again = (await e.get(run.id)) as Run;
    expect(again.status).toBe('awaiting_approval');
    expect(again.steps.approve?.decisions).toEqual([]);
    expect(w.calls).toBe(1); // nothing changed before the new approvals
    expect((await e.events(run.id)).some((ev) => /approved again/.test(ev.message))).toBe(true);
  });
});

describe('poison runs and hung calls do not stop the loop', () => {
  it('an unreadable run and an unknown step type are failed after a few tries; a healthy run advances meanwhile', async () => {
    const clock = new FakeClock();
    const { store, db, table } = await freshStore(clock.now);
    const { make } = world(store, clock);
    const e = make('runner');
    // Two corrupt items at the head of the due list, and one run whose snapshot this release cannot run.
    for (const id of ['20260101-aaaaaa', '20260101-bbbbbb']) await putCorrupt(db, table, id, clock.now() - 60_000);
    const odd = await approved(e, 'odd');
    const stored = (await store.get(odd.id)) as Run;
    (stored.definition.steps as unknown[]).splice(stored.cursor, 1, { id: 'teleport', teleport: { to: 'mars' } });
    await store.update({ ...stored, version: stored.version + 1, dueAt: clock.now() }, stored.version, []);
    const healthy = await e.start({ workflowId: 'change-thing', input: { target: 'fine' }, requester: 'UREQ' });
    await e.tick();
    await e.idle();
    expect((await e.get(healthy.id))?.status).toBe('awaiting_approval');
    const oddNow = (await e.get(odd.id)) as Run;
    expect(oddNow.status).toBe('failed');
    expect(oddNow.error).toMatch(/not one this version of the bot can run/);
    for (let i = 0; i < 8; i++) {
      clock.advance(120_000);
      await e.tick();
    }
    expect(await store.listDue(clock.now(), 100)).toEqual([]);
    const raw = await db.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'RUN#20260101-aaaaaa' }, sk: { S: 'RUN' } } }),
    );
    expect(raw.Item?.status?.S).toBe('failed');
    expect(raw.Item?.brokenReason?.S).toMatch(/could not advance it 5 times/);
  });

  it('a result too big to store fails the step once, on record, instead of running it again', async () => {
    const clock = new FakeClock();
    const { store } = await freshStore(clock.now);
    const { w, make } = world(store, clock);
    const e = make('runner');
    const run = await approved(e);
    w.outputPadding = 450_000; // DynamoDB items are at most 400 KB
    await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await e.idle();
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await e.tick();
    }
    const after = (await e.get(run.id)) as Run;
    expect(w.calls).toBe(1);
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/result could not be stored/);
  });

  it('a hung step is abandoned at its deadline, and runs started after it are advanced meanwhile', async () => {
    const { store } = await freshStore();
    const { w, make } = world(store, { now: () => Date.now() }, { leaseMs: 2_000, stepTimeoutMs: 300 });
    const engine = make('runner');
    const hung = await approved(engine, 'hung');
    w.block = new Promise<void>(() => undefined); // never answers
    await engine.decide({ runId: hung.id, user: 'UBOB', verdict: 'approve' });
    engine.startLoop(20);
    await until('the hung step started', () => w.calls >= 1);
    const later = await engine.start({ workflowId: 'change-thing', input: { target: 'later' }, requester: 'UREQ' });
    await until('the later run advanced', async () => (await engine.get(later.id))?.status === 'awaiting_approval');
    await until('the hung try was abandoned', async () =>
      (await engine.events(hung.id)).some((ev) => ev.type === 'step_retrying' && /no answer within/.test(ev.message)),
    );
    w.block = undefined;
    await engine.stop(100);
  });

  it('a terminal write releases the instance lock in the same request', async () => {
    const { db, table } = await freshStore();
    const sent: string[] = [];
    const spy = new Proxy(db, {
      get(target, prop) {
        if (prop !== 'send') return Reflect.get(target, prop);
        return (cmd: { constructor: { name: string }; input: { TransactItems?: object[] } }) => {
          sent.push(
            `${cmd.constructor.name}${cmd.input.TransactItems ? `:${cmd.input.TransactItems.map((i) => Object.keys(i)[0]).join('+')}` : ''}`,
          );
          return target.send(cmd as never);
        };
      },
    }) as DynamoDBClient;
    const store = createDynamoRunStore(spy, table);
    const { make } = world(store, new FakeClock());
    const e = make('runner');
    const run = await approved(e);
    sent.length = 0;
    await e.cancel({ runId: run.id, user: 'UREQ' });
    const writes = sent.filter((c) => !/^(GetItem|Query)Command/.test(c));
    expect(writes).toEqual(['TransactWriteItemsCommand:Put+Put+Delete']);
    expect(await store.lockHolder('alpha')).toBeUndefined();
  });

  it('a stale-lock check never deletes a lock its run took back in the meantime', async () => {
    const { db, table, store } = await freshStore();
    const { make } = world(store, new FakeClock());
    const e = make('runner');
    const x = await approved(e, 'shared');
    await e.cancel({ runId: x.id, user: 'UREQ' });
    // X ended; its lock is still there (a crash between the final write and the release, in older versions).
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'LOCK#shared' }, sk: { S: 'LOCK' }, holder: { S: x.id }, since: { N: '1' } },
      }),
    );
    let armed = true;
    const slow = new Proxy(db, {
      get(target, prop) {
        if (prop !== 'send') return Reflect.get(target, prop);
        return async (cmd: { input: { ProjectionExpression?: string } }) => {
          const out = await target.send(cmd as never);
          if (armed && cmd.input.ProjectionExpression === '#s') {
            armed = false;
            // Between Y reading "X has ended" and Y freeing the lock, X comes back (retried) and holds it again.
            const now = (await store.get(x.id)) as Run;
            await store.update({ ...now, version: now.version + 1, status: 'running' }, now.version, [], {
              acquireLock: ['shared'],
            });
          }
          return out;
        };
      },
    }) as DynamoDBClient;
    const y = createDynamoRunStore(slow, table);
    expect((await y.liveLockHolder('shared'))?.runId).toBe(x.id);
    expect(await store.lockHolder('shared')).toBe(x.id);
  });
});

describe('a stale try never acts (the real kms.ensure-multi-region-key, AWS emulator)', () => {
  let emu: AwsEmulator;
  beforeAll(async () => {
    emu = await startAwsEmulator({ users: 10, groups: 2 });
    Object.assign(process.env, emu.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  });
  afterAll(() => emu.close());

  it('A pauses just before CreateKey, B takes over and creates the key, A wakes: still one key', async () => {
    const { store } = await freshStore();
    const flow = `id: key-only
version: 1
title: Key only
inputs: {}
steps:
  - id: approve
    approval: { approvers: [admins] }
  - id: key
    action: kms.ensure-multi-region-key
    with: { primaryRegion: us-east-1, accountId: "${emu.world.accountId}", keyAlias: alias/fence-test }
`;
    let gate: Promise<void> | undefined;
    let open!: () => void;
    const real = createAwsClients({ maxAttempts: 1 });
    // A's KMS answers DescribeKey, then A is paused (the answer reaches it late): it still thinks there is no key.
    const pausedKms = (region: string) => {
      const c = real.kms(region);
      return new Proxy(c, {
        get: (t, p) =>
          p === 'send'
            ? async (cmd: { constructor: { name: string } }) => {
                try {
                  return await t.send(cmd as never); // "no such alias" is an answer too
                } finally {
                  if (cmd.constructor.name === 'DescribeKeyCommand' && gate) await gate;
                }
              }
            : Reflect.get(t, p),
      });
    };
    const registryA = createStepRegistry({ ...real, kms: pausedKms });
    const registryB = createStepRegistry(createAwsClients({ maxAttempts: 1 }));
    const paused = { renewals: false, writes: false };
    const engine = (owner: string, registry: typeof registryA, s: RunStore) => {
      const def = parseWorkflow(flow, 'key-only.yml', { registry });
      return createEngine({
        store: s,
        registry,
        definitions: new Map([[def.id, def]]),
        directory,
        owner,
        leaseMs: 600,
        clock: { now: () => Date.now() },
      });
    };
    const a = engine('runner-a', registryA, pausable(store, paused));
    const b = engine('runner-b', registryB, store);
    const run = await a.start({ workflowId: 'key-only', input: {}, requester: 'UREQ' });
    await a.tick();
    const keysBefore = emu.world.keys.size;
    gate = new Promise<void>((r) => (open = r));
    await a.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    await until('A is inside the step', async () => (await store.get(run.id))?.leaseOwner === 'runner-a');
    Object.assign(paused, { renewals: true, writes: true }); // A is paused as a whole: it writes nothing
    await until('B took over and finished', async () => {
      await b.tick();
      return (await store.get(run.id))?.status === 'succeeded';
    });
    gate = undefined;
    paused.writes = false;
    open(); // A wakes up
    await a.idle();
    expect(emu.world.keys.size - keysBefore).toBe(1);
    const events = await a.events(run.id);
    expect(events.filter((ev) => ev.type === 'step_intent').map((ev) => ev.actor)).toEqual(['runner-b']);
    expect(
      events.some(
        (ev) => ev.type === 'step_late_result' && ev.actor === 'runner-a' && /Lost the lease/.test(ev.message),
      ),
    ).toBe(true);
  });
});

async function putCorrupt(db: DynamoDBClient, table: string, id: string, dueAt: number) {
  const s = (v: string) => ({ S: v });
  await db.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: s(`RUN#${id}`),
        sk: s('RUN'),
        data: s('{"this is": not json'),
        version: { N: '3' },
        status: s('running'),
        dueAt: { N: String(dueAt) },
        gsi1pk: s('DUE'),
        gsi1sk: s(`${String(dueAt).padStart(15, '0')}#${id}`),
      },
    }),
  );
}

describe('the loop when nothing is due', () => {
  it('looks at the table about once per idle poll, yet starts new work at once and picks up a retry when it is due', async () => {
    const { store } = await freshStore();
    let looks = 0;
    const counted: RunStore = { ...store, dueWork: (now, limit) => (looks++, store.dueWork(now, limit)) };
    const retry = { baseMs: 700, factor: 2, maxMs: 10_000, jitter: 0 };
    const { w, make } = world(counted, { now: () => Date.now() }, { idlePollMs: 1_000, retry });
    const e = make('idle-loop');
    e.startLoop(50);
    try {
      await sleep(2_600);
      // Idle: about one look per idle poll (a 50 ms interval used to mean one look every 50 ms: 52 here).
      expect(looks).toBeLessThanOrEqual(4);
      // New work starts at once.
      const t0 = Date.now();
      const run = await e.start({ workflowId: 'change-thing', input: { target: 'idle' }, requester: 'UREQ' });
      await until('the run reached its gate', async () => (await e.get(run.id))?.status === 'awaiting_approval');
      expect(Date.now() - t0).toBeLessThan(900);
      // A retry due in 700 ms is picked up then, not at the next idle poll.
      w.failures.push('retryable');
      await e.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
      await e.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
      await until('first try', () => w.attempts.length >= 1);
      const failedAt = Date.now();
      await until('second try', () => w.attempts.length >= 2);
      expect(Date.now() - failedAt).toBeLessThan(700 + 400);
    } finally {
      await e.stop(500);
    }
  });
});
