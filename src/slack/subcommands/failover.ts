import { refusedNow, startWorkflow } from './start-workflow';
import { defineSubcommand } from './types';

export const failover = defineSubcommand({
  name: 'failover',
  args: 'region-reason',
  help: 'primary Region down: send sign-in through another Region (checks it, the IdP, tells everyone)',
  restricted: true,
  workflow: 'failover',
  instant: (ctx, c) => refusedNow(ctx, c, 'failover'),
  run: (ctx, c) => startWorkflow(ctx, c, 'failover'),
});
