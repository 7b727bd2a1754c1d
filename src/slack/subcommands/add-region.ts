import { refusedNow, startWorkflow } from './start-workflow';
import { defineSubcommand } from './types';

export const addRegion = defineSubcommand({
  name: 'add-region',
  args: 'region-reason',
  help: 'start the add-Region workflow (needs approvals)',
  restricted: true,
  workflow: 'add-region',
  instant: (ctx, c) => refusedNow(ctx, c, 'add-region'),
  run: (ctx, c) => startWorkflow(ctx, c, 'add-region'),
});
