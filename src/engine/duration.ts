const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** Is `text` a duration such as `90s`, `15m`, `2h` or `7d`? */
export function isDuration(text: string): boolean {
  return PATTERN.test(text);
}

/** Parses `90s` / `15m` / `2h` / `7d` / `250ms` into milliseconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const match = PATTERN.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration; write a number and a unit, e.g. 30s, 15m, 2h or 7d`);
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

/** Formats milliseconds for people: `850ms`, `42s`, `3m 05s`, `2h 10m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
