import type { DynamoLocal } from '../../dev/dynamo-local';

export default async function globalTeardown(): Promise<void> {
  await ((globalThis as Record<string, unknown>).__dynamoLocal as DynamoLocal | undefined)?.stop();
}
