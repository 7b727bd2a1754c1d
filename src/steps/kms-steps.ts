import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  GetKeyPolicyCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { z } from 'zod';
import { defineStep, NonRetryableStepError, RetryableStepError } from '../engine';
import { aws, isAwsError } from './aws-errors';
import { identityCenterKeyPolicy, samePolicy } from './key-policy';
import { AccountId, AwsRegion, KmsKeyArn, regionOfArn } from './schemas';

type Kms = (region: string) => KMSClient;
const RUN_TAG = 'idc-bot:run';

async function describe(kms: Kms, region: string, keyId: string): Promise<KeyMetadata | undefined> {
  try {
    return (await aws('kms:DescribeKey', () => kms(region).send(new DescribeKeyCommand({ KeyId: keyId })))).KeyMetadata;
  } catch (err) {
    if (err instanceof NonRetryableStepError && err.code === 'NotFoundException') return undefined;
    throw err;
  }
}

const usablePrimary = (k: KeyMetadata | undefined) => k?.MultiRegion === true && k.MultiRegionConfiguration?.MultiRegionKeyType === 'PRIMARY' && k.KeyState === 'Enabled' && k.KeyManager === 'CUSTOMER';

/** Finds a key this step created on an earlier try by its run tag (only after a crash). */
async function findTagged(kms: Kms, region: string, tag: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await aws('kms:ListKeys', () => kms(region).send(new ListKeysCommand({ Marker: marker })));
    for (const k of page.Keys ?? []) {
      if (!k.KeyId?.startsWith('mrk-')) continue;
      const tags = await aws('kms:ListResourceTags', () => kms(region).send(new ListResourceTagsCommand({ KeyId: k.KeyId })));
      if (tags.Tags?.some((t) => t.TagKey === RUN_TAG && t.TagValue === tag)) return k.KeyArn;
    }
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

async function ensureAlias(kms: Kms, region: string, alias: string, keyId: string): Promise<void> {
  try {
    await aws('kms:CreateAlias', () => kms(region).send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));
  } catch (err) {
    if (!(err instanceof NonRetryableStepError && err.code === 'AlreadyExistsException')) throw err;
    const target = await describe(kms, region, alias);
    if (target?.KeyId !== keyId) throw new NonRetryableStepError(`Alias ${alias} in ${region} already points at another key (${target?.KeyId}); set IDC_KEY_ALIAS to a free alias name`, 'alias_taken');
  }
}

/** kms.ensure-multi-region-key: reuse Identity Center's key if it is multi-Region, else create one. */
export const createEnsureKey = (kms: Kms) =>
  defineStep({
    kind: 'kms.ensure-multi-region-key',
    description: 'Reuse the multi-Region customer managed key Identity Center uses, or create one in the primary Region with the Identity Center key policy, an alias, tags and rotation',
    mutates: true,
    input: z.object({ primaryRegion: AwsRegion, accountId: AccountId, currentKeyArn: z.string().nullish(), keyAlias: z.string(), orgId: z.string().nullish() }),
    async run(input, ctx) {
      const region = input.primaryRegion;
      if (input.currentKeyArn) {
        const current = await describe(kms, region, input.currentKeyArn);
        if (usablePrimary(current)) return { output: { keyArn: current?.Arn as string, keyId: current?.KeyId as string, created: false }, summary: `Reusing multi-Region key ${current?.KeyId}` };
      }
      const saved = ctx.checkpoint as { keyArn?: string } | undefined;
      const byAlias = await describe(kms, region, input.keyAlias);
      if (usablePrimary(byAlias) && byAlias?.Arn !== saved?.keyArn) return { output: { keyArn: byAlias?.Arn as string, keyId: byAlias?.KeyId as string, created: false }, summary: `Reusing multi-Region key ${byAlias?.KeyId} (${input.keyAlias})` };
      if (byAlias && byAlias.Arn !== saved?.keyArn) throw new NonRetryableStepError(`${input.keyAlias} points at ${byAlias.KeyId}, which is not an enabled multi-Region primary key; point the alias elsewhere or set IDC_KEY_ALIAS`, 'alias_taken');
      let keyArn = saved?.keyArn ?? (ctx.attempt > 1 ? await findTagged(kms, region, ctx.idempotencyKey) : undefined);
      if (!keyArn) {
        const created = await aws('kms:CreateKey', () =>
          kms(region).send(
            new CreateKeyCommand({
              MultiRegion: true,
              KeySpec: 'SYMMETRIC_DEFAULT',
              KeyUsage: 'ENCRYPT_DECRYPT',
              Description: 'IAM Identity Center encryption at rest (multi-Region), created by idc-bot',
              Policy: identityCenterKeyPolicy(input.accountId, input.orgId ?? undefined),
              Tags: [
                { TagKey: RUN_TAG, TagValue: ctx.idempotencyKey },
                { TagKey: 'CreatedBy', TagValue: 'idc-bot' },
              ],
            }),
          ),
        );
        keyArn = created.KeyMetadata?.Arn as string;
        await ctx.saveCheckpoint({ keyArn });
      }
      const keyId = keyArn.split('/').pop() as string;
      await ensureAlias(kms, region, input.keyAlias, keyId);
      const rotation = await aws('kms:GetKeyRotationStatus', () => kms(region).send(new GetKeyRotationStatusCommand({ KeyId: keyId })));
      if (!rotation.KeyRotationEnabled) await aws('kms:EnableKeyRotation', () => kms(region).send(new EnableKeyRotationCommand({ KeyId: keyId })));
      return { output: { keyArn, keyId, created: true }, summary: `Created multi-Region key ${keyId} (${input.keyAlias}) in ${region}` };
    },
  });

