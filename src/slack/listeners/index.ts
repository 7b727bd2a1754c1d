import { registerApprove } from './actions/approve';
import { registerReject } from './actions/reject';
import { registerTaskDone } from './actions/task-done';
import { registerIdcCommand } from './commands/idc';
import { registerAppHomeOpened } from './events/app-home-opened';
import type { ListenerContext } from './context';
import { registerChangeForm } from './views/change-form';
import { registerRejectReason } from './views/reject-reason';

/** Every listener of the app (one per file, grouped by what Slack sends), then mounted on Bolt. */
export function registerListeners(ctx: ListenerContext): void {
  registerIdcCommand(ctx);
  registerApprove(ctx);
  registerReject(ctx);
  registerTaskDone(ctx);
  registerRejectReason(ctx);
  registerChangeForm(ctx);
  registerAppHomeOpened(ctx);
  ctx.listen.mount(ctx.app);
}

export type { ListenerContext } from './context';
export { createRouter } from './router';
