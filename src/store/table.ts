import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { INDEX_DUE, INDEX_RECENT } from './keys';

/**
 * Creates the bot's table (keys, the "due" and "recent" indexes, TTL on `expiresAt`) and waits
 * until it is ACTIVE. An existing table is left as it is.
 */
export async function ensureTable(db: DynamoDBClient, table: string): Promise<'created' | 'exists'> {
  // The usual case, one cheap read: the table is there (and the bot's role needs no CreateTable).
  try {
    const out = await db.send(new DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === 'ACTIVE') return 'exists';
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const S = 'S' as const;
  let result: 'created' | 'exists' = 'created';
  try {
    await db.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: S },
          { AttributeName: 'sk', AttributeType: S },
          { AttributeName: 'gsi1pk', AttributeType: S },
          { AttributeName: 'gsi1sk', AttributeType: S },
          { AttributeName: 'gsi2pk', AttributeType: S },
          { AttributeName: 'gsi2sk', AttributeType: S },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: INDEX_DUE,
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: INDEX_RECENT,
            KeySchema: [
              { AttributeName: 'gsi2pk', KeyType: 'HASH' },
              { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    result = 'exists';
  }
  for (let i = 0; i < 120; i++) {
    const out = await db.send(new DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (result === 'created') {
    await db.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
  }
  return result;
}
