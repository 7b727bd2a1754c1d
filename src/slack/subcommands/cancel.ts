import { defineSubcommand, idOf } from './types';

export const cancel = defineSubcommand({
  name: 'cancel',
  args: 'run-id',
  help: 'cancel a running workflow',
  restricted: true,
  run: async ({ engine, user }, c) => {
    await engine.cancel({ runId: idOf(c), user });
    return `Cancelled \`${idOf(c)}\`.`;
  },
});
