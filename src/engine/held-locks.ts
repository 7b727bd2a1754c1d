import type { EngineCore } from './core';
import { lockHeldMessage } from './errors';
import type { LockHolder } from './ports';
import { heldLocks, isTerminal } from './run';

/** A start's refusal from memory: the lock, who holds it, and what to tell the person (as LockHeldError says it). */
export interface HeldLock {
  lockKey: string;
  holderRunId: string;
  message: string;
}

/** How long a lock read as held answers for it (another process's release is seen within this). */
const HELD_FOR_MS = 2_000;
/** How long after its last refusal a lock is kept known (read again every second meanwhile). */
const WARM_FOR_MS = 30_000;

/**
 * Locks a start read as held by a live run, by key: for two seconds a start asked for again is
 * refused without a read (the refusal names the run). While starts keep being refused (and for 30 s
 * after the last), the lock is read again once its read is a second old, so the memory does not
 * lapse between two floods: a flood of refusals costs about a read a second, not one per start.
 * Forgotten at once when this process sees the holder give it up.
 */
export function createHeldLocks(core: EngineCore) {
  const { store, clock, listeners } = core;
  const seen = new Map<string, { holder: LockHolder; at: number }>();
  const remember = (key: string, holder: LockHolder | undefined) =>
    holder ? seen.set(key, { holder, at: clock.now() }) : seen.delete(key);
  const rechecking = new Set<string>();
  const recheck = (key: string) => {
    if (rechecking.has(key)) return;
    rechecking.add(key);
    store
      .liveLockHolder(key)
      .then(
        (holder) => remember(key, holder),
        () => seen.delete(key), // unknown: the next start reads it
      )
      .finally(() => rechecking.delete(key));
  };
  const lastRefused = new Map<string, number>(); // by key, wall clock
  let warm: NodeJS.Timeout | undefined;
  const keepWarm = (key: string) => {
    lastRefused.set(key, Date.now());
    warm ??= setInterval(() => {
      for (const [k, at] of lastRefused)
        if (core.stopping || !seen.has(k) || Date.now() - at > WARM_FOR_MS) lastRefused.delete(k);
        else if (clock.now() - (seen.get(k)?.at ?? 0) >= HELD_FOR_MS / 2) recheck(k);
      if (!lastRefused.size) warm = void clearInterval(warm);
    }, HELD_FOR_MS / 4).unref(); // a read starts within 1–1.5 s of the last: it has half a second or more to land
  };
  listeners.push(({ run }) => {
    const held = isTerminal(run.status) ? [] : heldLocks(run);
    for (const [key, s] of seen) if (s.holder.runId === run.id && !held.includes(key)) seen.delete(key);
  });
  return {
    /** What a start's read found: the holder, refusing the start, or no holder. */
    remember(key: string, holder: LockHolder | undefined): void {
      remember(key, holder);
      if (holder) keepWarm(key);
    },
    /** The refusal of a start needing `keys`, from memory (no I/O); `requestId`'s own run is no refusal. */
    refusal(keys: (string | undefined)[], requestId: string | undefined): HeldLock | undefined {
      for (const key of keys) {
        const s = key === undefined ? undefined : seen.get(key);
        const age = s ? clock.now() - s.at : Infinity;
        if (!key || !s || age >= HELD_FOR_MS || s.holder.requestId === requestId) continue;
        if (age >= HELD_FOR_MS / 2) recheck(key);
        keepWarm(key);
        return { lockKey: key, holderRunId: s.holder.runId, message: lockHeldMessage(key, s.holder.runId) };
      }
      return undefined;
    },
  };
}
