import { renderPlan } from '../render';
import { defineSubcommand, regionOf } from './types';

export const plan = defineSubcommand({
  name: 'plan',
  args: 'region',
  help: 'preflight only: what adding the Region would change',
  run: async ({ queries }, c) => renderPlan(await queries.plan(regionOf(c))),
});
