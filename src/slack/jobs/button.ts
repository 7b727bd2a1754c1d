import { clicked, NOT_OURS } from '../listeners/actions/workflow-button';
import { ephemeral, type ListenerContext } from '../listeners/context';
import type { SlowJob } from './types';

/**
 * The slow part of Approve and Done: check the button belongs to its message (or to the person's
 * Home tab), then ask the engine. From the Home tab, the answer is the tab itself, published again.
 */
export function createButtonJob(
  { app, engine, logger }: ListenerContext,
  home: (job: Extract<SlowJob, { type: 'home' }>) => Promise<void>,
) {
  return async (job: Extract<SlowJob, { type: 'approve' | 'task-done' }>): Promise<void> => {
    const tell = (text: string) =>
      job.home
        ? home({ type: 'home', user: job.user, triggerId: job.triggerId, notice: text })
        : ephemeral(logger, app.client, job.channel, job.user, text);
    const where = { channel: { id: job.channel }, message: { ts: job.messageTs } };
    const target = await clicked(engine, where, job.value, job.home);
    if (!target) return void (await tell(NOT_OURS));
    if (job.type === 'approve') {
      const res = await engine.decide({
        runId: target.run.id,
        stepId: target.stepId,
        user: job.user,
        verdict: 'approve',
        planHash: target.planHash,
      });
      if (!['recorded', 'opened'].includes(res.outcome) || job.home) await tell(res.message);
      return;
    }
    const res = await engine.confirmTask({ runId: target.run.id, stepId: target.stepId, user: job.user });
    if (!res.ok || job.home) await tell(res.message);
  };
}
