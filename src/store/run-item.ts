import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { isTerminal, type Run } from '../engine';
import { keys } from './keys';

/** One DynamoDB item, and its attribute helpers. */
export type Item = Record<string, AttributeValue>;
export const S = (s: string): AttributeValue => ({ S: s });
export const N = (n: number): AttributeValue => ({ N: String(n) });
/** The key of a run's item. */
export const runKey = (runId: string): Item => ({ pk: S(keys.run(runId).pk), sk: S(keys.run(runId).sk) });

/** What a stored run must have to be read at all (anything else is refused as unreadable). */
const StoredRun = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    status: z.string(),
    version: z.number().int(),
    cursor: z.number().int(),
    steps: z.record(z.string(), z.object({ status: z.string(), attempt: z.number() }).passthrough()),
    definition: z.object({ id: z.string(), steps: z.array(z.unknown()) }).passthrough(),
  })
  .passthrough();

/** Each definition snapshot's JSON, made once: it never changes after the start, and is most of a run. */
const definitionJson = new WeakMap<object, string>();

/** The run as JSON, its definition snapshot spliced in from the cache. */
function runJson(run: Omit<Run, 'leaseOwner' | 'leaseUntil' | 'leaseBeat' | 'dueAt'>): string {
  const { definition, ...state } = run;
  let def = definitionJson.get(definition);
  if (def === undefined) definitionJson.set(definition, (def = JSON.stringify(definition)));
  return `{"definition":${def},${JSON.stringify(state).slice(1)}`;
}

/**
 * A run as one item: the run as JSON in `data`, with the fields conditions and indexes need as
 * attributes (version, status, lease, due time for the due index, creation for the recent index).
 */
export function runItem(run: Run): Item {
  const { leaseOwner, leaseUntil, leaseBeat, dueAt, ...rest } = run;
  const item: Item = {
    ...Object.fromEntries(Object.entries(keys.run(run.id)).map(([k, v]) => [k, S(v)])),
    ...Object.fromEntries(Object.entries(keys.recent(run.createdAt, run.id)).map(([k, v]) => [k, S(v)])),
    data: S(runJson(rest)),
    version: N(run.version),
    status: S(run.status),
    workflowId: S(run.workflowId),
  };
  if (leaseOwner) item.leaseOwner = S(leaseOwner);
  if (leaseUntil !== undefined) item.leaseUntil = N(leaseUntil);
  item.leaseBeat = N(leaseBeat ?? 0);
  if (dueAt !== undefined && !isTerminal(run.status)) {
    item.dueAt = N(dueAt);
    for (const [k, v] of Object.entries(keys.due(dueAt, run.id))) item[k] = S(v);
  }
  return item;
}

export function parseRun(item: Item): Run {
  let data: unknown;
  try {
    data = JSON.parse(item.data?.S ?? '{}');
  } catch (err) {
    throw new Error(`Stored workflow ${item.pk?.S} is unreadable: ${(err as Error).message}`);
  }
  const parsed = StoredRun.safeParse(data);
  if (!parsed.success)
    throw new Error(`Stored workflow ${item.pk?.S} is unreadable: ${parsed.error.issues[0]?.message}`);
  const run = parsed.data as unknown as Run;
  run.version = Number(item.version?.N);
  if (item.leaseOwner?.S) run.leaseOwner = item.leaseOwner.S;
  if (item.leaseUntil?.N) run.leaseUntil = Number(item.leaseUntil.N);
  run.leaseBeat = Number(item.leaseBeat?.N ?? 0);
  if (item.dueAt?.N) run.dueAt = Number(item.dueAt.N);
  return run;
}
