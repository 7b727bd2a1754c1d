import { renderDrill } from '../render';
import { defineSubcommand, regionOf } from './types';

export const drill = defineSubcommand({
  name: 'drill',
  args: 'region',
  help: 'DR drill: can that Region serve sign-in on its own? (read-only, timed)',
  run: async ({ queries }, c) => renderDrill(await queries.drill(regionOf(c))),
});
