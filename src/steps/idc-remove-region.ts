import { SSOAdmin } from '../aws/sdk';
import { defineStep, NonRetryableStepError, RetryableStepError } from '../engine';
import { aws } from './lib/aws-errors';
import { type Sso, listRegions, Target } from './lib/identity-center';

/** idc.remove-region: RemoveRegion in the primary Region; never the primary itself. */
export const createRemoveRegion = (sso: Sso) =>
  defineStep({
    kind: 'idc.remove-region',
    description: 'Remove an additional Region from the instance (RemoveRegion, sent to the primary Region)',
    mutates: true,
    input: Target,
    async run(input, ctx) {
      if (input.region === input.primaryRegion)
        throw new NonRetryableStepError(
          `${input.region} is the primary Region; it can only be removed by deleting the instance`,
          'primary_region',
        );
      const regions = await listRegions(sso, input.primaryRegion, input.instanceArn);
      const r = regions.find((x) => x.RegionName === input.region);
      if (!r)
        return { output: { status: 'ABSENT' }, summary: `${input.region} is not on the instance; nothing to remove` };
      if (r.Status === 'REMOVING')
        return { output: { status: 'REMOVING' }, summary: `${input.region} is already being removed` };
      const busy = regions.find((x) => x.Status !== 'ACTIVE');
      if (busy)
        throw new RetryableStepError(
          `${busy.RegionName} is ${busy.Status}; AWS allows one add/remove at a time`,
          'busy',
          60_000,
        );
      await ctx.fence('sso:RemoveRegion'); // a stale try (its lease lost) stops here, before acting
      const out = await aws('sso:RemoveRegion', () =>
        sso(input.primaryRegion).send(
          new SSOAdmin.RemoveRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region }),
        ),
      );
      return {
        output: { status: out.Status ?? 'REMOVING' },
        summary: `RemoveRegion accepted: ${input.region} is ${out.Status ?? 'REMOVING'}`,
      };
    },
  });
