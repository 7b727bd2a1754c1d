import { REJECT_MODAL } from '../../blocks';
import { firstDelivery } from '../../middleware/replay';
import { clicked, NOT_OURS } from '../actions/workflow-button';
import type { ListenerContext } from '../context';

/** The reject modal's submission: a reason of a few words, re-checked against the message it came from. */
export function registerRejectReason({ listen, engine, dispatch }: ListenerContext): void {
  listen.view(REJECT_MODAL.callbackId, async ({ ack, body, view, context }) => {
    const fieldError = (text: string) => ack({ response_action: 'errors', errors: { [REJECT_MODAL.block]: text } });
    const reason = view.state.values[REJECT_MODAL.block]?.[REJECT_MODAL.action]?.value?.trim() ?? '';
    if (reason.length < 3)
      return void (await fieldError('Say why in a few words; the requester and the audit trail will see it.'));
    let meta: { runId?: string; stepId?: string; planHash?: string; channel?: string; ts?: string; home?: boolean };
    try {
      meta = JSON.parse(view.private_metadata) as typeof meta;
    } catch {
      meta = {};
    }
    if (!(await firstDelivery(context))) return void (await ack());
    const target = await clicked(
      engine,
      { channel: { id: meta.channel }, message: { ts: meta.ts } },
      JSON.stringify(meta),
      meta.home === true,
    );
    if (!target) return void (await fieldError(NOT_OURS));
    const res = await engine.decide({
      runId: target.run.id,
      stepId: target.stepId,
      user: body.user.id,
      verdict: 'reject',
      planHash: target.planHash,
      reason,
    });
    if (res.outcome !== 'rejected' && res.outcome !== 'recorded') return void (await fieldError(res.message));
    await ack();
    // From the Home tab: the tab is published again, without the gate.
    if (meta.home === true)
      await dispatch({
        type: 'home',
        user: body.user.id,
        triggerId: (body as { trigger_id: string }).trigger_id,
        notice: res.message,
      });
  });
}
