import { ACTIONS } from '../../blocks';
import { ephemeral, type ListenerContext } from '../context';
import { onWorkflowButton } from './workflow-button';

/** Done on a human task: confirmed by the engine's rules, or the person is told why not. */
export function registerTaskDone(ctx: ListenerContext): void {
  onWorkflowButton(ctx, ACTIONS.taskDone, async (target, click, client) => {
    const res = await ctx.engine.confirmTask({ runId: target.run.id, stepId: target.stepId, user: click.user.id });
    if (!res.ok) await ephemeral(ctx.logger, client, click.channel?.id, click.user.id, res.message);
  });
}
