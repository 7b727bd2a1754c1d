import { ACTIONS } from '../../blocks';
import type { ListenerContext } from '../context';
import { dispatchButton } from './workflow-button';

/** Approve (after Slack's confirm dialog): acked at once; the engine's rules run in the job (jobs/button.ts). */
export function registerApprove(ctx: ListenerContext): void {
  dispatchButton(ctx, ACTIONS.approve, 'approve');
}
