import { KMS } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { CREATED_BY } from '../iam-policy';
import { aws } from './lib/aws-errors';
import { identityCenterKeyPolicy, type KeyPolicyOptions } from './lib/key-policy';
import { AccountId, AwsRegion } from './lib/schemas';
import { type Kms, RUN_TAG, describe, usablePrimary, findTagged, ensureAlias } from './lib/kms';

/** kms.ensure-multi-region-key: reuse Identity Center's key if it is multi-Region, else create one. */
export const createEnsureKey = (kms: Kms, keyPolicy: KeyPolicyOptions = {}) =>
  defineStep({
    kind: 'kms.ensure-multi-region-key',
    description:
      'Reuse the multi-Region customer managed key Identity Center uses, or create one in the primary Region with the Identity Center key policy, an alias, tags and rotation',
    mutates: true,
    input: z.object({
      primaryRegion: AwsRegion,
      accountId: AccountId,
      currentKeyArn: z.string().nullish(),
      keyAlias: z.string(),
      orgId: z.string().nullish(),
    }),
    async run(input, ctx) {
      const region = input.primaryRegion;
      if (input.currentKeyArn) {
        const current = await describe(kms, region, input.currentKeyArn);
        if (usablePrimary(current))
          return {
            output: { keyArn: current?.Arn as string, keyId: current?.KeyId as string, created: false },
            summary: `Reusing multi-Region key ${current?.KeyId}`,
          };
      }
      const saved = ctx.checkpoint as { keyArn?: string } | undefined;
      const byAlias = await describe(kms, region, input.keyAlias);
      if (usablePrimary(byAlias) && byAlias?.Arn !== saved?.keyArn)
        return {
          output: { keyArn: byAlias?.Arn as string, keyId: byAlias?.KeyId as string, created: false },
          summary: `Reusing multi-Region key ${byAlias?.KeyId} (${input.keyAlias})`,
        };
      if (byAlias && byAlias.Arn !== saved?.keyArn)
        throw new NonRetryableStepError(
          `${input.keyAlias} points at ${byAlias.KeyId}, which is not an enabled multi-Region primary key; point the alias elsewhere or set IDC_KEY_ALIAS`,
          'alias_taken',
        );
      let keyArn = saved?.keyArn ?? (ctx.attempt > 1 ? await findTagged(kms, region, ctx.idempotencyKey) : undefined);
      if (!keyArn) {
        await ctx.fence('kms:CreateKey'); // a stale try (its lease lost) stops here, before acting
        const created = await aws('kms:CreateKey', () =>
          kms(region).send(
            new KMS.CreateKeyCommand({
              MultiRegion: true,
              KeySpec: 'SYMMETRIC_DEFAULT',
              KeyUsage: 'ENCRYPT_DECRYPT',
              Description: 'IAM Identity Center encryption at rest (multi-Region), created by idc-bot',
              Policy: identityCenterKeyPolicy(input.accountId, input.orgId ?? undefined, keyPolicy),
              Tags: [
                { TagKey: RUN_TAG, TagValue: ctx.idempotencyKey },
                { TagKey: CREATED_BY.key, TagValue: CREATED_BY.value },
              ],
            }),
          ),
        );
        keyArn = created.KeyMetadata?.Arn as string;
        await ctx.saveCheckpoint({ keyArn });
      }
      const keyId = keyArn.split('/').pop() as string;
      await ensureAlias(kms, region, input.keyAlias, keyId);
      const rotation = await aws('kms:GetKeyRotationStatus', () =>
        kms(region).send(new KMS.GetKeyRotationStatusCommand({ KeyId: keyId })),
      );
      if (!rotation.KeyRotationEnabled)
        await aws('kms:EnableKeyRotation', () => kms(region).send(new KMS.EnableKeyRotationCommand({ KeyId: keyId })));
      return {
        output: { keyArn, keyId, created: true },
        summary: `Created multi-Region key ${keyId} (${input.keyAlias}) in ${region}`,
      };
    },
  });
