import type { Queries } from '../src/slack/app';

/** Read-only answers for Slack tests and the bench, which do not exercise them: a clean status, an empty plan, a passing drill. */
export const stubQueries = (): Queries => {
  const status = () => ({
    state: { lastCheck: Date.now(), conditions: {}, statusSince: {}, outbox: [] },
    now: Date.now(),
  });
  let asked = false; // like the watcher: a status is at hand once one was read
  return {
    status: async () => ((asked = true), status()),
    cachedStatus: () => (asked ? status() : undefined),
    plan: async (region) => ({ region, changes: [], skips: [], confirmations: [] }),
    watchNow: async () => ({ status: status(), sent: 0 }),
    drill: async (region) => ({ region, passed: true, checks: [] }),
    signIn: async (region) => ({ ok: true, region, ms: 1, accounts: 3, moreAccounts: false }),
    rehearseFailover: async (region) => ({ region, idp: { automated: false, manual: true, why: 'stub' } }),
    regionChoices: async () => ({ add: ['eu-central-1', 'eu-west-1'], remove: ['us-west-2'] }),
  };
};
