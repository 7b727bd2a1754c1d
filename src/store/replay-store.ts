import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { keys } from './keys';

/**
 * Slack request signatures seen, shared by every replica: a conditional put per signature, kept
 * (TTL) a little longer than Slack's 5-minute window, so a replay to another replica is refused too.
 */
export function createReplayStore(db: DynamoDBClient, table: string) {
  return {
    /** True the first time a signature is seen; false for a replay. */
    async firstTime(signature: string, expiresAtMs: number): Promise<boolean> {
      const k = keys.replay(signature);
      try {
        await db.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: k.pk }, sk: { S: k.sk }, expiresAt: { N: String(Math.ceil(expiresAtMs / 1000)) } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },
  };
}
