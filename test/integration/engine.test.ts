import { createEngine, LockHeldError, parseWorkflow, type Run, type RunStore } from '../../src/engine';
import { staticDirectory } from '../support/directory';
import { freshStore } from '../support/dynamo';
import { createMemoryRunStore } from '../support/memory-run-store';
import { FakeClock } from '../support/fake-clock';
import { TEST_WORKFLOW, testWorld } from '../support/test-kinds';

const HOUR = 3_600_000;

/** The engine's rules hold on both stores: DynamoDB Local (the real one) and in memory (milliseconds). */
const STORES = [
  ['DynamoDB Local', async (clock: FakeClock): Promise<RunStore> => (await freshStore(clock.now)).store],
  ['memory', async (): Promise<RunStore> => createMemoryRunStore()],
] as const;
let makeStore: (clock: FakeClock) => Promise<RunStore>;

async function setup() {
  const clock = new FakeClock();
  const { world, registry } = testWorld();
  const store = await makeStore(clock);
  const def = parseWorkflow(TEST_WORKFLOW, 'change-thing.yml', { registry });
  const definitions = new Map([[def.id, def]]);
  const directory = staticDirectory({ admins: ['UALICE', 'UBOB', 'UREQ'] });
  const make = (owner: string, s: RunStore = store) =>
    createEngine({ store: s, registry, definitions, directory, owner, clock, leaseMs: 30_000, random: () => 0 });
  return { clock, world, store, make, engine: make('runner-a') };
}

/** Ticks until nothing more happens right now. */
async function drain(...engines: { tick(): Promise<number>; stop(): Promise<void> }[]) {
  for (let i = 0; i < 20; i++) {
    const n = await Promise.all(engines.map((e) => e.tick()));
    await Promise.all(engines.map((e) => e.stop()));
    if (n.every((x) => x === 0)) return;
  }
}

async function toApproval(s: Awaited<ReturnType<typeof setup>>, target = 'alpha') {
  const run = await s.engine.start({ workflowId: 'change-thing', input: { target }, requester: 'UREQ', reason: 'DR' });
  await drain(s.engine);
  return (await s.engine.get(run.id)) as Run;
}

