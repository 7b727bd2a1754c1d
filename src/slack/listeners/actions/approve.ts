import { ACTIONS } from '../../blocks';
import { ephemeral, type ListenerContext } from '../context';
import { onWorkflowButton } from './workflow-button';

/** Approve (after Slack's confirm dialog): recorded by the engine's rules, or the person is told why not. */
export function registerApprove(ctx: ListenerContext): void {
  onWorkflowButton(ctx, ACTIONS.approve, async (target, click, client) => {
    const res = await ctx.engine.decide({
      runId: target.run.id,
      stepId: target.stepId,
      user: click.user.id,
      verdict: 'approve',
      planHash: target.planHash,
    });
    if (!['recorded', 'opened'].includes(res.outcome))
      await ephemeral(ctx.logger, client, click.channel?.id, click.user.id, res.message);
  });
}
