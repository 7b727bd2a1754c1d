import { esc } from '../blocks';
import { defineSubcommand } from './types';

export const workflows = defineSubcommand({
  name: 'workflows',
  args: 'none',
  help: 'recent workflows',
  run: async ({ engine }) => {
    const runs = await engine.listRecent(10);
    return runs.length
      ? runs
          .map(
            (r) =>
              `• \`${r.id}\` ${r.workflowId} ${esc(String(r.input.region ?? ''))} — ${r.status} (<@${r.requester}>)`,
          )
          .join('\n')
      : 'No workflows yet.';
  },
});
