import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  ConditionalCheckFailedException,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { ConflictError, LockHeldError, isTerminal, type AuditEvent, type CreateOptions, type Run, type RunStore, type WriteOptions } from '../engine';
import { INDEX_DUE, INDEX_RECENT, keys, REQUEST_TTL_SECONDS } from './keys';

type Item = Record<string, AttributeValue>;
const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

const StoredRun = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    status: z.string(),
    version: z.number().int(),
    cursor: z.number().int(),
    steps: z.record(z.string(), z.object({ status: z.string(), attempt: z.number() }).passthrough()),
    definition: z.object({ id: z.string(), steps: z.array(z.unknown()) }).passthrough(),
  })
  .passthrough();

/** Counts DynamoDB requests (for the benchmark and tests). */
export interface StoreStats {
  reads: number;
  writes: number;
}

/**
 * The engine's RunStore on one DynamoDB table. Every state change is a conditional write: a run
 * carries a version number; events are put with attribute_not_exists in the same transaction.
 */
export function createDynamoRunStore(db: DynamoDBClient, table: string, clock: () => number = Date.now): RunStore & { stats: StoreStats } {
  const stats: StoreStats = { reads: 0, writes: 0 };

  function runItem(run: Run): Item {
    const { leaseOwner, leaseUntil, dueAt, ...rest } = run;
    const item: Item = {
      ...Object.fromEntries(Object.entries(keys.run(run.id)).map(([k, v]) => [k, S(v)])),
      ...Object.fromEntries(Object.entries(keys.recent(run.createdAt, run.id)).map(([k, v]) => [k, S(v)])),
      data: S(JSON.stringify(rest)),
      version: N(run.version),
      status: S(run.status),
      workflowId: S(run.workflowId),
    };
    if (leaseOwner) item.leaseOwner = S(leaseOwner);
    if (leaseUntil !== undefined) item.leaseUntil = N(leaseUntil);
    if (dueAt !== undefined && !isTerminal(run.status)) {
      item.dueAt = N(dueAt);
      for (const [k, v] of Object.entries(keys.due(dueAt, run.id))) item[k] = S(v);
    }
    return item;
  }

  function parseRun(item: Item): Run {
    const parsed = StoredRun.safeParse(JSON.parse(item.data?.S ?? '{}'));
    if (!parsed.success) throw new Error(`Stored workflow ${item.pk?.S} is unreadable: ${parsed.error.issues[0]?.message}`);
    const run = parsed.data as unknown as Run;
    run.version = Number(item.version?.N);
    if (item.leaseOwner?.S) run.leaseOwner = item.leaseOwner.S;
    if (item.leaseUntil?.N) run.leaseUntil = Number(item.leaseUntil.N);
    if (item.dueAt?.N) run.dueAt = Number(item.dueAt.N);
    return run;
  }

  const eventPuts = (events: AuditEvent[]): TransactWriteItem[] =>
    events.map((e, i) => ({
      Put: {
        TableName: table,
        Item: { ...Object.fromEntries(Object.entries(keys.event(e.runId, e.seq, i)).map(([k, v]) => [k, S(v)])), data: S(JSON.stringify(e)) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));

  const lockPut = (lockKey: string, runId: string): TransactWriteItem => ({
    Put: {
      TableName: table,
      Item: { ...Object.fromEntries(Object.entries(keys.lock(lockKey)).map(([k, v]) => [k, S(v)])), holder: S(runId), since: N(clock()) },
      ConditionExpression: 'attribute_not_exists(pk) OR holder = :me',
      ExpressionAttributeValues: { ':me': S(runId) },
    },
  });

  async function get(runId: string): Promise<Run | undefined> {
    stats.reads++;
    const out = await db.send(new GetItemCommand({ TableName: table, Key: { pk: S(keys.run(runId).pk), sk: S('RUN') }, ConsistentRead: true }));
    return out.Item ? parseRun(out.Item) : undefined;
  }

  async function lockHolder(lockKey: string): Promise<string | undefined> {
    stats.reads++;
    const k = keys.lock(lockKey);
    const out = await db.send(new GetItemCommand({ TableName: table, Key: { pk: S(k.pk), sk: S(k.sk) }, ConsistentRead: true }));
    return out.Item?.holder?.S;
  }

  /** The run a request id already started, if any. */
  async function requestRun(requestId: string): Promise<string | undefined> {
    const k = keys.request(requestId);
    stats.reads++;
    const out = await db.send(new GetItemCommand({ TableName: table, Key: { pk: S(k.pk), sk: S(k.sk) }, ConsistentRead: true }));
    return out.Item?.runId?.S;
  }

  /** The run holding a lock; a lock whose holder has ended (a crash between the final write and the release) is freed. */
  async function liveLockHolder(lockKey: string): Promise<string | undefined> {
    const holder = await lockHolder(lockKey);
    if (!holder) return undefined;
    stats.reads++;
    const out = await db.send(new GetItemCommand({ TableName: table, Key: { pk: S(keys.run(holder).pk), sk: S('RUN') }, ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'status' } }));
    const status = out.Item?.status?.S as Run['status'] | undefined;
    if (status && !isTerminal(status)) return holder;
    const k = keys.lock(lockKey);
    stats.writes++;
    await db
      .send(new DeleteItemCommand({ TableName: table, Key: { pk: S(k.pk), sk: S(k.sk) }, ConditionExpression: 'holder = :h', ExpressionAttributeValues: { ':h': S(holder) } }))
      .catch((err) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
    return undefined;
  }

  async function releaseLock(lockKey: string, runId: string): Promise<void> {
    const k = keys.lock(lockKey);
    stats.writes++;
    await db
      .send(new DeleteItemCommand({ TableName: table, Key: { pk: S(k.pk), sk: S(k.sk) }, ConditionExpression: 'holder = :me', ExpressionAttributeValues: { ':me': S(runId) } }))
      .catch((err) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
  }

  const reasonCodes = (err: unknown): (string | undefined)[] =>
    err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []).map((r) => r.Code) : [];

  return {
    stats,
    get,
    lockHolder,
    liveLockHolder,
    requestRun,

    async create(run: Run, events: AuditEvent[], opts: CreateOptions) {
      const items: TransactWriteItem[] = [{ Put: { TableName: table, Item: runItem(run), ConditionExpression: 'attribute_not_exists(pk)' } }, ...eventPuts(events)];
      const reqIndex = opts.requestId ? items.length : -1;
      if (opts.requestId) {
        const k = keys.request(opts.requestId);
        items.push({
          Put: {
            TableName: table,
            Item: { pk: S(k.pk), sk: S(k.sk), runId: S(run.id), expiresAt: N(Math.floor(clock() / 1000) + REQUEST_TTL_SECONDS) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      const lockIndex = opts.lockKey ? items.length : -1;
      if (opts.lockKey) {
        const { ExpressionAttributeValues: _unused, ...put } = lockPut(opts.lockKey, run.id).Put!;
        items.push({ Put: { ...put, ConditionExpression: 'attribute_not_exists(pk)' } });
      }
      for (let tries = 0; tries < 3; tries++) {
        try {
          stats.writes++;
          await db.send(new TransactWriteItemsCommand({ TransactItems: items }));
          return { created: true, runId: run.id };
        } catch (err) {
          const codes = reasonCodes(err);
          if (reqIndex >= 0 && codes[reqIndex] === 'ConditionalCheckFailed') return { created: false, runId: (await requestRun(opts.requestId as string)) ?? '' };
          if (lockIndex >= 0 && codes[lockIndex] === 'ConditionalCheckFailed') {
            const holder = await liveLockHolder(opts.lockKey as string);
            if (holder) throw new LockHeldError(opts.lockKey as string, holder);
            continue;
          }
          if (codes.includes('TransactionConflict')) continue;
          throw err;
        }
      }
      throw new ConflictError(run.id);
    },

    async update(run: Run, expectedVersion: number, events: AuditEvent[], opts: WriteOptions = {}) {
      const condition = { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': N(expectedVersion) } };
      try {
        stats.writes++;
        if (!events.length && !opts.acquireLock) {
          await db.send(new PutItemCommand({ TableName: table, Item: runItem(run), ...condition }));
        } else {
          const items: TransactWriteItem[] = [{ Put: { TableName: table, Item: runItem(run), ...condition } }, ...eventPuts(events)];
          if (opts.acquireLock) items.push(lockPut(opts.acquireLock, run.id));
          await db.send(new TransactWriteItemsCommand({ TransactItems: items }));
        }
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw new ConflictError(run.id);
        const codes = reasonCodes(err);
        if (codes[0] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict')) throw new ConflictError(run.id);
        if (opts.acquireLock && codes[codes.length - 1] === 'ConditionalCheckFailed') {
          const holder = await liveLockHolder(opts.acquireLock);
          if (holder) throw new LockHeldError(opts.acquireLock, holder);
          throw new ConflictError(run.id); // freed a stale lock: the caller re-reads and tries again
        }
        throw err;
      }
      if (opts.releaseLock) await releaseLock(opts.releaseLock, run.id);
    },

    async renewLease(runId: string, owner: string, leaseUntil: number) {
      const due = keys.due(leaseUntil, runId);
      try {
        stats.writes++;
        await db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: S(keys.run(runId).pk), sk: S('RUN') },
            UpdateExpression: 'SET leaseUntil = :u, dueAt = :u, gsi1pk = :g, gsi1sk = :s',
            ConditionExpression: 'leaseOwner = :me',
            ExpressionAttributeValues: { ':u': N(leaseUntil), ':me': S(owner), ':g': S(due.gsi1pk), ':s': S(due.gsi1sk) },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },

    async listDue(now: number, limit: number) {
      stats.reads++;
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: INDEX_DUE,
          KeyConditionExpression: 'gsi1pk = :d AND gsi1sk <= :upTo',
          ExpressionAttributeValues: { ':d': S('DUE'), ':upTo': S(keys.dueUpTo(now)) },
          Limit: limit,
        }),
      );
      return [...new Set((out.Items ?? []).map((i) => (i.pk?.S ?? '').replace(/^RUN#/, '')))];
    },

    async listRecent(limit: number) {
      stats.reads++;
      const out = await db.send(
        new QueryCommand({ TableName: table, IndexName: INDEX_RECENT, KeyConditionExpression: 'gsi2pk = :r', ExpressionAttributeValues: { ':r': S('RUNS') }, ScanIndexForward: false, Limit: limit }),
      );
      return (out.Items ?? []).map(parseRun);
    },

    async events(runId: string) {
      const events: AuditEvent[] = [];
      let start: Item | undefined;
      do {
        stats.reads++;
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
            ExpressionAttributeValues: { ':pk': S(keys.run(runId).pk), ':evt': S(keys.eventPrefix) },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) events.push(JSON.parse(item.data?.S ?? '{}') as AuditEvent);
        start = out.LastEvaluatedKey;
      } while (start);
      return events;
    },
  };
}
