import type { EngineCore } from './core';
import { LockHeldError } from './errors';
import type { LockHolder } from './ports';
import { heldLocks, isTerminal } from './run';

/** How long a lock read as held answers for it (another process's release is seen within this). */
const HELD_FOR_MS = 2_000;

/**
 * Locks a start read as held by a live run, by key: for two seconds a start asked for again is
 * refused without a read (the refusal names the run), and the lock is read again behind refusals
 * given from memory once that is a second old, so that a lock asked for steadily stays known.
 * Forgotten at once when this process sees the holder give the lock up.
 */
export function createHeldLocks({ store, clock, listeners }: EngineCore) {
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
  listeners.push(({ run }) => {
    const held = isTerminal(run.status) ? [] : heldLocks(run);
    for (const [key, s] of seen) if (s.holder.runId === run.id && !held.includes(key)) seen.delete(key);
  });
  return {
    remember,
    /** The refusal of a start needing `keys`, from memory (no I/O); `requestId`'s own run is no refusal. */
    refusal(keys: (string | undefined)[], requestId: string | undefined): LockHeldError | undefined {
      for (const key of keys) {
        const s = key === undefined ? undefined : seen.get(key);
        const age = s ? clock.now() - s.at : Infinity;
        if (!key || !s || age >= HELD_FOR_MS || s.holder.requestId === requestId) continue;
        if (age >= HELD_FOR_MS / 2) recheck(key);
        return new LockHeldError(key, s.holder.runId);
      }
      return undefined;
    },
  };
}
