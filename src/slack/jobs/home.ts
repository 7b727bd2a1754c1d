import { isTerminal, type Run } from '../../engine';
import { buildHome, type WaitingFor } from '../home';
import type { ListenerContext } from '../listeners/context';
import type { SlowJob } from './types';

/** How many recent workflows the Home tab looks through (one indexed query, no scan). */
const RECENT = 50;

/**
 * Publishes a person's Home tab: the gates they may approve and the tasks they may confirm (the
 * engine's own rules: their roles, not their own request, not decided yet), the watcher's picture,
 * and the workflows in flight. Read-only people see what the read-only commands show; others why not.
 */
export function createHomeJob({ app, settings, engine, queries, directory, logger }: ListenerContext) {
  async function mayActOn(user: string, run: Run): Promise<WaitingFor | undefined> {
    const step = run.definition.steps[run.cursor];
    const st = step && run.steps[step.id];
    if (!step || !st) return undefined;
    if ('approval' in step && st.status === 'awaiting_approval') {
      const { approvers, allowRequester } = step.approval;
      if ((user === run.requester && !allowRequester) || st.decisions?.some((d) => d.user === user)) return undefined;
      return (await directory.isInRole(user, approvers)) ? { run, stepId: step.id, kind: 'gate' } : undefined;
    }
    if ('task' in step && st.status === 'awaiting_task') {
      const allowed =
        (step.task.allowRequester && user === run.requester) || (await directory.isInRole(user, step.task.assignees));
      return allowed ? { run, stepId: step.id, kind: 'task' } : undefined;
    }
    return undefined;
  }

  return async (job: Extract<SlowJob, { type: 'home' }>): Promise<void> => {
    const now = Date.now();
    const base = { inFlight: [], waiting: [], notice: job.notice, channel: settings.channel, now };
    const viewer = settings.viewerRole
      ? await directory.isInRole(job.user, [settings.viewerRole])
      : await directory.isFullMember(job.user);
    const view = !viewer
      ? buildHome({
          ...base,
          refused: settings.viewerRole
            ? `Only members of the \`${settings.viewerRole}\` role see the replication picture here.`
            : "Guests and other restricted accounts do not see the organization's sign-in set-up.",
        })
      : await (async () => {
          const [status, recent] = await Promise.all([
            queries.cachedStatus?.() ?? queries.status().catch(() => undefined),
            engine.listRecent(RECENT),
          ]);
          const inFlight = recent.filter((r) => !isTerminal(r.status));
          const waiting = (await Promise.all(inFlight.map((r) => mayActOn(job.user, r)))).filter(
            (w): w is WaitingFor => w !== undefined,
          );
          return buildHome({ ...base, status, inFlight, waiting });
        })();
    await app.client.views
      .publish({ user_id: job.user, view })
      .catch((err: unknown) => logger.warn({ err, user: job.user }, 'views.publish failed'));
  };
}
