import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import { TERMINAL, type LockHolder } from '../engine';
import { keys } from './keys';
import { N, runKey, S } from './run-item';

/**
 * Instance locks: one item per lock key naming the run that holds it. Taken and released inside
 * the run's own writes (same transaction); a lock whose run has ended is freed only if that run is
 * still ended at the moment of the delete (a retried run re-takes its lock, and must keep it).
 */
export function createLocks(
  db: DynamoDBClient,
  table: string,
  clock: () => number,
  stats: { reads: number; writes: number },
) {
  const key = (lockKey: string) => {
    const k = keys.lock(lockKey);
    return { pk: S(k.pk), sk: S(k.sk) };
  };
  const terminal = [...TERMINAL];
  const terminalValues = Object.fromEntries(terminal.map((t, i) => [`:t${i}`, S(t)]));

  /**
   * Takes the lock for `runId` (or keeps it, when it holds it already); `requestId`, the request
   * that started the run, lets a repeat of that request be told from another start.
   */
  const put = (lockKey: string, runId: string, requestId?: string): TransactWriteItem => ({
    Put: {
      TableName: table,
      Item: { ...key(lockKey), holder: S(runId), since: N(clock()), ...(requestId ? { request: S(requestId) } : {}) },
      ConditionExpression: 'attribute_not_exists(pk) OR holder = :me',
      ExpressionAttributeValues: { ':me': S(runId) },
    },
  });

  /** Releases the lock if `runId` holds it (a lock that is gone already is fine). */
  const release = (lockKey: string, runId: string): TransactWriteItem => ({
    Delete: {
      TableName: table,
      Key: key(lockKey),
      ConditionExpression: 'attribute_not_exists(pk) OR holder = :me',
      ExpressionAttributeValues: { ':me': S(runId) },
    },
  });

  /** The run holding a lock, and the request that started it when the lock says. */
  async function heldBy(lockKey: string): Promise<LockHolder | undefined> {
    stats.reads++;
    const out = await db.send(
      new DynamoDB.GetItemCommand({ TableName: table, Key: key(lockKey), ConsistentRead: true }),
    );
    const runId = out.Item?.holder?.S;
    const requestId = out.Item?.request?.S;
    return runId ? { runId, ...(requestId ? { requestId } : {}) } : undefined;
  }
  const holder = async (lockKey: string) => (await heldBy(lockKey))?.runId;

  /** The run holding a lock; a lock whose holder has ended (a crash between its final write and the release) is freed. */
  async function liveHolder(lockKey: string): Promise<LockHolder | undefined> {
    const held = await heldBy(lockKey);
    if (!held) return undefined;
    const runId = held.runId;
    stats.reads++;
    const out = await db.send(
      new DynamoDB.GetItemCommand({
        TableName: table,
        Key: runKey(runId),
        ConsistentRead: true,
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
      }),
    );
    const status = out.Item?.status?.S;
    if (status && !TERMINAL.has(status as never)) return held;
    try {
      stats.writes++;
      // The delete holds only while the holder's run is still ended: a retry may have re-taken the lock since the read.
      await db.send(
        new DynamoDB.TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: table,
                Key: key(lockKey),
                ConditionExpression: 'holder = :h',
                ExpressionAttributeValues: { ':h': S(runId) },
              },
            },
            {
              ConditionCheck: {
                TableName: table,
                Key: runKey(runId),
                ConditionExpression: `attribute_not_exists(pk) OR #s IN (${Object.keys(terminalValues).join(', ')})`,
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: terminalValues,
              },
            },
          ],
        }),
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof DynamoDB.TransactionCanceledException)) throw err;
      return heldBy(lockKey); // the holder came back to life (retried) or the lock changed hands
    }
  }

  /**
   * liveHolder for the check before a start: callers asking about the same lock while a read is in
   * flight share it (fifty people refused at once cost one read, not fifty). A shared answer may be
   * one round trip old, which a check before the write may be: the conditional write decides.
   */
  const inFlight = new Map<string, Promise<LockHolder | undefined>>();
  function sharedLiveHolder(lockKey: string): Promise<LockHolder | undefined> {
    let read = inFlight.get(lockKey);
    if (!read) {
      read = liveHolder(lockKey).finally(() => inFlight.delete(lockKey));
      inFlight.set(lockKey, read);
    }
    return read;
  }

  return { put, release, holder, liveHolder, sharedLiveHolder };
}
