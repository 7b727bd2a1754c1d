import { Account } from '../aws/sdk';
import type { StepClients } from '../steps';
import { aws } from '../steps/lib/aws-errors';
import { globalRegionOf, KNOWN_REGIONS } from '../steps/lib/schemas';

/** The Regions a change form offers. */
export interface RegionChoices {
  /** Allowed, enabled for the account, not on the instance yet. */
  add: string[];
  /** Additional Regions on the instance (never the primary, nor one being removed). */
  remove: string[];
}

/** The Regions the account has enabled (account:ListRegions, one or two pages). */
async function enabledRegions(c: StepClients, primary: string): Promise<Set<string>> {
  const enabled = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await aws('account:ListRegions', () =>
      c.account(globalRegionOf(primary)).send(
        new Account.ListRegionsCommand({
          RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
          MaxResults: 50,
          NextToken,
        }),
      ),
    );
    for (const r of page.Regions ?? []) if (r.RegionName) enabled.add(r.RegionName);
    NextToken = page.NextToken;
  } while (NextToken);
  return enabled;
}

/**
 * What may be added or removed now: `onInstance` is the watcher's view of the instance's Regions,
 * `allowed` IDC_ALLOWED_REGIONS (every known Region when unset).
 */
export async function regionChoices(
  c: StepClients,
  primary: string,
  onInstance: readonly { name: string; status: string; primary: boolean }[],
  allowed: readonly string[] = KNOWN_REGIONS,
): Promise<RegionChoices> {
  const enabled = await enabledRegions(c, primary);
  const present = new Set([primary, ...onInstance.map((r) => r.name)]);
  return {
    add: allowed.filter((r) => !present.has(r) && enabled.has(r)).sort(),
    remove: onInstance
      .filter((r) => !r.primary && r.name !== primary && r.status !== 'REMOVING')
      .map((r) => r.name)
      .sort(),
  };
}
