/** Every key format of the bot's one DynamoDB table, in one place. */

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, '0');

export const keys = {
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  event: (runId: string, seq: number, index: number) => ({
    pk: `RUN#${runId}`,
    sk: `EVT#${pad(seq, 10)}#${pad(index, 3)}`,
  }),
  eventPrefix: 'EVT#',
  lock: (lockKey: string) => ({ pk: `LOCK#${lockKey}`, sk: 'LOCK' }),
  request: (requestId: string) => ({ pk: `REQ#${requestId}`, sk: 'REQ' }),
  /** A Slack request signature already received (replay refusal, across replicas). */
  replay: (signature: string) => ({ pk: `SIG#${signature}`, sk: 'SIG' }),
  /** Key-value state of other components (e.g. the replication watcher). */
  state: (name: string) => ({ pk: `STATE#${name}`, sk: 'STATE' }),
  /** Sparse "due" index: only runs with something to do carry it. */
  due: (dueAt: number, runId: string) => ({ gsi1pk: 'DUE', gsi1sk: `${pad(dueAt, 15)}#${runId}` }),
  /** "Recent runs" index, newest first. */
  recent: (createdAt: number, runId: string) => ({ gsi2pk: 'RUNS', gsi2sk: `${pad(createdAt, 15)}#${runId}` }),
};

export const INDEX_DUE = 'due';
export const INDEX_RECENT = 'recent';

/** The table's keys, indexes (all string keys) and TTL attribute: one source for ensureTable and the deployment stack. */
export const TABLE_SCHEMA = {
  pk: 'pk',
  sk: 'sk',
  indexes: [
    { name: INDEX_DUE, pk: 'gsi1pk', sk: 'gsi1sk', projection: 'KEYS_ONLY' },
    { name: INDEX_RECENT, pk: 'gsi2pk', sk: 'gsi2sk', projection: 'ALL' },
  ],
  ttl: 'expiresAt',
} as const;
/** Seen-request ids live this long (TTL) to drop duplicate deliveries. */
export const REQUEST_TTL_SECONDS = 7 * 24 * 3600;
