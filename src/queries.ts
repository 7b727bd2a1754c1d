import type { StepClients } from './steps';
import { detachedContext, type Clock, type Logger, type StepKind } from './engine';
import { drillRegion } from './health';
import { regionChoices } from './health/region-choices';
import { signInCheck } from './health/sign-in';
import { findInstance } from './steps';
import type { PlanView, Queries } from './slack/app';
import type { Watcher } from './watch';

export interface QueryDeps {
  clients: StepClients;
  watcher: Watcher;
  /** The preflight step kind: `/idc plan` runs it read-only, outside any workflow. */
  preflight: StepKind;
  /** What preflight needs besides the Region (homeRegion, instanceArn, keyAlias). */
  baseInput: Record<string, unknown>;
  clock: Clock;
  logger?: Logger;
  /** How long a person has to sign in for the sign-in check (default 4 min, inside Lambda's 5-minute timeout). */
  signInWaitMs?: number;
}

interface PreflightOutput {
  plan: { changes: string[]; skips: string[]; confirmations: string[] };
}

/** The read-only answers (status, plan, watch, drill), as data; the Slack layer renders them. */
export function createQueries({
  clients,
  watcher,
  preflight,
  baseInput,
  clock,
  logger,
  signInWaitMs = 240_000,
}: QueryDeps): Queries {
  return {
    status: async () => ({ state: await watcher.current(), now: clock.now() }),
    cachedStatus() {
      const state = watcher.cached();
      return state && { state, now: clock.now() };
    },
    async watchNow() {
      const r = await watcher.check(true);
      return { status: { state: r.state, now: clock.now() }, sent: r.sent };
    },
    drill: (region) => drillRegion(clients, region),
    async signIn(region, user, prompt) {
      // Only the Region checked is called: the instance ARN is configured, in the watcher's last
      // picture, or read from that Region (it answers there when the primary is down).
      const instanceArn =
        (typeof baseInput.instanceArn === 'string' ? baseInput.instanceArn : undefined) ??
        watcher.cached()?.snapshot?.instanceArn ??
        (await findInstance(clients.ssoAdmin, region)).InstanceArn ??
        '';
      const r = await signInCheck(clients, { instanceArn, region, prompt, maxWaitMs: signInWaitMs });
      logger?.info(
        {
          audit: 'sign_in_check',
          user,
          region,
          ok: r.ok,
          ms: r.ms,
          ...(r.ok ? { accounts: r.accounts } : { hop: r.hop, detail: r.detail }),
        },
        `sign-in check through ${region}: ${r.ok ? 'signed in' : `failed at ${r.hop}`}`,
      );
      return r;
    },
    async regionChoices() {
      const { snapshot, error } = await watcher.current();
      if (!snapshot)
        throw new Error(`The bot cannot read the instance's Regions just now: ${error ?? 'no answer yet'}`);
      const allowed = typeof baseInput.allowedRegions === 'string' ? baseInput.allowedRegions.split(',') : undefined;
      return regionChoices(clients, snapshot.primaryRegion, snapshot.regions, allowed);
    },
    async plan(region): Promise<PlanView> {
      try {
        const input = preflight.input.parse({ operation: 'add', ...baseInput, region });
        const ctx = detachedContext({ runId: 'plan', stepId: 'plan', idempotencyKey: 'plan', now: () => clock.now() });
        const { plan } = (await preflight.run(input, ctx)).output as PreflightOutput;
        return { region, ...plan };
      } catch (err) {
        return { region, error: (err as Error).message };
      }
    },
  };
}
