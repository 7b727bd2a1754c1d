import type { Command } from '../subcommands/types';

/**
 * The slow part of a Slack request (what comes after the ack), as data: it runs in this process
 * after the ack (HTTP, Socket Mode) or in another invocation of the function (Lambda), where the
 * receiver only returns once the listener has finished.
 */
export type SlowJob =
  | {
      type: 'command';
      text: string;
      user: string;
      /** Slack's trigger id: the job's idempotency key (and a started run's request id). */
      triggerId: string;
      /** Where the answer goes (a slash command's); without it, an ephemeral in `channel`. */
      responseUrl?: string;
      channel: string;
      /** Already parsed and checked (a submitted change form); `text` is then only for the log. */
      command?: Command;
      /** The instance the change form was opened for (typed commands carry `--instance` in `text`). */
      instance?: string;
    }
  | {
      type: 'approve' | 'task-done';
      user: string;
      /** The clicked button's trigger id: the job's idempotency key. */
      triggerId: string;
      channel?: string;
      messageTs?: string;
      /** Clicked on the person's Home tab (checked against the published view), not on a message. */
      home?: boolean;
      value: string;
    }
  | {
      /** Fill the change form opened as a placeholder (`viewId`): who may, which Regions. */
      type: 'form';
      user: string;
      triggerId: string;
      channel: string;
      sub: string;
      viewId: string;
      instance?: string;
    }
  | {
      /** Publish the person's Home tab, with `notice` on top (what their last click did). */
      type: 'home';
      user: string;
      triggerId: string;
      notice?: string;
    };

/** Runs a slow job somewhere: here, after the ack, or in another invocation. */
export type Dispatch = (job: SlowJob) => Promise<void>;
