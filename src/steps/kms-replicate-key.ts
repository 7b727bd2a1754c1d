import { KMS } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { CREATED_BY } from '../iam-policy';
import { aws } from './lib/aws-errors';
import { samePolicy } from './lib/key-policy';
import { AwsRegion, KmsKeyArn, regionOfArn } from './lib/schemas';
import { type Kms, describe, ensureAlias } from './lib/kms';

/** kms.replicate-key: replica in the target Region with the primary's policy; reconcile a drifted one. */
export const createReplicateKey = (kms: Kms) =>
  defineStep({
    kind: 'kms.replicate-key',
    description:
      'Replicate the multi-Region key to the target Region with the same key policy (KMS does not copy it), or reconcile the policy of an existing replica',
    mutates: true,
    input: z.object({ keyArn: KmsKeyArn, region: AwsRegion, keyAlias: z.string().optional() }),
    async run(input, ctx) {
      const primaryRegion = regionOfArn(input.keyArn);
      const keyId = input.keyArn.split('/').pop() as string;
      const policy = (
        await aws('kms:GetKeyPolicy', () =>
          kms(primaryRegion).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
        )
      ).Policy;
      let replica = await describe(kms, input.region, keyId);
      let created = false;
      if (!replica) {
        try {
          await ctx.fence('kms:ReplicateKey'); // a stale try (its lease lost) stops here, before acting
          const out = await aws('kms:ReplicateKey', () =>
            kms(primaryRegion).send(
              new KMS.ReplicateKeyCommand({
                KeyId: keyId,
                ReplicaRegion: input.region,
                Policy: policy,
                Description: 'IAM Identity Center encryption at rest (replica), created by idc-bot',
                Tags: [{ TagKey: CREATED_BY.key, TagValue: CREATED_BY.value }],
              }),
            ),
          );
          replica = out.ReplicaKeyMetadata;
          created = true;
        } catch (err) {
          if (!(err instanceof NonRetryableStepError && err.code === 'AlreadyExistsException')) throw err;
          replica = await describe(kms, input.region, keyId);
        }
      }
      if (replica?.KeyState === 'PendingDeletion') {
        throw new NonRetryableStepError(
          `The replica of ${keyId} in ${input.region} is scheduled for deletion: cancel the deletion (kms:CancelKeyDeletion, then kms:EnableKey) and retry`,
          'replica_pending_deletion',
        );
      }
      let reconciled = false;
      if (!created) {
        const current = (
          await aws('kms:GetKeyPolicy', () =>
            kms(input.region).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
          )
        ).Policy;
        if (!samePolicy(current, policy)) {
          await aws('kms:PutKeyPolicy', () =>
            kms(input.region).send(
              new KMS.PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }),
            ),
          );
          reconciled = true;
        }
      }
      if (input.keyAlias) await ensureAlias(kms, input.region, input.keyAlias, keyId);
      const replicaArn = replica?.Arn ?? input.keyArn.replace(`:${primaryRegion}:`, `:${input.region}:`);
      const summary = created
        ? `Replicated ${keyId} to ${input.region} with the primary's key policy`
        : reconciled
          ? `Replica in ${input.region} existed; its drifted key policy was reset to the primary's`
          : `Replica in ${input.region} already exists with the same key policy`;
      return { output: { replicaArn, created, policyReconciled: reconciled }, summary };
    },
  });
