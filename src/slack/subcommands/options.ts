import type { WorkflowDefinition } from '../../engine';

/** A workflow input a person may set from Slack: `--delete-replica-key`, `--deletion-window-days 7`. */
export interface OptionSpec {
  /** The workflow input it sets (camelCase). */
  input: string;
  type: 'string' | 'region' | 'boolean' | 'integer';
  description?: string;
  default?: unknown;
  /** Text longer than a line (a pasted document): a multi-line field in the form. */
  maxLength?: number;
}

/** The options of each starting subcommand, kebab-case name → spec. */
export type OptionTable = Record<string, Record<string, OptionSpec>>;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Builds the option table from the workflow definitions: every declared input except the Region
 * and what the configuration sets (the primary Region, the instance, the key alias…), plus
 * `--ticket` for workflows that change AWS.
 */
export function optionTable(
  starts: Record<string, string>,
  definitions: ReadonlyMap<string, WorkflowDefinition>,
  configured: Record<string, unknown>,
): OptionTable {
  const table: OptionTable = {};
  for (const [sub, workflowId] of Object.entries(starts)) {
    const def = definitions.get(workflowId);
    if (!def) continue;
    const options: Record<string, OptionSpec> = {};
    for (const [name, spec] of Object.entries(def.inputs)) {
      if (name === 'region' || name in configured) continue;
      options[kebab(name)] = {
        input: name,
        type: spec.type,
        description: spec.description,
        default: spec.default,
        ...(spec.maxLength ? { maxLength: spec.maxLength } : {}),
      };
    }
    if (def.mutates) options.ticket = { input: '', type: 'string', description: 'change ticket reference' };
    table[sub] = options;
  }
  return table;
}

/** `--name <type>` for usage lines. */
export const optionUsage = (name: string, o: OptionSpec): string =>
  o.type === 'boolean'
    ? `--${name}`
    : `--${name} <${o.type === 'integer' ? 'number' : name === 'ticket' ? 'ref' : o.type}>`;

/** `/idc help <command>`: its usage and options. */
export function helpFor(usage: string, options: Record<string, OptionSpec> | undefined): string {
  const lines = Object.entries(options ?? {}).map(
    ([name, o]) =>
      `• \`${optionUsage(name, o)}\`${o.description ? ` — ${o.description}` : ''}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`,
  );
  return [`\`${usage}\``, ...(lines.length ? ['Options:', ...lines] : ['No options.'])].join('\n');
}
