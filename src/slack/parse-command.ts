import { REGION_PATTERN } from '../engine';

export type Command =
  | { name: 'help' | 'status' | 'workflows' }
  | { name: 'plan' | 'verify'; region: string }
  | { name: 'add-region' | 'remove-region'; region: string; reason?: string }
  | { name: 'show' | 'cancel' | 'retry'; id: string };

const USAGE: Record<string, string> = {
  help: '/idc help',
  status: '/idc status',
  workflows: '/idc workflows',
  plan: '/idc plan <region>',
  verify: '/idc verify <region>',
  'add-region': '/idc add-region <region> [reason]',
  'remove-region': '/idc remove-region <region> [reason]',
  show: '/idc show <workflow-id>',
  cancel: '/idc cancel <workflow-id>',
  retry: '/idc retry <workflow-id>',
};
const RUN_ID = /^\d{8}-[0-9a-f]{6}$/;
const shown = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s).replace(/[<>&`]/g, '');

/** Parses the text after /idc. Every malformed command gets what was wrong and the right usage. */
export function parseCommand(text: string): { ok: true; command: Command } | { ok: false; error: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub = 'help', ...rest] = words;
  const name = sub.toLowerCase();
  const usage = USAGE[name];
  if (!usage) return { ok: false, error: `Unknown command \`${shown(sub)}\`. Try one of: ${Object.keys(USAGE).join(', ')} (\`/idc help\`).` };
  const fail = (why: string) => ({ ok: false as const, error: `${why}\nUsage: \`${usage}\`` });
  switch (name) {
    case 'help':
    case 'status':
    case 'workflows':
      if (rest.length) return fail(`\`${name}\` takes no arguments (got \`${shown(rest.join(' '))}\`).`);
      return { ok: true, command: { name } };
    case 'plan':
    case 'verify':
    case 'add-region':
    case 'remove-region': {
      const region = rest[0];
      if (!region) return fail('The Region is missing.');
      if (!REGION_PATTERN.test(region)) return fail(`\`${shown(region)}\` is not an AWS Region name such as eu-central-1.`);
      if ((name === 'plan' || name === 'verify') && rest.length > 1) return fail(`Unexpected text after the Region: \`${shown(rest.slice(1).join(' '))}\`.`);
      const reason = rest.slice(1).join(' ').slice(0, 500) || undefined;
      return { ok: true, command: name === 'add-region' || name === 'remove-region' ? { name, region, reason } : { name, region } };
    }
    default: {
      const id = rest[0];
      if (!id) return fail('The workflow id is missing (`/idc workflows` lists them).');
      if (!RUN_ID.test(id)) return fail(`\`${shown(id)}\` is not a workflow id (they look like 20261126-a1b2c3).`);
      if (rest.length > 1) return fail(`Unexpected text after the id: \`${shown(rest.slice(1).join(' '))}\`.`);
      return { ok: true, command: { name: name as 'show' | 'cancel' | 'retry', id } };
    }
  }
}
