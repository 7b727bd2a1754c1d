import { clicked, NOT_OURS } from '../listeners/actions/workflow-button';
import { ephemeral, type ListenerContext } from '../listeners/context';
import type { SlowJob } from './types';

/** The slow part of Approve and Done: check the button belongs to its message, then ask the engine. */
export function createButtonJob({ app, engine, logger }: ListenerContext) {
  return async (job: Extract<SlowJob, { type: 'approve' | 'task-done' }>): Promise<void> => {
    const tell = (text: string) => ephemeral(logger, app.client, job.channel, job.user, text);
    const target = await clicked(engine, { channel: { id: job.channel }, message: { ts: job.messageTs } }, job.value);
    if (!target) return void (await tell(NOT_OURS));
    if (job.type === 'approve') {
      const res = await engine.decide({
        runId: target.run.id,
        stepId: target.stepId,
        user: job.user,
        verdict: 'approve',
        planHash: target.planHash,
      });
      if (!['recorded', 'opened'].includes(res.outcome)) await tell(res.message);
      return;
    }
    const res = await engine.confirmTask({ runId: target.run.id, stepId: target.stepId, user: job.user });
    if (!res.ok) await tell(res.message);
  };
}
