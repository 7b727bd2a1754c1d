import { refusedNow, startWorkflow } from './start-workflow';
import { defineSubcommand } from './types';

export const removeRegion = defineSubcommand({
  name: 'remove-region',
  args: 'region-reason',
  help: 'start the remove-Region workflow (needs approvals)',
  restricted: true,
  workflow: 'remove-region',
  instant: (ctx, c) => refusedNow(ctx, c, 'remove-region'),
  run: (ctx, c) => startWorkflow(ctx, c, 'remove-region'),
});
