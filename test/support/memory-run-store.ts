import {
  ConflictError,
  LockHeldError,
  isTerminal,
  type AuditEvent,
  type CreateOptions,
  type Run,
  type RunStore,
  type WriteOptions,
} from '../../src/engine';

/**
 * The engine's RunStore in memory, with the DynamoDB store's semantics (versioned writes, locks,
 * request ids, due and recent lists): engine rules are tested in milliseconds against it, and the
 * contract suite (test/integration/run-store-contract.test.ts) holds both stores to the same rules.
 */
export function createMemoryRunStore(): RunStore {
  const runs = new Map<string, string>();
  const events = new Map<string, AuditEvent[]>();
  const locks = new Map<string, string>();
  const requests = new Map<string, string>();
  const copy = (json: string | undefined): Run | undefined =>
    json === undefined ? undefined : (JSON.parse(json) as Run);
  const save = (run: Run) => runs.set(run.id, JSON.stringify(run));
  const live = (runId: string) => {
    const run = copy(runs.get(runId));
    return run !== undefined && !isTerminal(run.status);
  };
  async function liveLockHolder(lockKey: string) {
    const holder = locks.get(lockKey);
    if (holder === undefined || live(holder)) return holder;
    locks.delete(lockKey);
    return undefined;
  }
  return {
    async create(run: Run, evs: AuditEvent[], opts: CreateOptions) {
      if (opts.requestId && requests.has(opts.requestId))
        return { created: false, runId: requests.get(opts.requestId) as string };
      for (const key of opts.lockKeys ?? []) {
        const holder = await liveLockHolder(key);
        if (holder) throw new LockHeldError(key, holder);
      }
      for (const key of opts.lockKeys ?? []) locks.set(key, run.id);
      if (runs.has(run.id)) throw new ConflictError(run.id);
      if (opts.requestId) requests.set(opts.requestId, run.id);
      save(run);
      events.set(run.id, [...evs]);
      return { created: true, runId: run.id };
    },
    get: async (runId) => copy(runs.get(runId)),
    async update(run: Run, expectedVersion: number, evs: AuditEvent[], opts: WriteOptions = {}) {
      const stored = copy(runs.get(run.id));
      if (!stored || stored.version !== expectedVersion) throw new ConflictError(run.id);
      if (opts.expectedLeaseBeat !== undefined && (stored.leaseBeat ?? 0) !== opts.expectedLeaseBeat)
        throw new ConflictError(run.id);
      for (const key of opts.acquireLock ?? []) {
        const holder = await liveLockHolder(key);
        if (holder && holder !== run.id) throw new LockHeldError(key, holder);
      }
      for (const key of opts.acquireLock ?? []) locks.set(key, run.id);
      save(run);
      events.get(run.id)?.push(...evs);
      for (const key of opts.releaseLock ?? []) if (locks.get(key) === run.id) locks.delete(key);
    },
    async renewLease(runId, owner, leaseUntil) {
      const run = copy(runs.get(runId));
      if (!run || run.leaseOwner !== owner) return false;
      save({ ...run, leaseUntil, dueAt: leaseUntil, leaseBeat: (run.leaseBeat ?? 0) + 1 });
      return true;
    },
    async markBroken(runId, message) {
      const run = copy(runs.get(runId));
      if (run) save({ ...run, status: 'failed', error: message, dueAt: undefined, leaseOwner: undefined });
    },
    async listDue(now, limit) {
      return (await this.dueWork(now, limit)).due;
    },
    async dueWork(now, limit) {
      const pending = [...runs.values()]
        .map((j) => JSON.parse(j) as Run)
        .filter((r) => !isTerminal(r.status) && r.dueAt !== undefined)
        .sort((a, b) => (a.dueAt as number) - (b.dueAt as number));
      const due = pending.filter((r) => (r.dueAt as number) <= now);
      const next = due.length > limit ? now : pending.find((r) => (r.dueAt as number) > now)?.dueAt;
      return { due: due.slice(0, limit).map((r) => r.id), next };
    },
    listRecent: async (limit) =>
      [...runs.values()]
        .map((j) => JSON.parse(j) as Run)
        .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
        .slice(0, limit),
    events: async (runId) => structuredClone(events.get(runId) ?? []),
    lockHolder: async (lockKey) => locks.get(lockKey),
    async liveLockHolder(lockKey) {
      const runId = await liveLockHolder(lockKey);
      const requestId = [...requests].find(([, r]) => r === runId)?.[0];
      return runId ? { runId, ...(requestId ? { requestId } : {}) } : undefined;
    },
    requestRun: async (requestId) => requests.get(requestId),
  };
}
