import { addRegion } from './add-region';
import { audit } from './audit';
import { cancel } from './cancel';
import { drill } from './drill';
import { failback } from './failback';
import { failover } from './failover';
import { help } from './help';
import { plan } from './plan';
import { removeRegion } from './remove-region';
import { retry } from './retry';
import { show } from './show';
import { status } from './status';
import type { ArgSpec, Subcommand } from './types';
import { verify } from './verify';
import { watch } from './watch';
import { workflows } from './workflows';

/** Every `/idc` subcommand, in help order. A new subcommand is a new file and one line here. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  help,
  status,
  plan,
  addRegion,
  removeRegion,
  verify,
  drill,
  failover,
  failback,
  watch,
  workflows,
  show,
  audit,
  cancel,
  retry,
];

export const subcommand = (name: string): Subcommand | undefined => SUBCOMMANDS.find((s) => s.name === name);

const ARGS: Record<ArgSpec, string> = {
  none: '',
  now: ' now',
  region: ' <region>',
  'region-reason': ' <region> [reason]',
  'run-id': ' <workflow-id>',
  audit: ' [--since 30d] [--format csv|json]',
};

/** How the subcommand is typed. */
export const usageOf = (s: Subcommand): string =>
  `/idc ${s.name}${ARGS[s.args]}${Object.keys(s.flags ?? {})
    .map((f) => ` [--${f}]`)
    .join('')}`;

/** `/idc help`. */
export const HELP = [
  '*/idc* — IAM Identity Center multi-Region replication',
  ...SUBCOMMANDS.map((s) => `• \`${usageOf(s)}\` — ${s.help}`),
].join('\n');

export type { Command, CommandContext, Subcommand } from './types';
