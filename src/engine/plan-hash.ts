import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The part of a preflight output that approvers approve: its `plan` field if it has one. */
export function planOf(output: unknown): unknown {
  return output && typeof output === 'object' && 'plan' in output ? (output as { plan: unknown }).plan : output;
}

/** Short stable hash of a plan (sorted-key JSON, SHA-256, 12 hex chars). */
export function hashPlan(plan: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(plan ?? null)))
    .digest('hex')
    .slice(0, 12);
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (Array.isArray(value)) {
    // Arrays of lines compare as sets of lines: people read them as lists.
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      for (const v of value) out.set(`${prefix}: ${String(v)}`, '');
      return;
    }
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(value));
}

/** What changed between two plans, as lines for people ("+ added", "- removed", "~ path: a → b"). */
export function diffPlans(before: unknown, after: unknown, max = 8): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, '', a);
  flatten(after, '', b);
  const lines: string[] = [];
  for (const [k, v] of b) {
    if (!a.has(k)) lines.push(v === '' ? `+ ${k}` : `~ ${k}: (none) → ${v}`);
    else if (a.get(k) !== v) lines.push(`~ ${k}: ${a.get(k)} → ${v}`);
  }
  for (const [k, v] of a) if (!b.has(k)) lines.push(v === '' ? `- ${k}` : `~ ${k}: ${v} → (none)`);
  return lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more`] : lines;
}
