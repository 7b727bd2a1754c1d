import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import type { StepClients } from './lib/clients';
import { drillRegion } from './lib/drill';
import { AwsRegion } from './lib/schemas';

/**
 * idc.region-ready: can the Region serve sign-in on its own (the DR drill's checks, read-only)?
 * Every call goes to that Region's endpoints, so it answers the same with the primary Region down.
 */
export const createRegionReady = (c: StepClients) =>
  defineStep({
    kind: 'idc.region-ready',
    description:
      "Check, on the Region's own endpoints only, that it can serve sign-in: instance, ACTIVE, Identity Store, key replica",
    mutates: false,
    input: z.object({ region: AwsRegion }),
    async run(input) {
      const d = await drillRegion(c, input.region);
      const failed = d.checks.filter((x) => !x.ok);
      if (!d.passed)
        throw new NonRetryableStepError(
          `${input.region} cannot take over sign-in: ${failed.map((x) => `${x.check}: ${x.detail}`).join('; ') || 'nothing answered'}`,
          'region_not_ready',
        );
      return {
        output: { instanceArn: d.instanceArn, checks: d.checks.length },
        summary: `${input.region} serves sign-in on its own (${d.checks.length} checks)`,
        details: d.checks.map((x) => `✅ ${x.check}: ${x.detail} (${x.ms} ms)`),
      };
    },
  });
