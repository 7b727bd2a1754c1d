// npm run bench, "Idle cost": DynamoDB requests of a bot with nothing to do (the engine loop and the watch).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEngine, loadWorkflows } from '../../src/engine';
import type { HealthSnapshot } from '../../src/health';
import { createStepRegistry } from '../../src/steps';
import { createAwsClients } from '../../src/aws/clients';
import { createDynamoRunStore, createStateStore, ensureTable } from '../../src/store';
import { createWatcher } from '../../src/watch';
import { localDynamo } from '../dynamo-local';

/** Production settings: the loop's safety poll and the watch interval. */
const IDLE_POLL_MS = 120_000;
const WATCH_MS = 300_000;

/**
 * Runs the engine loop and the watcher on an empty table for `windowMs` with both periods scaled
 * down `scale` times, and counts every DynamoDB request; the same count takes `scale` times longer
 * at production settings, which gives the figure per idle hour.
 */
export async function idleCost(endpoint: string, workflows: string, windowMs: number, scale = 60) {
  const db: DynamoDBClient = localDynamo(endpoint);
  const send = db.send.bind(db) as (...a: unknown[]) => Promise<unknown>;
  let requests = 0;
  (db as unknown as { send: typeof send }).send = (...a: unknown[]) => (requests++, send(...a));
  const table = `bench-idle-${Date.now()}`;
  await ensureTable(db, table);
  const registry = createStepRegistry(createAwsClients({ maxAttempts: 1 }));
  const engine = createEngine({
    store: createDynamoRunStore(db, table),
    registry,
    definitions: loadWorkflows(workflows, { registry }),
    directory: { isInRole: async () => false },
    owner: 'idle',
    idlePollMs: IDLE_POLL_MS / scale,
  });
  const snapshot: HealthSnapshot = {
    checkedAt: Date.now(),
    instanceArn: 'arn:aws:sso:::instance/ssoins-bench',
    primaryRegion: 'us-east-1',
    regions: [{ name: 'us-east-1', status: 'ACTIVE', primary: true, answers: true }],
    encryption: { keyType: 'AWS_OWNED_KMS_KEY', status: 'ENABLED' },
    keys: [],
    calls: 0,
  };
  const watcher = createWatcher({
    name: 'watch#bench',
    homeRegion: 'us-east-1',
    read: async () => ({ ...snapshot, checkedAt: Date.now() }),
    store: createStateStore(db, table),
    notify: async () => undefined,
    intervalMs: WATCH_MS / scale,
    stuckAfterMs: 3 * 3_600_000,
  });
  // Warm up (the first look and the first check), then count.
  engine.startLoop(1000);
  watcher.start(Math.min(10_000, WATCH_MS / scale));
  await new Promise((r) => setTimeout(r, 500));
  const before = requests;
  await new Promise((r) => setTimeout(r, windowMs));
  const counted = requests - before;
  await watcher.stop();
  await engine.stop();
  db.destroy();
  const perHour = (counted * 3_600_000) / (windowMs * scale);
  return {
    perHour,
    counted,
    // On-demand list prices per million requests (reads $0.125, writes $0.625): an upper bound at the write price.
    monthlyUsd: (perHour * 730 * 0.625) / 1e6,
    before: { perHour: 3600 + 360, monthlyUsd: ((3600 + 360) * 730 * 0.125) / 1e6 },
  };
}
