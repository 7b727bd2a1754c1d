import { ConflictError, LockHeldError, type Run, type RunStore } from '../../src/engine';
import { freshStore } from '../support/dynamo';
import { createReplayStore } from '../../src/store';
import { createMemoryRunStore } from '../support/memory-run-store';

const run = (id: string, over: Partial<Run> = {}): Run =>
  ({
    id,
    workflowId: 'w',
    workflowVersion: 1,
    definition: { id: 'w', version: 1, title: 'W', steps: [{ id: 's', action: 'x' }], inputs: {}, mutates: false },
    status: 'running',
    input: {},
    requester: 'U1',
    createdAt: 1_000,
    updatedAt: 1_000,
    version: 1,
    cursor: 0,
    steps: {},
    dueAt: 1_000,
    meta: {},
    ...over,
  }) as unknown as Run;
const event = (runId: string, seq: number) => ({ runId, seq, at: 1_000, actor: 'U1', type: 't', message: 'm' });

/** One contract, two stores: the engine may rely on exactly this. */
describe.each([
  ['DynamoDB Local', async (): Promise<RunStore> => (await freshStore(() => 1_000)).store],
  ['in memory', async (): Promise<RunStore> => createMemoryRunStore()],
])('RunStore contract: %s', (_name, make) => {
  let store: RunStore;
  beforeEach(async () => {
    store = await make();
  });

  it('creates, reads and updates a run only from the version it read', async () => {
    await store.create(run('r1'), [event('r1', 1)], {});
    const r = (await store.get('r1')) as Run;
    expect(r.version).toBe(1);
    await store.update({ ...r, version: 2, cursor: 1 }, 1, [event('r1', 2)]);
    await expect(store.update({ ...r, version: 2 }, 1, [])).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get('r1'))?.cursor).toBe(1);
    expect((await store.events('r1')).map((e) => e.seq)).toEqual([1, 2]);
    expect(await store.get('nope')).toBeUndefined();
  });

  it('returns the first run for a repeated request id', async () => {
    expect(await store.create(run('r1'), [], { requestId: 'T1' })).toEqual({ created: true, runId: 'r1' });
    expect(await store.create(run('r2'), [], { requestId: 'T1' })).toEqual({ created: false, runId: 'r1' });
    expect(await store.requestRun('T1')).toBe('r1');
  });

  it('holds a lock for one live run, frees it when that run ends, and lets a retried run re-take it', async () => {
    await store.create(run('r1'), [], { lockKeys: ['L'] });
    await expect(store.create(run('r2'), [], { lockKeys: ['L'] })).rejects.toBeInstanceOf(LockHeldError);
    expect(await store.lockHolder('L')).toBe('r1');
    await store.update(run('r1', { version: 2, status: 'failed', lockKey: 'L' }), 1, [event('r1', 2)], {
      releaseLock: ['L'],
    });
    expect(await store.liveLockHolder('L')).toBeUndefined();
    await store.update(run('r1', { version: 3, status: 'running', lockKey: 'L' }), 2, [event('r1', 3)], {
      acquireLock: ['L'],
    });
    expect((await store.liveLockHolder('L'))?.runId).toBe('r1');
  });

  it('takes two locks at once or none, and gives up one while keeping the other', async () => {
    await store.create(run('i1'), [], { lockKeys: ['I', 'I:region:R'] });
    // A run that needs a lock already held takes none of its locks.
    await expect(store.create(run('i2'), [], { lockKeys: ['I2', 'I:region:R'] })).rejects.toMatchObject({
      lockKey: 'I:region:R',
      holderRunId: 'i1',
    });
    expect(await store.lockHolder('I2')).toBeUndefined();
    // i1 gives up the instance lock and keeps the Region's.
    await store.update(run('i1', { version: 2 }), 1, [event('i1', 2)], { releaseLock: ['I'] });
    expect(await store.liveLockHolder('I')).toBeUndefined();
    expect((await store.liveLockHolder('I:region:R'))?.runId).toBe('i1');
    await store.create(run('i3'), [], { lockKeys: ['I', 'I:region:S'] });
    expect((await store.liveLockHolder('I'))?.runId).toBe('i3');
  });

  it('lists due runs oldest first and leaves finished ones out', async () => {
    await store.create(run('a', { dueAt: 3_000 }), [], {});
    await store.create(run('b', { dueAt: 2_000 }), [], {});
    await store.create(run('c', { dueAt: 9_000 }), [], {});
    await store.create(run('d', { dueAt: 1_000, status: 'succeeded' }), [], {});
    expect(await store.listDue(5_000, 10)).toEqual(['b', 'a']);
  });

  it('renews a lease only for its owner', async () => {
    await store.create(run('r1', { leaseOwner: 'A', leaseUntil: 2_000 }), [], {});
    expect(await store.renewLease('r1', 'B', 5_000)).toBe(false);
    expect(await store.renewLease('r1', 'A', 5_000)).toBe(true);
    const r = (await store.get('r1')) as Run;
    expect([r.leaseUntil, r.version]).toEqual([5_000, 1]);
  });

  it('lists recent runs newest first', async () => {
    await store.create(run('old', { createdAt: 1_000 }), [], {});
    await store.create(run('new', { createdAt: 2_000 }), [], {});
    expect((await store.listRecent(10)).map((r) => r.id)).toEqual(['new', 'old']);
  });
});

describe('the shared replay store (DynamoDB)', () => {
  it('says "first" exactly once per signature, however many arrive together, across two replicas', async () => {
    const { db, table } = await freshStore();
    const a = createReplayStore(db, table);
    const b = createReplayStore(db, table);
    const at = Date.now() + 360_000;
    // 60 signatures, each sent twice to each replica at the same moment: batched writes, duplicates in a batch too.
    const signatures = Array.from({ length: 60 }, (_, i) => `sig-${i}`);
    const answers = await Promise.all(
      signatures.flatMap((s) => [a, a, b, b].map(async (r) => [s, await r.firstTime(s, at)] as const)),
    );
    for (const s of signatures) expect(answers.filter(([x, first]) => x === s && first)).toHaveLength(1);
    // Later, one at a time: still refused.
    expect(await a.firstTime('sig-7', at)).toBe(false);
    expect(await b.firstTime('sig-new', at)).toBe(true);
  });
});
