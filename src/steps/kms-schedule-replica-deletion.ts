import { KMS } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, NonRetryableStepError, RetryableStepError } from '../engine';
import { aws, isAwsError } from './lib/aws-errors';
import { AwsRegion, KmsKeyArn } from './lib/schemas';
import { type Kms, describe } from './lib/kms';

/** kms.schedule-replica-deletion: schedule deletion of the replica in one Region (never a primary). */
export const createScheduleReplicaDeletion = (kms: Kms) =>
  defineStep({
    kind: 'kms.schedule-replica-deletion',
    description: 'Schedule deletion of the key replica in a removed Region (7-30 days); never the primary',
    mutates: true,
    input: z.object({ keyArn: KmsKeyArn, region: AwsRegion, days: z.number().int().min(7).max(30) }),
    async run(input, ctx) {
      const keyId = input.keyArn.split('/').pop() as string;
      const k = await describe(kms, input.region, keyId);
      if (!k)
        return {
          output: { scheduled: false },
          summary: `No replica of ${keyId} in ${input.region}; nothing to delete`,
        };
      if (k.MultiRegionConfiguration?.MultiRegionKeyType !== 'REPLICA') {
        throw new NonRetryableStepError(
          `The key in ${input.region} is the primary key, not a replica; the bot never deletes a primary key`,
          'not_a_replica',
        );
      }
      if (k.KeyState === 'PendingDeletion')
        return {
          output: { scheduled: true, deletionDate: k.DeletionDate?.toISOString() },
          summary: `Replica in ${input.region} was already scheduled for deletion`,
        };
      try {
        await ctx.fence('kms:ScheduleKeyDeletion'); // a stale try (its lease lost) stops here, before acting
        const out = await aws('kms:ScheduleKeyDeletion', () =>
          kms(input.region).send(new KMS.ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: input.days })),
        );
        return {
          output: { scheduled: true, deletionDate: out.DeletionDate?.toISOString() },
          summary: `Replica in ${input.region} scheduled for deletion in ${input.days} days`,
        };
      } catch (err) {
        if (err instanceof RetryableStepError && isAwsError({ name: err.code }, 'KMSInvalidStateException'))
          throw new NonRetryableStepError(err.message, err.code);
        throw err;
      }
    },
  });