/** kms.replicate-key: replica in the target Region with the primary's policy; reconcile a drifted one. */
export const createReplicateKey = (kms: Kms) =>
  defineStep({
    kind: 'kms.replicate-key',
    description: 'Replicate the multi-Region key to the target Region with the same key policy (KMS does not copy it), or reconcile the policy of an existing replica',
    mutates: true,
    input: z.object({ keyArn: KmsKeyArn, region: AwsRegion, keyAlias: z.string().optional() }),
    async run(input) {
      const primaryRegion = regionOfArn(input.keyArn);
      const keyId = input.keyArn.split('/').pop() as string;
      const policy = (await aws('kms:GetKeyPolicy', () => kms(primaryRegion).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })))).Policy;
      let replica = await describe(kms, input.region, keyId);
      let created = false;
      if (!replica) {
        try {
          const out = await aws('kms:ReplicateKey', () =>
            kms(primaryRegion).send(
              new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: input.region, Policy: policy, Description: 'IAM Identity Center encryption at rest (replica), created by idc-bot', Tags: [{ TagKey: 'CreatedBy', TagValue: 'idc-bot' }] }),
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
        throw new NonRetryableStepError(`The replica of ${keyId} in ${input.region} is scheduled for deletion: cancel the deletion (kms:CancelKeyDeletion, then kms:EnableKey) and retry`, 'replica_pending_deletion');
      }
      let reconciled = false;
      if (!created) {
        const current = (await aws('kms:GetKeyPolicy', () => kms(input.region).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })))).Policy;
        if (!samePolicy(current, policy)) {
          await aws('kms:PutKeyPolicy', () => kms(input.region).send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy })));
          reconciled = true;
        }
      }
      if (input.keyAlias) await ensureAlias(kms, input.region, input.keyAlias, keyId);
      const replicaArn = replica?.Arn ?? input.keyArn.replace(`:${primaryRegion}:`, `:${input.region}:`);
      const summary = created ? `Replicated ${keyId} to ${input.region} with the primary's key policy` : reconciled ? `Replica in ${input.region} existed; its drifted key policy was reset to the primary's` : `Replica in ${input.region} already exists with the same key policy`;
      return { output: { replicaArn, created, policyReconciled: reconciled }, summary };
    },
  });

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
        throw new NonRetryableStepError(`The key ${keyId} in ${input.region} is ${state}; Identity Center cannot use it. Enable it (or cancel its deletion) and retry`, 'key_unusable');
      }
      return { output: { state }, summary: `Key ${keyId} in ${input.region} is ${state}` };
    },
  });

/** kms.schedule-replica-deletion: schedule deletion of the replica in one Region (never a primary). */
export const createScheduleReplicaDeletion = (kms: Kms) =>
  defineStep({
    kind: 'kms.schedule-replica-deletion',
    description: 'Schedule deletion of the key replica in a removed Region (7-30 days); never the primary',
    mutates: true,
    input: z.object({ keyArn: KmsKeyArn, region: AwsRegion, days: z.number().int().min(7).max(30) }),
    async run(input) {
      const keyId = input.keyArn.split('/').pop() as string;
      const k = await describe(kms, input.region, keyId);
      if (!k) return { output: { scheduled: false }, summary: `No replica of ${keyId} in ${input.region}; nothing to delete` };
      if (k.MultiRegionConfiguration?.MultiRegionKeyType !== 'REPLICA') {
        throw new NonRetryableStepError(`The key in ${input.region} is the primary key, not a replica; the bot never deletes a primary key`, 'not_a_replica');
      }
      if (k.KeyState === 'PendingDeletion') return { output: { scheduled: true, deletionDate: k.DeletionDate?.toISOString() }, summary: `Replica in ${input.region} was already scheduled for deletion` };
      try {
        const out = await aws('kms:ScheduleKeyDeletion', () => kms(input.region).send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: input.days })));
        return { output: { scheduled: true, deletionDate: out.DeletionDate?.toISOString() }, summary: `Replica in ${input.region} scheduled for deletion in ${input.days} days` };
      } catch (err) {
        if (err instanceof RetryableStepError && isAwsError({ name: err.code }, 'KMSInvalidStateException')) throw new NonRetryableStepError(err.message, err.code);
        throw err;
      }
    },
  });
