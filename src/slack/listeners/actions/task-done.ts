import { ACTIONS } from '../../blocks';
import type { ListenerContext } from '../context';
import { dispatchButton } from './workflow-button';

/** Done on a human task: acked at once; the engine's rules run in the job (jobs/button.ts). */
export function registerTaskDone(ctx: ListenerContext): void {
  dispatchButton(ctx, ACTIONS.taskDone, 'task-done');
}
