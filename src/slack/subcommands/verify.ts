import { refusedNow, startWorkflow } from './start-workflow';
import { defineSubcommand } from './types';

export const verify = defineSubcommand({
  name: 'verify',
  args: 'region',
  help: 'check a Region on its own endpoints (read-only workflow)',
  workflow: 'verify-region',
  instant: (ctx, c) => refusedNow(ctx, c, 'verify-region'),
  run: (ctx, c) => startWorkflow(ctx, c, 'verify-region'),
});
