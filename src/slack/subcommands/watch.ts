import { renderWatchNow } from '../render';
import { defineSubcommand } from './types';

export const watch = defineSubcommand({
  name: 'watch',
  args: 'now',
  help: 'check replication now; changes go to the notifications channel',
  run: async ({ queries, settings }) =>
    renderWatchNow(await queries.watchNow(), settings.notifyChannel ?? settings.channel),
});
