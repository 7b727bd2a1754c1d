/** Exponential backoff settings. */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  maxMs: number;
  /** 0 = none, 1 = full jitter (a random delay between half and all of the computed one) */
  jitter: number;
}

export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { baseMs: 2_000, factor: 2, maxMs: 300_000, jitter: 1 };

/** Delay before try number `attempt` (1-based: the delay after the first failure is attempt 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1));
  const jitter = policy.jitter * raw * 0.5 * random();
  return Math.round(raw - jitter);
}
