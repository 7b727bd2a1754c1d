import { refusedNow, startWorkflow } from './start-workflow';
import { defineSubcommand } from './types';

export const failback = defineSubcommand({
  name: 'failback',
  args: 'region-reason',
  help: 'after a failover to that Region: sign-in back through the primary once it answers',
  restricted: true,
  workflow: 'failback',
  instant: (ctx, c) => refusedNow(ctx, c, 'failback'),
  run: (ctx, c) => startWorkflow(ctx, c, 'failback'),
});
