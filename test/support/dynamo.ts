import { randomBytes } from 'node:crypto';
import { localDynamo } from '../../dev/dynamo-local';
import { createDynamoRunStore, ensureTable } from '../../src/store';

/** A fresh table on the DynamoDB Local that the global setup started, and a store on it. */
export async function freshStore(clock?: () => number) {
  const endpoint = process.env.TEST_DYNAMO_ENDPOINT;
  if (!endpoint)
    throw new Error(
      'TEST_DYNAMO_ENDPOINT is not set: run the tests with jest (its global setup starts DynamoDB Local)',
    );
  const db = localDynamo(endpoint);
  const table = `t-${randomBytes(4).toString('hex')}`;
  await ensureTable(db, table);
  return { db, table, store: createDynamoRunStore(db, table, clock) };
}
