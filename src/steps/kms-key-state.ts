import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { AwsRegion, KmsKeyArn } from './lib/schemas';
import { type Kms, describe } from './lib/kms';

/** kms.key-state (check): the state of a key in a Region (Creating, Enabled, …). */
export const createKeyState = (kms: Kms) =>
  defineStep({
    kind: 'kms.key-state',
    description: 'Read the state of a multi-Region key in one Region',
    mutates: false,
    input: z.object({ keyArn: KmsKeyArn, region: AwsRegion }),
    async run(input) {
      const keyId = input.keyArn.split('/').pop() as string;
      const k = await describe(kms, input.region, keyId);
      const state = k?.KeyState ?? 'Absent';
      if (state === 'Disabled' || state === 'PendingDeletion') {
        throw new NonRetryableStepError(
          `The key ${keyId} in ${input.region} is ${state}; Identity Center cannot use it. Enable it (or cancel its deletion) and retry`,
          'key_unusable',
        );
      }
      return { output: { state }, summary: `Key ${keyId} in ${input.region} is ${state}` };
    },
  });
