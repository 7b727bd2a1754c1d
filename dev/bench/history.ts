// npm run bench, "History": what thousands of finished workflows in the table cost the reads people
// make often (/idc workflows, the Home tab, the engine's due query). All are index queries.
import { performance } from 'node:perf_hooks';
import { createAwsClients } from '../../src/aws/clients';
import { loadWorkflows, type Run } from '../../src/engine';
import { createStepRegistry } from '../../src/steps';
import { createDynamoRunStore, ensureTable } from '../../src/store';
import { localDynamo } from '../dynamo-local';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Stores `count` finished add-region runs (each with its definition snapshot, as real runs are),
 * then times each read `rounds` times and counts its DynamoDB requests and the items it returns.
 */
export async function historyCost(endpoint: string, workflows: string, count: number, rounds = 15) {
  const db = localDynamo(endpoint);
  const table = `bench-history-${Date.now()}`;
  await ensureTable(db, table);
  const store = createDynamoRunStore(db, table);
  const definition = loadWorkflows(workflows, {
    registry: createStepRegistry(createAwsClients({ maxAttempts: 1 })),
  }).get('add-region');
  if (!definition) throw new Error('workflows/add-region.yml is missing');
  const now = Date.now();
  const run = (i: number): Run => ({
    id: `20260101-${i.toString(16).padStart(6, '0')}`, // unique (random ids of 3 bytes would collide)
    workflowId: definition.id,
    workflowVersion: definition.version,
    definition,
    status: 'succeeded',
    input: { region: 'eu-central-1', homeRegion: 'us-east-1' },
    requester: 'UREQ',
    reason: 'history',
    createdAt: now - (count - i) * 60_000,
    updatedAt: now - (count - i) * 60_000,
    finishedAt: now - (count - i) * 60_000,
    version: 1,
    cursor: definition.steps.length,
    steps: {},
    meta: {},
  });
  for (let i = 0; i < count; i += 25)
    await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => store.create(run(i + j), [], {})));
  const measure = async (read: () => Promise<unknown[] | { due: unknown[] }>) => {
    const times: number[] = [];
    let requests = 0;
    let items = 0;
    for (let r = 0; r < rounds; r++) {
      const before = store.stats.reads;
      const t = performance.now();
      const out = await read();
      times.push(performance.now() - t);
      requests += store.stats.reads - before;
      items += Array.isArray(out) ? out.length : out.due.length;
    }
    return { ms: median(times), requests: requests / rounds, items: items / rounds };
  };
  const result = {
    workflows: await measure(() => store.listRecent(10)),
    home: await measure(() => store.listRecent(50)),
    due: await measure(() => store.dueWork(Date.now(), 32)),
  };
  db.destroy();
  return result;
}
