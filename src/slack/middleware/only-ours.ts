import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { ACTIONS, REJECT_MODAL } from '../blocks';
import { CHANGE_FORM } from '../change-form';

const OURS = new Set<string>(Object.values(ACTIONS));
const OUR_VIEWS = new Set<string>([REJECT_MODAL.callbackId, CHANGE_FORM.callbackId]);

/** An interaction that is not one of ours (unknown action, malformed payload) is answered at once and changes nothing. */
export function answerForeignInteractions(): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const b = args.body as { type?: string; actions?: { action_id?: string }[]; view?: { callback_id?: string } };
    const ours =
      b.type === 'block_actions'
        ? Array.isArray(b.actions) && b.actions.some((a) => OURS.has(String(a?.action_id)))
        : b.type === 'view_submission'
          ? OUR_VIEWS.has(String(b.view?.callback_id))
          : true;
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (!ours) return void (await ack?.());
    await args.next();
  };
}
