import { CHANGE_FORM, readChangeForm, type FormMeta } from '../../change-form';
import { firstDelivery } from '../../middleware/replay';
import { cleanText } from '../../parse-command';
import type { ListenerContext } from '../context';

/**
 * The change form's submission: checked field by field (Slack shows each error next to its field),
 * then the same job as the typed command runs it: role check, budget, the workflow's own input schema.
 */
export function registerChangeForm({ listen, settings, rules, dispatch, logger }: ListenerContext): void {
  listen.view(CHANGE_FORM.callbackId, async ({ ack, body, view, context }) => {
    let meta: FormMeta;
    try {
      meta = JSON.parse(view.private_metadata) as FormMeta;
    } catch {
      return void (await ack({
        response_action: 'errors',
        errors: { [CHANGE_FORM.region]: 'This form is damaged; open it again.' },
      }));
    }
    const read = readChangeForm(view.state.values, meta, {
      options: rules.options?.[meta.sub] ?? {},
      requireReason: rules.requireReason ?? false,
      ticketPattern: rules.ticketPattern,
      clean: cleanText,
    });
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    await ack();
    if (!(await firstDelivery(context))) return;
    await dispatch({
      type: 'command',
      text: `${meta.sub} (form)`,
      user: body.user.id,
      triggerId: (body as { trigger_id: string }).trigger_id,
      channel: meta.channel || settings.channel,
      command: read.command,
      ...(meta.instance ? { instance: meta.instance } : {}),
    }).catch((err: unknown) => logger.error({ err }, 'could not hand the form on'));
  });
}
