import { renderStatus } from '../render';
import { defineSubcommand } from './types';

export const status = defineSubcommand({
  name: 'status',
  args: 'none',
  help: 'Regions, their status and the key, open problems, time of the last check',
  instant: ({ queries }) => {
    const view = queries.cachedStatus?.();
    return view && renderStatus(view);
  },
  run: async ({ queries }) => renderStatus(await queries.status()),
});
