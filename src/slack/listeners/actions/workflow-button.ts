import type { webApi } from '@slack/bolt';
import type { Engine, Run } from '../../../engine';
import { firstDelivery } from '../../middleware/replay';
import { ephemeral, type ListenerContext } from '../context';

export const NOT_OURS = 'This button does not belong to a workflow message; nothing was changed.';

/** What a workflow button (or the modal it opened) points at, once checked. */
export interface Target {
  run: Run;
  runId?: string;
  stepId?: string;
  planHash?: string;
}

/**
 * The button value names a run; it must be the run whose message was clicked (no forged values), or
 * a button of the person's Home tab (`home`, checked by `onHomeTab` against the view Slack sent).
 */
export async function clicked(
  engine: Engine,
  where: { channel?: { id?: string }; message?: { ts?: string }; container?: { message_ts?: string } },
  value: string,
  home = false,
): Promise<Target | undefined> {
  let v: { runId?: string; stepId?: string; planHash?: string };
  try {
    v = JSON.parse(value) as typeof v;
  } catch {
    return undefined;
  }
  const run = v.runId ? await engine.get(v.runId) : undefined;
  const ts = where.message?.ts ?? where.container?.message_ts;
  if (!run || (!home && (run.meta.ts !== ts || run.meta.channel !== where.channel?.id))) return undefined;
  return { run, ...v };
}

export type Click = {
  user: { id: string };
  channel?: { id?: string };
  message?: { ts?: string };
  trigger_id: string;
  view?: { type?: string; blocks?: { elements?: { value?: string }[] }[] };
};

/** Clicked on the Home tab, on a button the bot published there with exactly this value. */
export const onHomeTab = (click: Click, value: string): boolean =>
  click.view?.type === 'home' &&
  (click.view.blocks ?? []).some((b) => (b.elements ?? []).some((e) => e.value === value));

/** A button whose slow part is a job (Approve, Done): acked at once, then dispatched. */
export function dispatchButton(ctx: ListenerContext, actionId: string, type: 'approve' | 'task-done'): void {
  ctx.listen.action(actionId, async ({ ack, body, action, context }) => {
    await ack();
    if (!(await firstDelivery(context))) return;
    const click = body as unknown as Click;
    const value = (action as { value?: string }).value ?? '';
    await ctx.dispatch({
      type,
      user: click.user.id,
      triggerId: click.trigger_id,
      channel: click.channel?.id,
      messageTs: click.message?.ts ?? (body as { container?: { message_ts?: string } }).container?.message_ts,
      ...(onHomeTab(click, value) ? { home: true } : {}),
      value,
    });
  });
}

/** A button on a workflow message: acked at once, refused unless it belongs to the message clicked. */
export function onWorkflowButton(
  ctx: ListenerContext,
  actionId: string,
  handle: (target: Target, click: Click, client: webApi.WebClient, home: boolean) => Promise<unknown>,
): void {
  ctx.listen.action(actionId, async ({ ack, body, action, client, context }) => {
    await ack();
    if (!(await firstDelivery(context))) return;
    const click = body as unknown as Click;
    const value = (action as { value?: string }).value ?? '';
    const home = onHomeTab(click, value);
    const target = await clicked(ctx.engine, click, value, home);
    if (!target) return void (await ephemeral(ctx.logger, client, click.channel?.id, click.user.id, NOT_OURS));
    await handle(target, click, client, home);
  });
}
