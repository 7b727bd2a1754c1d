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
  const uses = new Map<string, number[]>();
  return {
    take(user: string): boolean {
      const now = Date.now();
      const recent = (uses.get(user) ?? []).filter((t) => now - t < 60_000);
      if (recent.length >= perMinute) {
        uses.set(user, recent);
        return false;
      }
      recent.push(now);
      uses.set(user, recent);
      if (uses.size > 10_000) uses.clear();
      return true;
    },
  };
}
