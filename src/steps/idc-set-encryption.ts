import { SSOAdmin } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, RetryableStepError } from '../engine';
import { aws } from './lib/aws-errors';
import { AwsRegion, InstanceArn, KmsKeyArn } from './lib/schemas';
import { type Sso, describeInstance } from './lib/identity-center';

/** idc.set-encryption: switch Identity Center encryption to the customer managed key. */
export const createSetEncryption = (sso: Sso) =>
  defineStep({
    kind: 'idc.set-encryption',
    description: 'Switch Identity Center encryption at rest to the multi-Region customer managed key (UpdateInstance)',
    mutates: true,
    input: z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, keyArn: KmsKeyArn }),
    async run(input, ctx) {
      const d = await describeInstance(sso, input.primaryRegion, input.instanceArn);
      const enc = d.EncryptionConfigurationDetails;
      if (enc?.KmsKeyArn === input.keyArn && enc.EncryptionStatus !== 'UPDATE_FAILED') {
        return {
          output: { keyArn: input.keyArn, changed: false },
          summary: `Identity Center already uses ${input.keyArn.split('/').pop()} (${enc.EncryptionStatus})`,
        };
      }
      if (enc?.EncryptionStatus === 'UPDATING') {
        // Resumed after a crash right after our UpdateInstance: the update under way is ours. The
        // next step waits for it and fails if Identity Center ends up on another key.
        if (ctx.attempt > 1)
          return {
            output: { keyArn: input.keyArn, changed: true },
            summary: `An encryption update is under way (resumed); the next step checks it ends on ${input.keyArn.split('/').pop()}`,
          };
        throw new RetryableStepError(
          'Another encryption update is in progress; waiting for it to finish',
          'encryption_updating',
          30_000,
        );
      }
      await ctx.fence('sso:UpdateInstance'); // a stale try (its lease lost) stops here, before acting
      await aws('sso:UpdateInstance', () =>
        sso(input.primaryRegion).send(
          new SSOAdmin.UpdateInstanceCommand({
            InstanceArn: input.instanceArn,
            EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: input.keyArn },
          }),
        ),
      );
      return {
        output: { keyArn: input.keyArn, changed: true },
        summary: `Asked Identity Center to switch to key ${input.keyArn.split('/').pop()}`,
      };
    },
  });
