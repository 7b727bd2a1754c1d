import { SSOAdmin } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { mapAwsError } from './lib/aws-errors';
import { type Sso, Target } from './lib/identity-center';

/** idc.region-status (check): the Region's status, or ABSENT once it is gone. */
export const createRegionStatus = (sso: Sso) =>
  defineStep({
    kind: 'idc.region-status',
    description: 'Read a Region status with DescribeRegion (ACTIVE, ADDING, REMOVING, or ABSENT)',
    mutates: false,
    input: Target.extend({ expect: z.enum(['present', 'absent']) }),
    async run(input) {
      try {
        const r = await sso(input.primaryRegion).send(
          new SSOAdmin.DescribeRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region }),
        );
        return { output: { status: r.Status as string }, summary: `${input.region} is ${r.Status}` };
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceNotFoundException')
          throw mapAwsError('sso:DescribeRegion', err);
        if (input.expect === 'present')
          throw new NonRetryableStepError(
            `${input.region} disappeared from the instance while it was being added: the add failed. Check the AWS console and CloudTrail, then retry`,
            'region_vanished',
          );
        return { output: { status: 'ABSENT' }, summary: `${input.region} is gone` };
      }
    },
  });
