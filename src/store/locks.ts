import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import { TERMINAL } from '../engine';
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

  /** Takes the lock for `runId` (or keeps it, when it holds it already). */
  const put = (lockKey: string, runId: string): TransactWriteItem => ({
    Put: {
      TableName: table,
      Item: { ...key(lockKey), holder: S(runId), since: N(clock()) },
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

  async function holder(lockKey: string): Promise<string | undefined> {
    stats.reads++;
    const out = await db.send(
      new DynamoDB.GetItemCommand({ TableName: table, Key: key(lockKey), ConsistentRead: true }),
    );
    return out.Item?.holder?.S;
  }

  /** The run holding a lock; a lock whose holder has ended (a crash between its final write and the release) is freed. */
  async function liveHolder(lockKey: string): Promise<string | undefined> {
    const runId = await holder(lockKey);
    if (!runId) return undefined;
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
    if (status && !TERMINAL.has(status as never)) return runId;
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
      return holder(lockKey); // the holder came back to life (retried) or the lock changed hands
    }
  }

  return { put, release, holder, liveHolder };
}
