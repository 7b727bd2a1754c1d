import type { webApi } from '@slack/bolt';
import type { Engine } from '../../engine';
import type { Queries, SlackSettings } from '../settings';

/** What a subcommand's arguments look like; the parser checks them the same way for every subcommand. */
export type ArgSpec = 'none' | 'now' | 'region' | 'region-reason' | 'run-id' | 'audit';

/** A parsed command: its name and, by its ArgSpec, a Region (a reason, options, a ticket) or a workflow id. */
export type Command =
  | { name: string; topic?: string }
  /** A change typed without its Region: the change form opens. */
  | { name: string; form: true }
  | {
      name: string;
      region: string;
      reason?: string;
      /** Workflow inputs set with `--name value` / `--flag` (camelCase input name → raw value). */
      options?: Record<string, string | boolean>;
      ticket?: string;
    }
  | { name: string; id: string }
  | { name: string; sinceMs: number; format: 'csv' | 'json' };

export interface CommandContext {
  user: string;
  /** Slack's trigger id: the idempotency key of what the command starts. */
  triggerId: string;
  engine: Engine;
  queries: Queries;
  settings: SlackSettings;
  /** The Slack Web API (the audit export uploads a file). */
  client?: webApi.WebClient;
  /** Tells the person something before the answer (only to them). */
  tell?: (text: string) => Promise<void>;
  now?: () => number;
}

/** One `/idc` subcommand: the parser, the help text and the dispatch all come from this. */
export interface Subcommand {
  name: string;
  args: ArgSpec;
  /** One line for `/idc help`. */
  help: string;
  /** Only members of the requester role may run it. */
  restricted?: boolean;
  /** Flags after the Region (`region` arguments only): kebab-case name → what it does. */
  flags?: Record<string, string>;
  /** The workflow it starts (its inputs become `--options`). */
  workflow?: string;
  /** An answer at hand without any I/O, given in the ack itself (to someone known to be allowed it). */
  instant?(ctx: CommandContext, command: Command): string | undefined;
  /** The slow part, after the ack: returns the ephemeral answer. */
  run(ctx: CommandContext, command: Command): Promise<string>;
}

/** Declares a subcommand (typed). */
export const defineSubcommand = (s: Subcommand): Subcommand => s;

/** The Region of a command whose ArgSpec has one. */
export const regionOf = (c: Command): string => ('region' in c ? c.region : '');
/** The workflow id of a command whose ArgSpec is run-id. */
export const idOf = (c: Command): string => ('id' in c ? c.id : '');
