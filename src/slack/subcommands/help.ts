import { defineSubcommand } from './types';

// The text is built from the command table (see index.ts), so it cannot miss a subcommand.
export const help = defineSubcommand({
  name: 'help',
  args: 'none',
  help: 'this list',
  run: async () => '',
});
