import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDB } from '../aws/sdk';
import { TABLE_SCHEMA } from './keys';

/**
 * Creates the bot's table (keys, the "due" and "recent" indexes, TTL on `expiresAt`) and waits
 * until it is ACTIVE. An existing table is left as it is.
 */
export async function ensureTable(db: DynamoDBClient, table: string): Promise<'created' | 'exists'> {
  // The usual case, one cheap read: the table is there (and the bot's role needs no CreateTable).
  try {
    const out = await db.send(new DynamoDB.DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === 'ACTIVE') return 'exists';
  } catch (err) {
    if (!(err instanceof DynamoDB.ResourceNotFoundException)) throw err;
  }
  let result: 'created' | 'exists' = 'created';
  const S = 'S' as const;
  const attrs = [TABLE_SCHEMA.pk, TABLE_SCHEMA.sk, ...TABLE_SCHEMA.indexes.flatMap((i) => [i.pk, i.sk])];
  try {
    await db.send(
      new DynamoDB.CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: S })),
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.pk, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sk, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_SCHEMA.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.pk, KeyType: 'HASH' },
            { AttributeName: i.sk, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: i.projection },
        })),
      }),
    );
  } catch (err) {
    if (!(err instanceof DynamoDB.ResourceInUseException)) throw err;
    result = 'exists';
  }
  for (let i = 0; i < 120; i++) {
    const out = await db.send(new DynamoDB.DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (result === 'created') {
    await db.send(
      new DynamoDB.UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttl, Enabled: true },
      }),
    );
  }
  return result;
}
