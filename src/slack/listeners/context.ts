import type { App, webApi } from '@slack/bolt';
import type { Engine, Logger } from '../../engine';
import type { SlackDirectory } from '../directory';
import type { Fleet } from '../fleet';
import type { Dispatch } from '../jobs/types';
import type { ParseRules } from '../parse-command';
import type { Queries, SlackSettings } from '../settings';
import type { Router } from './router';

/** What every listener gets. */
export interface ListenerContext {
  app: App;
  /** Where listeners register (handed their requests by one Bolt middleware: see router.ts). */
  listen: Router;
  settings: SlackSettings;
  engine: Engine;
  queries: Queries;
  /** The Identity Center instances (one unless idc-bot.yml lists several): which one a channel acts on. */
  fleet: Fleet;
  directory: SlackDirectory;
  logger: Logger;
  /** Runs a request's slow part after the ack: here, or in another invocation (Lambda). */
  dispatch: Dispatch;
  /** Workflow options, the reason and ticket rules: what `/idc` accepts beyond its arguments. */
  rules: ParseRules;
  /** Commands per person per minute (IDC_COMMANDS_PER_MINUTE), counted in the ack. */
  budget: { take(user: string): boolean };
}

/** An ephemeral to one person in a channel; a failure is logged, never thrown. */
export const ephemeral = (
  logger: Logger,
  client: webApi.WebClient,
  channel: string | undefined,
  user: string,
  text: string,
) =>
  channel
    ? client.chat.postEphemeral({ channel, user, text }).catch((err) => logger.warn({ err }, 'postEphemeral failed'))
    : undefined;
