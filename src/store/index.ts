export { createDynamoRunStore, type StoreStats } from './dynamo-run-store';
export { ensureTable } from './table';
export { keys } from './keys';
export { createStateStore } from './state-store';
export { createReplayStore } from './replay-store';
