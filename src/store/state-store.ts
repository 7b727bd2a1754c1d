import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import { keys } from './keys';

/** Versioned JSON state items (the watcher's memory), written only on an unchanged version. */
export function createStateStore(db: DynamoDBClient, table: string) {
  return {
    async get<T>(name: string): Promise<{ value: T; version: number } | undefined> {
      const out = await db.send(
        new DynamoDB.GetItemCommand({
          TableName: table,
          Key: { pk: { S: keys.state(name).pk }, sk: { S: keys.state(name).sk } },
          ConsistentRead: true,
        }),
      );
      if (!out.Item?.data?.S) return undefined;
      return { value: JSON.parse(out.Item.data.S) as T, version: Number(out.Item.version?.N ?? 0) };
    },
    async put<T>(name: string, value: T, version: number | undefined): Promise<boolean> {
      const k = keys.state(name);
      try {
        await db.send(
          new DynamoDB.PutItemCommand({
            TableName: table,
            Item: {
              pk: { S: k.pk },
              sk: { S: k.sk },
              data: { S: JSON.stringify(value) },
              version: { N: String((version ?? 0) + 1) },
            },
            ...(version === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': { N: String(version) } } }),
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof DynamoDB.ConditionalCheckFailedException) return false;
        throw err;
      }
    },
  };
}
