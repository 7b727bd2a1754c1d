import { registerApprove } from './actions/approve';
import { registerReject } from './actions/reject';
import { registerTaskDone } from './actions/task-done';
import { registerIdcCommand } from './commands/idc';
import type { ListenerContext } from './context';
import { registerRejectReason } from './views/reject-reason';

/** Every listener of the app (one per file, grouped by what Slack sends). */
export function registerListeners(ctx: ListenerContext): void {
  registerIdcCommand(ctx);
  registerApprove(ctx);
  registerReject(ctx);
  registerTaskDone(ctx);
  registerRejectReason(ctx);
}

export type { ListenerContext } from './context';
