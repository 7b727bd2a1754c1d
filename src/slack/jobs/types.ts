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
      responseUrl: string;
      channel: string;
    }
  | {
      type: 'approve' | 'task-done';
      user: string;
      /** The clicked button's trigger id: the job's idempotency key. */
      triggerId: string;
      channel?: string;
      messageTs?: string;
      value: string;
    };

/** Runs a slow job somewhere: here, after the ack, or in another invocation. */
export type Dispatch = (job: SlowJob) => Promise<void>;
