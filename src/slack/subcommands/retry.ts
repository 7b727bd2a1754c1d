import { defineSubcommand, idOf } from './types';

export const retry = defineSubcommand({
  name: 'retry',
  args: 'run-id',
  help: 'retry a failed workflow from the step that failed',
  restricted: true,
  run: async ({ engine, user }, c) => {
    await engine.retry({ runId: idOf(c), user });
    return `Retrying \`${idOf(c)}\` from the step that failed.`;
  },
});
