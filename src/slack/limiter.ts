/** Runs at most `n` tasks at once; the others wait their turn. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** At most `perMinute` uses per person in any sliding minute. */
export function perPersonBudget(perMinute: number) {
  /** Each person's uses in the last minute, oldest first. */
  const uses = new Map<string, number[]>();
  return {
    take(user: string): boolean {
      const now = Date.now();
      let recent = uses.get(user);
      if (!recent) {
        if (uses.size >= 10_000) uses.clear();
        uses.set(user, (recent = []));
      }
      let old = 0;
      while (old < recent.length && now - (recent[old] as number) >= 60_000) old++;
      if (old) recent.splice(0, old);
      if (recent.length >= perMinute) return false;
      recent.push(now);
      return true;
    },
  };
}
