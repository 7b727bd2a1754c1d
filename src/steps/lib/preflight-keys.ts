import { KMS } from '../../aws/sdk';
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { NonRetryableStepError } from '../../engine';
import { aws } from './aws-errors';
import { extraGrants, identityCenterKeyPolicy, policyGrantsIdc, samePolicy, type KeyPolicyOptions } from './key-policy';

/**
 * The key changes when Identity Center needs a new multi-Region key: create one, or reuse the key
 * already behind the alias, said plainly, and only when its policy grants nothing beyond the
 * Identity Center key policy (a foreign principal would otherwise be copied to every replica).
 */
export async function keyBehindAlias(
  kms: (r: string) => KMSClient,
  k: {
    primary: string;
    target: string;
    alias: string;
    accountId: string | undefined;
    orgId: string | undefined;
    keyPolicy: KeyPolicyOptions;
    /** Why a new key is needed (said in the plan). */
    why: string;
  },
  problems: string[],
): Promise<string[]> {
  const { primary, target, alias, accountId, orgId, why } = k;
  let meta: KeyMetadata | undefined;
  try {
    meta = (await aws('kms:DescribeKey', () => kms(primary).send(new KMS.DescribeKeyCommand({ KeyId: alias }))))
      .KeyMetadata;
  } catch (err) {
    if (!(err instanceof NonRetryableStepError && err.code === 'NotFoundException')) throw err;
  }
  const rest = [
    `Replicate it to ${target} with the Identity Center key policy`,
    `Switch Identity Center encryption to it (UpdateInstance)`,
  ];
  if (!meta) return [`Create a multi-Region key ${alias} in ${primary} ${why}`, ...rest];
  const usable =
    meta.MultiRegion === true &&
    meta.MultiRegionConfiguration?.MultiRegionKeyType === 'PRIMARY' &&
    meta.KeyState === 'Enabled' &&
    meta.KeyManager === 'CUSTOMER';
  if (!usable) {
    problems.push(
      `${alias} points at ${meta.KeyId}, which is not an enabled multi-Region primary key: point the alias elsewhere or set IDC_KEY_ALIAS`,
    );
    return [];
  }
  const policy = (
    await aws('kms:GetKeyPolicy', () =>
      kms(primary).send(new KMS.GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' })),
    )
  ).Policy;
  const extra = extraGrants(policy, identityCenterKeyPolicy(accountId ?? '', orgId, k.keyPolicy));
  if (extra.length)
    problems.push(
      `Key ${meta.KeyId} behind ${alias} grants more than Identity Center needs (${extra.join('; ')}): remove those statements (docs/key-policy.md), or set IDC_KEY_ALIAS to a free alias so the bot creates a key`,
    );
  return [
    `Reuse existing multi-Region key ${meta.KeyId} (${alias}) in ${primary} ${why}; its policy grants nothing beyond the Identity Center key policy`,
    ...rest,
  ];
}

export async function keyFacts(kms: (r: string) => KMSClient, primary: string, target: string, keyArn: string) {
  const meta = (await aws('kms:DescribeKey', () => kms(primary).send(new KMS.DescribeKeyCommand({ KeyId: keyArn }))))
    .KeyMetadata;
  const multiRegion = meta?.MultiRegion === true;
  const policy = (
    await aws('kms:GetKeyPolicy', () =>
      kms(primary).send(new KMS.GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })),
    )
  ).Policy;
  const replica = meta?.MultiRegionConfiguration?.ReplicaKeys?.find((r) => r.Region === target);
  let replicaPolicySame: boolean | undefined;
  if (replica?.Arn) {
    const rp = (
      await aws('kms:GetKeyPolicy', () =>
        kms(target).send(new KMS.GetKeyPolicyCommand({ KeyId: meta?.KeyId, PolicyName: 'default' })),
      )
    ).Policy;
    replicaPolicySame = samePolicy(rp, policy);
  }
  return {
    keyId: meta?.KeyId as string,
    multiRegion,
    enabled: meta?.KeyState === 'Enabled',
    grantsIdc: policyGrantsIdc(policy),
    replica: Boolean(replica),
    replicaPolicySame,
  };
}