describe.each(STORES)('engine on %s', (_name, storeFactory) => {
  beforeAll(() => {
    makeStore = storeFactory;
  });

  it('runs a workflow end to end and keeps a complete audit trail', async () => {
    const s = await setup();
    const run = await toApproval(s);
    expect(run.status).toBe('awaiting_approval');
    expect(run.steps.approve?.planHash).toMatch(/^[0-9a-f]{12}$/);

    expect((await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' })).outcome).toBe('recorded');
    expect((await s.engine.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' })).outcome).toBe('opened');
    await drain(s.engine);
    let now = (await s.engine.get(run.id)) as Run;
    expect(now.status).toBe('waiting');
    expect(now.steps.make?.output).toEqual({ name: 'alpha', id: 'thing-alpha' });

    s.world.status = 'READY';
    s.clock.advance(10_000);
    await drain(s.engine);
    now = (await s.engine.get(run.id)) as Run;
    expect(now.status).toBe('awaiting_task');
    expect(now.steps['tell-idp']?.output).toEqual({
      title: 'Tell the IdP about thing-alpha',
      instructions: 'Add thing-alpha',
    });

    expect((await s.engine.confirmTask({ runId: run.id, user: 'UOUTSIDER' })).ok).toBe(false);
    expect((await s.engine.confirmTask({ runId: run.id, user: 'UREQ' })).ok).toBe(true);
    await drain(s.engine);
    now = (await s.engine.get(run.id)) as Run;
    expect(now.status).toBe('succeeded');
    expect(now.steps.optional?.status).toBe('skipped');
    expect(await s.store.lockHolder('alpha')).toBeUndefined();

    const events = await s.engine.events(run.id);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run_started');
    expect(events[0]?.actor).toBe('UREQ');
    expect(types).toEqual(
      expect.arrayContaining([
        'approval_requested',
        'approval_granted',
        'step_started',
        'step_succeeded',
        'step_waiting',
        'task_requested',
        'task_confirmed',
        'step_skipped',
        'run_succeeded',
      ]),
    );
    expect(
      events
        .filter((e) => e.type === 'approval_granted')
        .map((e) => e.actor)
        .sort(),
    ).toEqual(['UALICE', 'UBOB']);
    // seq is the run version: strictly ordered, nothing missing between writes that carried events
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('refuses self-approval, non-approvers and double clicks, and counts each person once', async () => {
    const s = await setup();
    const run = await toApproval(s);
    expect((await s.engine.decide({ runId: run.id, user: 'UREQ', verdict: 'approve' })).outcome).toBe('self_approval');
    expect((await s.engine.decide({ runId: run.id, user: 'UEVE', verdict: 'approve' })).outcome).toBe('not_allowed');
    expect((await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' })).outcome).toBe('recorded');
    expect((await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' })).outcome).toBe('duplicate');
    expect(
      (await s.engine.decide({ runId: run.id, user: 'UBOB', verdict: 'approve', planHash: 'ffffffffffff' })).outcome,
    ).toBe('stale_plan');
    expect((await s.engine.decide({ runId: 'nope', user: 'UBOB', verdict: 'approve' })).outcome).toBe('not_found');
    const after = (await s.engine.get(run.id)) as Run;
    expect(after.status).toBe('awaiting_approval');
    expect(after.steps.approve?.decisions?.map((d) => d.user)).toEqual(['UALICE']);
  });

  it('counts two approvers clicking at the same moment and opens the gate once', async () => {
    const s = await setup();
    const run = await toApproval(s);
    const runnerB = s.make('runner-b');
    const [a, b] = await Promise.all([
      s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' }),
      runnerB.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' }),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(['opened', 'recorded']);
    await drain(s.engine, runnerB); // whichever runner opened the gate goes on in the background
    const events = await s.engine.events(run.id);
    expect(events.filter((e) => e.type === 'approval_granted')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'step_succeeded' && e.stepId === 'approve')).toHaveLength(1);
    expect(s.world.sideEffects).toBe(1);
  });

  it('lets two runners race for one workflow and runs each step once', async () => {
    const s = await setup();
    const b = s.make('runner-b');
    const run = await s.engine.start({ workflowId: 'change-thing', input: { target: 'race' }, requester: 'UREQ' });
    await drain(s.engine, b);
    await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    await b.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await drain(s.engine, b);
    s.world.status = 'READY';
    s.clock.advance(60_000);
    await drain(s.engine, b);
    const events = await s.engine.events(run.id);
    expect(s.world.calls).toBe(1);
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'make')).toHaveLength(1);
    expect(((await s.engine.get(run.id)) as Run).status).toBe('awaiting_task');
  });

  it('resumes a step abandoned by a dead runner after its lease expires, without a second side effect', async () => {
    const s = await setup();
    let dead = false;
    // Runner A's connection to the table dies with it.
    const deadStore = new Proxy(s.store, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          dead ? new Promise(() => undefined) : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const a = s.make('runner-a', deadStore);
    const run = await a.start({ workflowId: 'change-thing', input: { target: 'crash' }, requester: 'UREQ' });
    await drain(a);
    await a.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    let release!: () => void;
    s.world.block = new Promise<void>((r) => (release = r));
    const opened = a.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' }); // A starts "make" and hangs in it
    await opened;
    for (let i = 0; i < 50 && s.world.calls === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.world.calls).toBe(1);
    dead = true;
    s.world.block = undefined;

    const b = s.make('runner-b');
    expect(await b.tick()).toBe(0); // lease still valid: B leaves it alone
    s.clock.advance(31_000);
    await b.tick(); // B sees the lease for the first time: it starts watching it, on its own clock
    expect(s.world.calls).toBe(1);
    s.clock.advance(31_000); // unchanged for a whole lease: A is gone
    await drain(b);
    const resumed = (await b.get(run.id)) as Run;
    expect(resumed.steps.make).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(s.world.sideEffects).toBe(1);
    const events = await b.events(run.id);
    expect(events.find((e) => e.type === 'step_resumed')?.message).toMatch(/runner runner-a did not renew its lease/);
    release();
  });

  it('reminds the approvers while the gate is open, then expires it', async () => {
    const s = await setup();
    const run = await toApproval(s);
    await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    for (let h = 0; h < 25; h++) {
      s.clock.advance(HOUR);
      await drain(s.engine);
    }
    const events = await s.engine.events(run.id);
    // Every 8 h of a 24 h gate: at 8 h and 16 h (none at 24 h, when it expires instead).
    expect(events.filter((e) => e.type === 'approval_reminder').map((e) => e.message)).toEqual([
      'approve: still waiting for 1 more approval from admins; it expires in 16h 00m',
      'approve: still waiting for 1 more approval from admins; it expires in 8h 00m',
    ]);
    expect(((await s.engine.get(run.id)) as Run).status).toBe('expired');
  });

  it('expires an unanswered approval gate and releases the instance lock', async () => {
    const s = await setup();
    const run = await toApproval(s);
    s.clock.advance(23 * HOUR);
    await drain(s.engine);
    expect(((await s.engine.get(run.id)) as Run).status).toBe('awaiting_approval');
    s.clock.advance(2 * HOUR);
    await drain(s.engine);
    const done = (await s.engine.get(run.id)) as Run;
    expect(done.status).toBe('expired');
    expect(done.error).toMatch(/expired after 24h with 0 of 2 approvals/);
    expect((await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' })).outcome).toBe('expired');
    expect(await s.store.lockHolder('alpha')).toBeUndefined();
    expect(s.world.calls).toBe(0);
  });

  it('voids approvals when the plan changed before execution, and says what changed', async () => {
    const s = await setup();
    const run = await toApproval(s);
    const firstHash = run.steps.approve?.planHash;
    s.world.plan = { changes: ['create thing', 'also delete other thing'] };
    await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    await s.engine.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await drain(s.engine);
    const again = (await s.engine.get(run.id)) as Run;
    expect(again.status).toBe('awaiting_approval');
    expect(again.steps.approve?.decisions).toEqual([]);
    expect(again.steps.approve?.planHash).not.toBe(firstHash);
    expect(s.world.calls).toBe(0);
    const changed = (await s.engine.events(run.id)).find((e) => e.type === 'plan_changed');
    expect(changed?.message).toContain('+ changes: also delete other thing');
    // A click on the old message carries the old hash and counts for nothing.
    expect(
      (await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve', planHash: firstHash })).outcome,
    ).toBe('stale_plan');
    await s.engine.decide({
      runId: run.id,
      user: 'UALICE',
      verdict: 'approve',
      planHash: again.steps.approve?.planHash,
    });
    await s.engine.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await drain(s.engine);
    expect(s.world.sideEffects).toBe(1);
  });

  it('refuses a second workflow on the same instance while the first runs, naming the holder', async () => {
    const s = await setup();
    const first = await toApproval(s);
    await expect(
      s.engine.start({ workflowId: 'change-thing', input: { target: 'alpha' }, requester: 'UBOB' }),
    ).rejects.toThrow(LockHeldError);
    await expect(
      s.engine.start({ workflowId: 'change-thing', input: { target: 'alpha' }, requester: 'UBOB' }),
    ).rejects.toThrow(first.id);
    const other = await s.engine.start({ workflowId: 'change-thing', input: { target: 'beta' }, requester: 'UBOB' });
    expect(other.id).not.toBe(first.id);
    await s.engine.cancel({ runId: first.id, user: 'UREQ', reason: 'wrong Region' });
    const second = await s.engine.start({ workflowId: 'change-thing', input: { target: 'alpha' }, requester: 'UBOB' });
    expect(await s.store.lockHolder('alpha')).toBe(second.id);
  });

  it('ignores a repeated request id and returns the first run', async () => {
    const s = await setup();
    const a = await s.engine.start({
      workflowId: 'change-thing',
      input: { target: 'x' },
      requester: 'UREQ',
      requestId: 'trigger-1',
    });
    const b = await s.engine.start({
      workflowId: 'change-thing',
      input: { target: 'x' },
      requester: 'UREQ',
      requestId: 'trigger-1',
    });
    expect(b.id).toBe(a.id);
  });

  it('returns the first run to a repeated request id whether or not its lock names the request', async () => {
    const s = await setup();
    const start = (requestId = 'trigger-1') =>
      s.engine.start({ workflowId: 'change-thing', input: { target: 'x' }, requester: 'UREQ', requestId });
    const a = await start();
    expect((await start()).id).toBe(a.id); // its lock names the request
    // The lock taken again without it (as a retried run takes it): the request's own record says.
    for (const opts of [{ releaseLock: ['x'] }, { acquireLock: ['x'] }]) {
      const run = (await s.store.get(a.id)) as Run;
      await s.store.update({ ...run, version: run.version + 1 }, run.version, [], opts);
    }
    expect((await start()).id).toBe(a.id);
    await expect(start('trigger-2')).rejects.toThrow(a.id); // another request is refused, naming the holder
    // Once the run has ended its lock is free, and the start's own write finds the repeat.
    await s.engine.cancel({ runId: a.id, user: 'UREQ', reason: 'done' });
    expect(await s.store.lockHolder('x')).toBeUndefined();
    expect((await start()).id).toBe(a.id);
  });

  it('retries retryable errors with backoff, fails on permanent ones, and retries a failed run from the failed step', async () => {
    const s = await setup();
    const run = await toApproval(s);
    s.world.failures = ['retryable', 'fatal'];
    await s.engine.decide({ runId: run.id, user: 'UALICE', verdict: 'approve' });
    await s.engine.decide({ runId: run.id, user: 'UBOB', verdict: 'approve' });
    await drain(s.engine);
    let now = (await s.engine.get(run.id)) as Run;
    expect(now.steps.make).toMatchObject({
      status: 'pending',
      attempt: 1,
      error: { code: 'ThrottlingException', retryable: true },
    });
    expect(now.dueAt).toBe(s.clock.now() + 2000);
    s.clock.advance(2000);
    await drain(s.engine);
    now = (await s.engine.get(run.id)) as Run;
    expect(now.status).toBe('failed');
    expect(now.error).toBe('Make the thing failed: access denied: missing kms:CreateKey');
    expect(await s.store.lockHolder('alpha')).toBeUndefined();

    await s.engine.retry({ runId: run.id, user: 'UALICE' });
    await s.engine.stop();
    await drain(s.engine);
    now = (await s.engine.get(run.id)) as Run;
    expect(now.status).toBe('waiting');
    expect(now.steps.make?.status).toBe('succeeded');
    expect(await s.store.lockHolder('alpha')).toBe(run.id);
  });

  it('refuses invalid inputs with every problem named', async () => {
    const s = await setup();
    await expect(
      s.engine.start({ workflowId: 'change-thing', input: { extra: 'maybe', bogus: 1 }, requester: 'U' }),
    ).rejects.toThrow(/unknown input "bogus".*input "target" is required.*input "extra" must be true or false/);
    await expect(s.engine.start({ workflowId: 'nope', input: {}, requester: 'U' })).rejects.toThrow(
      'Unknown workflow "nope"; known: change-thing',
    );
  });
});

const until = async (ok: () => boolean, ms = 1_000) => {
  for (let i = 0; i < ms / 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};

/** An engine on DynamoDB Local, whose store counts its requests. */
async function onDynamo() {
  const clock = new FakeClock();
  const { registry } = testWorld();
  const { store } = await freshStore(clock.now);
  const def = parseWorkflow(TEST_WORKFLOW, 'change-thing.yml', { registry });
  const directory = staticDirectory({ admins: ['UALICE', 'UBOB', 'UREQ'] });
  const definitions = new Map([[def.id, def]]);
  return { clock, store, engine: createEngine({ store, registry, definitions, directory, owner: 'a', clock }) };
}

describe('starts refused while a lock is held', () => {
  it('cost one read of the lock between them when they come at the same moment', async () => {
    const { store, engine } = await onDynamo();
    const start = (requestId: string) =>
      engine.start({ workflowId: 'change-thing', input: { target: 'alpha' }, requester: 'UBOB', requestId });
    const first = await start('trigger-0');
    const before = store.stats.reads;
    const refused = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => start(`trigger-${i + 1}`)));
    expect(refused.every((r) => r.status === 'rejected' && r.reason instanceof LockHeldError)).toBe(true);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toContain(first.id);
    expect(store.stats.reads - before).toBe(2); // the lock (naming its request) and its holder's status, once for all
    // Asked again later: read again (start always reads; only heldNow answers from memory).
    await expect(start('trigger-21')).rejects.toThrow(LockHeldError);
    expect(store.stats.reads - before).toBe(4);
    await engine.stop();
  });

  it('are known for two seconds without a read (heldNow), and forgotten once the holder gives the lock up', async () => {
    const { clock, store, engine } = await onDynamo();
    const req = (requestId: string, target = 'alpha') => ({
      workflowId: 'change-thing',
      input: { target },
      requester: 'UBOB',
      requestId,
    });
    const first = await engine.start(req('t-0'));
    expect(engine.heldNow(req('t-1'))).toBeUndefined(); // not read yet: start decides
    await expect(engine.start(req('t-1'))).rejects.toThrow(LockHeldError);
    const reads = store.stats.reads;
    expect(engine.heldNow(req('t-2'))?.holderRunId).toBe(first.id);
    expect(engine.heldNow(req('t-2', 'beta'))).toBeUndefined(); // another lock
    expect(engine.heldNow(req('t-0'))).toBeUndefined(); // the holder's own request, delivered again
    expect(engine.heldNow({ ...req('t-3'), input: {} })).toBeUndefined(); // bad input: start says what is wrong
    expect(store.stats.reads).toBe(reads); // no I/O
    clock.advance(1_100); // older than a second: still refused, and read again behind the answer
    expect(engine.heldNow(req('t-2'))?.holderRunId).toBe(first.id);
    expect(engine.heldNow(req('t-2'))?.holderRunId).toBe(first.id);
    await until(() => store.stats.reads === reads + 2); // the lock and its holder, once
    await new Promise((r) => setTimeout(r, 100)); // (its answer stored)
    clock.advance(1_100);
    expect(engine.heldNow(req('t-2'))?.holderRunId).toBe(first.id); // known from that read (and read again)
    await until(() => store.stats.reads === reads + 4);
    await new Promise((r) => setTimeout(r, 100));
    // Nobody asks for a while: read again every second all the same, for 30 s after the last refusal.
    clock.advance(1_100);
    await until(() => store.stats.reads === reads + 6, 3_000);
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(1_500);
    expect(engine.heldNow(req('t-2'))?.holderRunId).toBe(first.id);
    clock.advance(60_000);
    expect(engine.heldNow(req('t-4'))).toBeUndefined(); // too old: start reads it
    await expect(engine.start(req('t-4'))).rejects.toThrow(LockHeldError);
    expect(engine.heldNow(req('t-5'))).toBeDefined();
    await engine.cancel({ runId: first.id, user: 'UREQ', reason: 'done' });
    expect(engine.heldNow(req('t-5'))).toBeUndefined(); // given up here: forgotten at once
    expect((await engine.start(req('t-5'))).id).not.toBe(first.id);
    await engine.stop();
  });

  it('are read again within half a second of their read being a second old: the memory does not lapse between floods', async () => {
    // Only the keep-warm tick's timer is faked; DynamoDB Local and the SDK keep their own.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      const { clock, store, engine } = await onDynamo();
      const req = (requestId: string) => ({
        workflowId: 'change-thing',
        input: { target: 'alpha' },
        requester: 'UBOB',
        requestId,
      });
      await engine.start(req('t-0'));
      await expect(engine.start(req('t-1'))).rejects.toThrow(LockHeldError); // read held: kept warm from now
      const reads = store.stats.reads;
      clock.advance(1_000); // that read is a second old; nobody asks
      jest.advanceTimersByTime(500);
      await until(() => store.stats.reads === reads + 2); // read again (the lock and its holder)
      await new Promise((r) => setTimeout(r, 100)); // (its answer stored)
      clock.advance(1_900); // 1.9 s after the first read, 0.9 s after the second
      expect(engine.heldNow(req('t-2'))).toBeDefined();
      await engine.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
