import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { ACTIONS, REJECT_MODAL } from '../blocks';

const OURS = new Set<string>(Object.values(ACTIONS));

/** An interaction that is not one of ours (unknown action, malformed payload) is answered at once and changes nothing. */
export function answerForeignInteractions(): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const b = args.body as { type?: string; actions?: { action_id?: string }[]; view?: { callback_id?: string } };
    const ours =
      b.type === 'block_actions'
        ? Array.isArray(b.actions) && b.actions.some((a) => OURS.has(String(a?.action_id)))
        : b.type === 'view_submission'
          ? b.view?.callback_id === REJECT_MODAL.callbackId
          : true;
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (!ours) return void (await ack?.());
    await args.next();
  };
}
