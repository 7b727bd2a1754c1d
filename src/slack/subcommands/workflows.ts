import { esc } from '../blocks';
import { defineSubcommand } from './types';

export const workflows = defineSubcommand({
  name: 'workflows',
  args: 'none',
  help: "recent workflows (this channel's instance's)",
  run: async ({ engine, settings }) => {
    // Each instance's own: a run's scope is its instance (runs from before scopes: "default").
    const instance = settings.baseInput.instance ?? 'default';
    const runs = (await engine.listRecent(50)).filter((r) => (r.scope ?? 'default') === instance).slice(0, 10);
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
