import { REGION_PATTERN } from '../engine';
import { SUBCOMMANDS, subcommand, usageOf, type Command } from './subcommands';

const RUN_ID = /^\d{8}-[0-9a-f]{6}$/;
/** What the person typed, safe to echo: no mrkdwn controls, control characters or bidi overrides, at most 40 characters. */
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const UNSAFE = /[<>&`*_~\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const shown = (s: string) => {
  const clean = s.replace(UNSAFE, '');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
};

/** Edit distance, for "did you mean" on near-miss Region names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length] as number;
}

const closest = (word: string, known: Iterable<string>): string | undefined => {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
};

/**
 * Parses the text after /idc. Every malformed command gets what was wrong and the right usage.
 * `regions`, when given, is the set of Region names the bot accepts (unknown ones are refused with a
 * suggestion).
 */
export function parseCommand(
  text: string,
  regions?: ReadonlySet<string>,
): { ok: true; command: Command } | { ok: false; error: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub = 'help', ...rest] = words;
  const name = sub.toLowerCase();
  const spec = subcommand(name);
  if (!spec)
    return {
      ok: false,
      error: `Unknown command \`${shown(sub)}\`. Try one of: ${SUBCOMMANDS.map((c) => c.name).join(', ')} (\`/idc help\`).`,
    };
  const fail = (why: string) => ({ ok: false as const, error: `${why}\nUsage: \`${usageOf(spec)}\`` });
  switch (spec.args) {
    case 'none':
      if (rest.length) return fail(`\`${name}\` takes no arguments (got \`${shown(rest.join(' '))}\`).`);
      return { ok: true, command: { name } };
    case 'now':
      if (rest.length !== 1 || rest[0]?.toLowerCase() !== 'now')
        return fail(
          rest.length
            ? `\`${name}\` takes only \`now\` (got \`${shown(rest.join(' '))}\`).`
            : 'Say `now` to check replication now.',
        );
      return { ok: true, command: { name } };
    case 'region':
    case 'region-reason': {
      const region = rest[0]?.toLowerCase();
      if (!region) return fail('The Region is missing.');
      if (!REGION_PATTERN.test(region) || (regions && !regions.has(region))) {
        const guess = regions ? closest(region.slice(0, 40), regions) : undefined;
        return fail(
          `\`${shown(rest[0] as string)}\` is not an AWS Region name${guess ? `. Did you mean \`${guess}\`?` : ' such as eu-central-1.'}`,
        );
      }
      if (spec.args === 'region') {
        if (rest.length > 1) return fail(`Unexpected text after the Region: \`${shown(rest.slice(1).join(' '))}\`.`);
        return { ok: true, command: { name, region } };
      }
      const reason = rest.slice(1).join(' ').slice(0, 500) || undefined;
      return { ok: true, command: { name, region, reason } };
    }
    case 'run-id': {
      const id = rest[0];
      if (!id) return fail('The workflow id is missing (`/idc workflows` lists them).');
      if (!RUN_ID.test(id)) return fail(`\`${shown(id)}\` is not a workflow id (they look like 20261126-a1b2c3).`);
      if (rest.length > 1) return fail(`Unexpected text after the id: \`${shown(rest.slice(1).join(' '))}\`.`);
      return { ok: true, command: { name, id } };
    }
  }
}
