import { parseDuration, REGION_PATTERN } from '../engine';
import { SUBCOMMANDS, subcommand, usageOf, type Command } from './subcommands';
import { optionUsage, type OptionTable } from './subcommands/options';

const RUN_ID = /^\d{8}-[0-9a-f]{6}$/;
/** What the person typed, safe to echo: no mrkdwn controls, control characters or bidi overrides, at most 40 characters. */
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const UNSAFE = /[<>&`*_~\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** Text without mrkdwn controls, control characters or bidi overrides (a ticket reference, say). */
export const cleanText = (s: string): string => s.replace(UNSAFE, '');
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

/** A subcommand's options, for an error that names an unknown one. */
function optionList(name: string, known: OptionTable[string]): string {
  const list = Object.entries(known)
    .map(([n, o]) => `\`${optionUsage(n, o)}\``)
    .join(', ');
  return list ? `; its options: ${list} (\`/idc help ${name}\`)` : ' (it takes none)';
}

/** What the configuration adds to parsing: workflow options, a required reason, the ticket format. */
export interface ParseRules {
  options?: OptionTable;
  /** Changes (restricted subcommands) need a reason (IDC_REQUIRE_REASON). */
  requireReason?: boolean;
  /** A ticket reference must match this (IDC_TICKET_PATTERN). */
  ticketPattern?: RegExp;
}

/**
 * Parses the text after /idc. Every malformed command gets what was wrong and the right usage.
 * `regions`, when given, is the set of Region names the bot accepts (unknown ones are refused with a
 * suggestion).
 */
export function parseCommand(
  text: string,
  regions?: ReadonlySet<string>,
  rules: ParseRules = {},
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
  if (name === 'help' && rest.length === 1 && subcommand(rest[0]?.toLowerCase() ?? ''))
    return { ok: true, command: { name, topic: rest[0]?.toLowerCase() } };
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
      // A change without its Region opens the form (a modal) that offers only what may be chosen.
      if (!region && spec.workflow && spec.restricted) return { ok: true, command: { name, form: true } };
      if (!region) return fail('The Region is missing.');
      if (!REGION_PATTERN.test(region) || (regions && !regions.has(region))) {
        const guess = regions ? closest(region.slice(0, 40), regions) : undefined;
        return fail(
          `\`${shown(rest[0] as string)}\` is not an AWS Region name${guess ? `. Did you mean \`${guess}\`?` : ' such as eu-central-1.'}`,
        );
      }
      if (spec.args === 'region') {
        const options: Record<string, boolean> = {};
        for (const token of rest.slice(1)) {
          const flag = token.startsWith('--') ? token.slice(2).toLowerCase() : undefined;
          if (!flag || !spec.flags?.[flag])
            return fail(
              flag
                ? `Unknown option \`--${shown(flag)}\` for \`${name}\`${
                    spec.flags
                      ? `; it takes ${Object.keys(spec.flags)
                          .map((f) => `\`--${f}\``)
                          .join(', ')}`
                      : ' (it takes none)'
                  }.`
                : `Unexpected text after the Region: \`${shown(rest.slice(1).join(' '))}\`.`,
            );
          options[flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase())] = true;
        }
        return { ok: true, command: { name, region, ...(Object.keys(options).length ? { options } : {}) } };
      }
      const known = rules.options?.[name] ?? {};
      const options: Record<string, string | boolean> = {};
      let ticket: string | undefined;
      const words: string[] = [];
      const tokens = rest.slice(1);
      for (let i = 0; i < tokens.length; i++) {
        const token = tokens[i] as string;
        if (!token.startsWith('--')) {
          words.push(token);
          continue;
        }
        const eq = token.indexOf('=');
        const flag = (eq < 0 ? token.slice(2) : token.slice(2, eq)).toLowerCase();
        const inline = eq < 0 ? undefined : token.slice(eq + 1);
        const option = known[flag];
        if (!option) return fail(`Unknown option \`--${shown(flag)}\` for \`${name}\`${optionList(name, known)}.`);
        let value: string | boolean | undefined = option.type === 'boolean' ? (inline ?? true) : inline;
        if (value === undefined) {
          value = tokens[i + 1];
          if (value === undefined || value.startsWith('--')) return fail(`\`--${flag}\` needs a value.`);
          i++;
        }
        if (flag === 'ticket') ticket = cleanText(String(value)).slice(0, 100);
        else options[option.input] = value;
      }
      const reason = words.join(' ').slice(0, 500) || undefined;
      if (rules.requireReason && spec.restricted && !reason)
        return fail(
          `A change needs a reason: say why after the Region${known.ticket ? ', and add `--ticket <ref>` if there is a change ticket' : ''}.`,
        );
      if (ticket !== undefined && rules.ticketPattern && !rules.ticketPattern.test(ticket))
        return fail(
          `\`${shown(ticket)}\` is not a change ticket reference here (IDC_TICKET_PATTERN: \`${shown(rules.ticketPattern.source)}\`).`,
        );
      return {
        ok: true,
        command: {
          name,
          region,
          reason,
          ...(Object.keys(options).length ? { options } : {}),
          ...(ticket ? { ticket } : {}),
        },
      };
    }
    case 'audit': {
      let sinceMs = 30 * 86_400_000;
      let format: 'csv' | 'json' = 'csv';
      for (let i = 0; i < rest.length; i++) {
        const flag = rest[i]?.toLowerCase();
        const value = rest[i + 1];
        if (flag === '--since' && value && /^\d+[hd]$/.test(value)) sinceMs = parseDuration(value);
        else if (flag === '--format' && (value === 'csv' || value === 'json')) format = value;
        else
          return fail(
            flag === '--since' || flag === '--format'
              ? `\`${flag}\` takes ${flag === '--since' ? 'a number of days or hours such as 30d' : '`csv` or `json`'}.`
              : `Unexpected \`${shown(rest[i] as string)}\`.`,
          );
        i++;
      }
      if (sinceMs > 400 * 86_400_000) return fail('`--since` goes back at most 400 days.');
      return { ok: true, command: { name, sinceMs, format } };
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
