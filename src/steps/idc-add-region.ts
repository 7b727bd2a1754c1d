import { SSOAdmin } from '../aws/sdk';
import { defineStep } from '../engine';
import { aws } from './lib/aws-errors';
import { type Sso, listRegions, Target } from './lib/identity-center';

/** idc.add-region: AddRegion in the primary Region; a Region already there counts as done. */
export const createAddRegion = (sso: Sso) =>
  defineStep({
    kind: 'idc.add-region',
    description: 'Add the Region to the instance (AddRegion, sent to the primary Region)',
    mutates: true,
    input: Target,
    async run(input, ctx) {
      const existing = (await listRegions(sso, input.primaryRegion, input.instanceArn)).find(
        (r) => r.RegionName === input.region,
      );
      if (existing)
        return {
          output: { status: existing.Status as string, alreadyPresent: true },
          summary: `${input.region} is already on the instance (${existing.Status})`,
        };
      await ctx.fence('sso:AddRegion'); // a stale try (its lease lost) stops here, before acting
      const out = await aws('sso:AddRegion', () =>
        sso(input.primaryRegion).send(
          new SSOAdmin.AddRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region }),
        ),
      );
      return {
        output: { status: out.Status ?? 'ADDING', alreadyPresent: false },
        summary: `AddRegion accepted: ${input.region} is ${out.Status ?? 'ADDING'}`,
      };
    },
  });
