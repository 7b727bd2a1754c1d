import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import {
  ConflictError,
  LockHeldError,
  TransientStoreError,
  type AuditEvent,
  type CreateOptions,
  type Run,
  type RunStore,
  type WriteOptions,
} from '../engine';
import { INDEX_DUE, INDEX_RECENT, keys, REQUEST_TTL_SECONDS } from './keys';
import { createLocks } from './locks';
import { N, parseRun, runItem, runKey, S, type Item } from './run-item';

/** Counts DynamoDB requests (for the benchmark and tests). */
export interface StoreStats {
  reads: number;
  writes: number;
}

/**
 * The engine's RunStore on one DynamoDB table. Every state change is a conditional write: a run
 * carries a version number; events are put with attribute_not_exists in the same transaction.
 */
export function createDynamoRunStore(
  db: DynamoDBClient,
  table: string,
  clock: () => number = Date.now,
): RunStore & { stats: StoreStats } {
  const stats: StoreStats = { reads: 0, writes: 0 };

  const eventPuts = (events: AuditEvent[]): TransactWriteItem[] =>
    events.map((e, i) => ({
      Put: {
        TableName: table,
        Item: {
          ...Object.fromEntries(Object.entries(keys.event(e.runId, e.seq, i)).map(([k, v]) => [k, S(v)])),
          data: S(JSON.stringify(e)),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));

  const locks = createLocks(db, table, clock, stats);

  async function get(runId: string): Promise<Run | undefined> {
    stats.reads++;
    const out = await db.send(
      new DynamoDB.GetItemCommand({ TableName: table, Key: runKey(runId), ConsistentRead: true }),
    );
    return out.Item ? parseRun(out.Item) : undefined;
  }

  /** The run a request id already started, if any. */
  async function requestRun(requestId: string): Promise<string | undefined> {
    const k = keys.request(requestId);
    stats.reads++;
    const out = await db.send(
      new DynamoDB.GetItemCommand({ TableName: table, Key: { pk: S(k.pk), sk: S(k.sk) }, ConsistentRead: true }),
    );
    return out.Item?.runId?.S;
  }

  const isThrottled = (err: unknown) =>
    ['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'].includes(
      (err as { name?: string }).name ?? '',
    );
  const reasonCodes = (err: unknown): (string | undefined)[] =>
    err instanceof DynamoDB.TransactionCanceledException ? (err.CancellationReasons ?? []).map((r) => r.Code) : [];

  return {
    stats,
    get,
    lockHolder: locks.holder,
    liveLockHolder: locks.sharedLiveHolder,
    requestRun,

    async create(run: Run, events: AuditEvent[], opts: CreateOptions) {
      const items: TransactWriteItem[] = [
        { Put: { TableName: table, Item: runItem(run), ConditionExpression: 'attribute_not_exists(pk)' } },
        ...eventPuts(events),
      ];
      const reqIndex = opts.requestId ? items.length : -1;
      if (opts.requestId) {
        const k = keys.request(opts.requestId);
        items.push({
          Put: {
            TableName: table,
            Item: {
              pk: S(k.pk),
              sk: S(k.sk),
              runId: S(run.id),
              expiresAt: N(Math.floor(clock() / 1000) + REQUEST_TTL_SECONDS),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      const lockAt = new Map<number, string>();
      for (const lockKey of opts.lockKeys ?? []) {
        const { ExpressionAttributeValues: _unused, ...put } = locks.put(lockKey, run.id, opts.requestId).Put!;
        lockAt.set(items.push({ Put: { ...put, ConditionExpression: 'attribute_not_exists(pk)' } }) - 1, lockKey);
      }
      for (let tries = 0; tries < 3; tries++) {
        try {
          stats.writes++;
          await db.send(new DynamoDB.TransactWriteItemsCommand({ TransactItems: items }));
          return { created: true, runId: run.id };
        } catch (err) {
          const codes = reasonCodes(err);
          if (reqIndex >= 0 && codes[reqIndex] === 'ConditionalCheckFailed')
            return { created: false, runId: (await requestRun(opts.requestId as string)) ?? '' };
          const taken = [...lockAt].find(([i]) => codes[i] === 'ConditionalCheckFailed')?.[1];
          if (taken) {
            const holder = await locks.liveHolder(taken);
            if (holder) throw new LockHeldError(taken, holder.runId);
            continue;
          }
          if (codes.includes('TransactionConflict')) continue;
          throw err;
        }
      }
      throw new ConflictError(run.id);
    },

    async update(run: Run, expectedVersion: number, events: AuditEvent[], opts: WriteOptions = {}): Promise<void> {
      // The version read, and (when given) the lease heartbeat read: a renewal since then is a conflict too.
      const beat = opts.expectedLeaseBeat;
      const condition = {
        ConditionExpression:
          beat === undefined
            ? 'version = :expected'
            : beat === 0
              ? 'version = :expected AND (attribute_not_exists(leaseBeat) OR leaseBeat = :beat)'
              : 'version = :expected AND leaseBeat = :beat',
        ExpressionAttributeValues: {
          ':expected': N(expectedVersion),
          ...(beat === undefined ? {} : { ':beat': N(beat) }),
        },
      };
      const items: TransactWriteItem[] = [
        { Put: { TableName: table, Item: runItem(run), ...condition } },
        ...eventPuts(events),
      ];
      const acquireAt = new Map((opts.acquireLock ?? []).map((k) => [items.push(locks.put(k, run.id)) - 1, k]));
      // A terminal write releases the locks in the same transaction: no lock outlives its run.
      const releaseAt = new Map((opts.releaseLock ?? []).map((k) => [items.push(locks.release(k, run.id)) - 1, k]));
      try {
        stats.writes++;
        if (items.length === 1)
          await db.send(new DynamoDB.PutItemCommand({ TableName: table, Item: runItem(run), ...condition }));
        else await db.send(new DynamoDB.TransactWriteItemsCommand({ TransactItems: items }));
      } catch (err) {
        if (err instanceof DynamoDB.ConditionalCheckFailedException) throw new ConflictError(run.id);
        const codes = reasonCodes(err);
        if (codes[0] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict'))
          throw new ConflictError(run.id);
        if (codes.includes('ThrottlingError') || isThrottled(err))
          throw new TransientStoreError((err as Error).message);
        const notOurs = [...releaseAt].filter(([i]) => codes[i] === 'ConditionalCheckFailed').map(([, k]) => k);
        if (notOurs.length) {
          // Another run holds that lock: it is not ours to release.
          const releaseLock = opts.releaseLock?.filter((k) => !notOurs.includes(k));
          return this.update(run, expectedVersion, events, { ...opts, releaseLock });
        }
        const taken = [...acquireAt].find(([i]) => codes[i] === 'ConditionalCheckFailed')?.[1];
        if (taken) {
          const holder = await locks.liveHolder(taken);
          if (holder) throw new LockHeldError(taken, holder.runId);
          throw new ConflictError(run.id); // freed a stale lock: the caller re-reads and tries again
        }
        throw err;
      }
    },

    async renewLease(runId: string, owner: string, leaseUntil: number) {
      const due = keys.due(leaseUntil, runId);
      try {
        stats.writes++;
        await db.send(
          new DynamoDB.UpdateItemCommand({
            TableName: table,
            Key: runKey(runId),
            UpdateExpression: 'SET leaseUntil = :u, dueAt = :u, gsi1pk = :g, gsi1sk = :s ADD leaseBeat :one',
            ConditionExpression: 'leaseOwner = :me',
            ExpressionAttributeValues: {
              ':u': N(leaseUntil),
              ':one': N(1),
              ':me': S(owner),
              ':g': S(due.gsi1pk),
              ':s': S(due.gsi1sk),
            },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof DynamoDB.ConditionalCheckFailedException) return false;
        throw err;
      }
    },

    async markBroken(runId: string, message: string) {
      stats.writes++;
      // Only attributes: the item's data may be what cannot be read. Out of the due index; its lock is then freeable.
      await db.send(
        new DynamoDB.UpdateItemCommand({
          TableName: table,
          Key: runKey(runId),
          UpdateExpression: 'SET #s = :failed, brokenReason = :why REMOVE dueAt, gsi1pk, gsi1sk, leaseOwner',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':failed': S('failed'), ':why': S(message.slice(0, 2000)) },
        }),
      );
    },

    async listDue(now: number, limit: number) {
      return (await this.dueWork(now, limit)).due;
    },

    async dueWork(now: number, limit: number) {
      // One query, no upper bound: the due runs, then the first one not yet due (its time is the next wake-up).
      stats.reads++;
      const out = await db.send(
        new DynamoDB.QueryCommand({
          TableName: table,
          IndexName: INDEX_DUE,
          KeyConditionExpression: 'gsi1pk = :d',
          ExpressionAttributeValues: { ':d': S('DUE') },
          Limit: limit + 1,
        }),
      );
      const due: string[] = [];
      let next: number | undefined;
      for (const item of out.Items ?? []) {
        const at = Number((item.gsi1sk?.S ?? '').slice(0, 15));
        if (at > now) {
          next = at;
          break;
        }
        due.push((item.pk?.S ?? '').replace(/^RUN#/, ''));
      }
      if (due.length > limit) next = now; // more is due than was read
      return { due: [...new Set(due.slice(0, limit))], next };
    },

    async listRecent(limit: number) {
      stats.reads++;
      const out = await db.send(
        new DynamoDB.QueryCommand({
          TableName: table,
          IndexName: INDEX_RECENT,
          KeyConditionExpression: 'gsi2pk = :r',
          ExpressionAttributeValues: { ':r': S('RUNS') },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(parseRun);
    },

    async events(runId: string) {
      const events: AuditEvent[] = [];
      let start: Item | undefined;
      do {
        stats.reads++;
        const out = await db.send(
          new DynamoDB.QueryCommand({
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
