import { limiter } from '../limiter';
import type { ListenerContext } from '../listeners/context';
import { createButtonJob } from './button';
import { createCommandJob } from './command';
import { createFormJob } from './form';
import { createHomeJob } from './home';
import type { Dispatch, SlowJob } from './types';

/** Runs any slow job (in whichever process or invocation it lands). */
export function createJobRunner(ctx: ListenerContext): (job: SlowJob) => Promise<void> {
  const command = createCommandJob(ctx);
  const form = createFormJob(ctx);
  const home = createHomeJob(ctx);
  const button = createButtonJob(ctx, home);
  return (job) => {
    switch (job.type) {
      case 'command':
        return command(job);
      case 'form':
        return form(job);
      case 'home':
        return home(job);
      default:
        return button(job);
    }
  };
}

/** Here, after the ack: a few at a time, so slow parts never delay the acks of others. */
export function localDispatch(run: (job: SlowJob) => Promise<void>, concurrency: number): Dispatch {
  const afterAck = limiter(concurrency);
  return (job) => afterAck(() => run(job));
}

export type { Dispatch, SlowJob } from './types';
