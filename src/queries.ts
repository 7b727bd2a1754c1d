import type { StepClients } from './steps';
import { detachedContext, type Clock, type Logger, type StepKind } from './engine';
import { drillRegion } from './health';
import { regionChoices } from './health/region-choices';
import { signInCheck } from './health/sign-in';
import { findInstance } from './steps';
import type { FailoverRehearsalView, PlanView, Queries } from './slack/app';
import type { Watcher } from './watch';

export interface QueryDeps {
  clients: StepClients;
  watcher: Watcher;
  /**
   * Step kinds run read-only outside any workflow: preflight (`/idc plan`), the IdP plan and the
   * access URLs (`/idc drill --failover`).
   */
  steps: { preflight: StepKind; idpPlan: StepKind; accessUrls: StepKind };
  /** What preflight needs besides the Region (homeRegion, instanceArn, keyAlias). */
  baseInput: Record<string, unknown>;
  clock: Clock;
  logger?: Logger;
  /** How long a person has to sign in for the sign-in check (default 4 min, inside Lambda's 5-minute timeout). */
  signInWaitMs?: number;
}

interface IdpPlanOutput {
  automated: boolean;
  manual: boolean;
  why?: string;
  primaryAcsUrl?: string;
  plan?: { changes: string[]; skips: string[] };
}

interface PreflightOutput {
  plan: { changes: string[]; skips: string[]; confirmations: string[] };
}

/** The read-only answers (status, plan, watch, drill), as data; the Slack layer renders them. */
export function createQueries({
  clients,
  watcher,
  steps,
  baseInput,
  clock,
  logger,
  signInWaitMs = 240_000,
}: QueryDeps): Queries {
  const detached = (id: string) =>
    detachedContext({ runId: id, stepId: id, idempotencyKey: id, now: () => clock.now() });
  // Only the Region asked is called: the instance ARN is configured, in the watcher's last picture,
  // or read from that Region (it answers there when the primary is down).
  const instanceIn = async (region: string) =>
    (typeof baseInput.instanceArn === 'string' ? baseInput.instanceArn : undefined) ??
    watcher.cached()?.snapshot?.instanceArn ??
    (await findInstance(clients.ssoAdmin, region)).InstanceArn ??
    '';
  return {
    status: async () => ({ state: await watcher.current(), now: clock.now() }),
    cachedStatus() {
      const state = watcher.fresh();
      return state && { state, now: clock.now() };
    },
    async watchNow() {
      const r = await watcher.check(true);
      return { status: { state: r.state, now: clock.now() }, sent: r.sent };
    },
    drill: (region) => drillRegion(clients, region),
    async signIn(region, user, prompt) {
      const instanceArn = await instanceIn(region);
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
    async rehearseFailover(region, user) {
      // The failover workflow's own read-only steps, with the primary Region never asked.
      const primaryRegion = String(baseInput.homeRegion);
      const view: FailoverRehearsalView = { region, idp: { automated: false, manual: false } };
      try {
        const input = steps.idpPlan.input.parse({ operation: 'failover', region, primaryRegion });
        const o = (await steps.idpPlan.run(input, detached('rehearsal'))).output as IdpPlanOutput;
        view.idp = {
          automated: o.automated,
          manual: o.manual,
          ...(o.plan?.changes[0] ? { change: o.plan.changes[0] } : {}),
          ...((o.why ?? o.plan?.skips[0]) ? { why: o.why ?? o.plan?.skips[0] } : {}),
        };
        const urls = steps.accessUrls.input.parse({
          instanceArn: await instanceIn(region),
          region,
          primaryRegion,
          ...(o.primaryAcsUrl ? { primaryAcsUrl: o.primaryAcsUrl } : {}),
        });
        view.portalUrl = (
          (await steps.accessUrls.run(urls, detached('rehearsal'))).output as { portalUrl: string }
        ).portalUrl;
      } catch (err) {
        view.idp.error = (err as Error).message;
      }
      logger?.info({ audit: 'failover_rehearsal', user, region, idp: view.idp }, `failover rehearsal to ${region}`);
      return view;
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
        const input = steps.preflight.input.parse({ operation: 'add', ...baseInput, region });
        const { plan } = (await steps.preflight.run(input, detached('plan'))).output as PreflightOutput;
        return { region, ...plan };
      } catch (err) {
        return { region, error: (err as Error).message };
      }
    },
  };
}
