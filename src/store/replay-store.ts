import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import { keys } from './keys';

interface Pending {
  signature: string;
  expiresAtMs: number;
  resolve(first: boolean): void;
  reject(err: unknown): void;
}

/** Signatures written together at most (a DynamoDB transaction takes up to 100 items). */
const BATCH = 25;
/** How long a signature waits for others to share its write (it is off the ack path). */
const WAIT_MS = 5;

/**
 * Slack request signatures seen, shared by every replica: a conditional put per signature, kept
 * (TTL) a little longer than Slack's 5-minute window, so a replay to another replica is refused too.
 * Under load, the signatures of the same few milliseconds share one conditional transaction (one
 * request instead of one each); the condition failing on an item names that one as the replay.
 */
export function createReplayStore(db: DynamoDBClient, table: string) {
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  const put = (p: Pending) => {
    const k = keys.replay(p.signature);
    return {
      TableName: table,
      Item: { pk: { S: k.pk }, sk: { S: k.sk }, expiresAt: { N: String(Math.ceil(p.expiresAtMs / 1000)) } },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
  };

  async function one(p: Pending): Promise<void> {
    try {
      await db.send(new DynamoDB.PutItemCommand(put(p)));
      p.resolve(true);
    } catch (err) {
      if (err instanceof DynamoDB.ConditionalCheckFailedException) p.resolve(false);
      else p.reject(err);
    }
  }

  async function flush(): Promise<void> {
    timer = undefined;
    const batch = queue.splice(0, BATCH);
    if (queue.length) timer = setTimeout(() => void flush(), 0);
    // One item per signature: a repeat within the batch is a replay of the first.
    const byKey = new Map<string, Pending>();
    for (const p of batch) {
      if (byKey.has(p.signature)) p.resolve(false);
      else byKey.set(p.signature, p);
    }
    const items = [...byKey.values()];
    if (items.length === 1) return one(items[0] as Pending);
    try {
      await db.send(new DynamoDB.TransactWriteItemsCommand({ TransactItems: items.map((p) => ({ Put: put(p) })) }));
      for (const p of items) p.resolve(true);
    } catch (err) {
      const reasons =
        err instanceof DynamoDB.TransactionCanceledException ? (err.CancellationReasons ?? []) : undefined;
      if (!reasons?.length) return void items.forEach((p) => p.reject(err));
      // Nothing was written: the ones whose condition failed are replays; the rest go again, each on its own.
      await Promise.all(
        items.map((p, i) => (reasons[i]?.Code === 'ConditionalCheckFailed' ? (p.resolve(false), undefined) : one(p))),
      );
    }
  }

  return {
    /** True the first time a signature is seen; false for a replay. */
    firstTime(signature: string, expiresAtMs: number): Promise<boolean> {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ signature, expiresAtMs, resolve, reject });
        if (queue.length >= BATCH) {
          if (timer) clearTimeout(timer);
          void flush();
        } else timer ??= setTimeout(() => void flush(), WAIT_MS);
      });
    },
  };
}
