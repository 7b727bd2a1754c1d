import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { AwsRegion, InstanceArn, KmsKeyArn } from './lib/schemas';
import { type Sso, describeInstance } from './lib/identity-center';

/** idc.encryption-status (check): EncryptionStatus; UPDATE_FAILED fails with its reason. */
export const createEncryptionStatus = (sso: Sso) =>
  defineStep({
    kind: 'idc.encryption-status',
    description: 'Read Identity Center encryption status (UPDATING, ENABLED, UPDATE_FAILED)',
    mutates: false,
    input: z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, keyArn: KmsKeyArn.optional() }),
    async run(input) {
      const enc = (await describeInstance(sso, input.primaryRegion, input.instanceArn)).EncryptionConfigurationDetails;
      if (enc?.EncryptionStatus === 'UPDATE_FAILED') {
        throw new NonRetryableStepError(
          `Identity Center could not switch keys: ${enc.EncryptionStatusReason ?? 'no reason given'}. The previous key stays in use; fix the key (policy, state) and retry`,
          'UPDATE_FAILED',
        );
      }
      const status =
        enc?.EncryptionStatus === 'ENABLED' && input.keyArn && enc.KmsKeyArn !== input.keyArn
          ? 'UPDATING'
          : (enc?.EncryptionStatus ?? 'UNKNOWN');
      return { output: { status, keyArn: enc?.KmsKeyArn ?? null }, summary: `Encryption is ${status}` };
    },
  });
