import { startDynamoLocal } from '../../src/dev/dynamo-local';

export default async function globalSetup(): Promise<void> {
  const local = await startDynamoLocal();
  process.env.TEST_DYNAMO_ENDPOINT = local.endpoint;
  (globalThis as Record<string, unknown>).__dynamoLocal = local;
}
