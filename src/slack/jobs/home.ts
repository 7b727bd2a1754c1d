import { isTerminal } from '../../engine';
import type { FleetMember } from '../fleet';
import { buildHome, type WaitingFor } from '../home';
import type { ListenerContext } from '../listeners/context';
import type { SlowJob } from './types';

/** How many recent workflows the Home tab looks through (one indexed query, no scan). */
const RECENT = 50;

/**
 * Publishes a person's Home tab: the gates they may approve and the tasks they may confirm (the
 * engine's own rules: engine.waitingFor), the watcher's picture and the workflows in flight.
 * Read-only people see what the read-only commands show; others why not.
 */
export function createHomeJob({ app, settings, engine, fleet, directory, logger }: ListenerContext) {
  return async (job: Extract<SlowJob, { type: 'home' }>): Promise<void> => {
    const now = Date.now();
    const base = { inFlight: [], waiting: [], notice: job.notice, channel: settings.channel, now };
    // The instances this person may view (their runs, the first one's picture).
    const mine: FleetMember[] = [];
    for (const m of fleet.members)
      if (
        m.settings.viewerRole
          ? await directory.isInRole(job.user, [m.settings.viewerRole], m.name)
          : await directory.isFullMember(job.user)
      )
        mine.push(m);
    const queries = mine[0]?.queries;
    const view = !queries
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
          const inFlight = recent.filter((r) => !isTerminal(r.status) && mine.some((m) => m === fleet.of(r.scope)));
          const waiting: WaitingFor[] = [];
          for (const [run, kind] of await Promise.all(
            inFlight.map(async (r) => [r, await engine.waitingFor(r, job.user)] as const),
          ))
            if (kind) waiting.push({ run, stepId: run.definition.steps[run.cursor]?.id ?? '', kind });
          return buildHome({ ...base, status, inFlight, waiting });
        })();
    await app.client.views
      .publish({ user_id: job.user, view })
      .catch((err: unknown) => logger.warn({ err, user: job.user }, 'views.publish failed'));
  };
}
