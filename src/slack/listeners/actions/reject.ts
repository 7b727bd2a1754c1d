import { ACTIONS, buildRejectModal } from '../../blocks';
import { ephemeral, type ListenerContext } from '../context';
import { onWorkflowButton } from './workflow-button';

/** Reject asks for a reason in a modal; the modal carries which message it came from. */
export function registerReject(ctx: ListenerContext): void {
  onWorkflowButton(ctx, ACTIONS.reject, async (target, click, client, home) => {
    const metadata = JSON.stringify({
      runId: target.run.id,
      stepId: target.stepId,
      planHash: target.planHash,
      ...(home ? { home } : { channel: click.channel?.id, ts: click.message?.ts }),
    });
    await client.views
      .open({ trigger_id: click.trigger_id, view: buildRejectModal(target.run, metadata) })
      .catch((err) => {
        ctx.logger.warn({ err }, 'views.open failed');
        return ephemeral(
          ctx.logger,
          client,
          click.channel?.id,
          click.user.id,
          'Slack could not open the reason dialog; press Reject again.',
        );
      });
  });
}
