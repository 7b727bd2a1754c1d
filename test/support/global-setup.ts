import { startDynamoLocal } from '../../dev/dynamo-local';

export default async function globalSetup(): Promise<void> {
  // The SDK's warning that its 2027 releases need Node 22 is for users, not for every test worker (workers inherit this).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const local = await startDynamoLocal();
  process.env.TEST_DYNAMO_ENDPOINT = local.endpoint;
  (globalThis as Record<string, unknown>).__dynamoLocal = local;
}
