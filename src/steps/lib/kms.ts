import { KMS } from '../../aws/sdk';
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { NonRetryableStepError } from '../../engine';
import { aws } from './aws-errors';

export type Kms = (region: string) => KMSClient;

import { RUN_TAG } from '../../iam-policy';

export { RUN_TAG };

export async function describe(kms: Kms, region: string, keyId: string): Promise<KeyMetadata | undefined> {
  try {
    return (await aws('kms:DescribeKey', () => kms(region).send(new KMS.DescribeKeyCommand({ KeyId: keyId }))))
      .KeyMetadata;
  } catch (err) {
    if (err instanceof NonRetryableStepError && err.code === 'NotFoundException') return undefined;
    throw err;
  }
}

export const usablePrimary = (k: KeyMetadata | undefined) =>
  k?.MultiRegion === true &&
  k.MultiRegionConfiguration?.MultiRegionKeyType === 'PRIMARY' &&
  k.KeyState === 'Enabled' &&
  k.KeyManager === 'CUSTOMER';

/** Finds a key this step created on an earlier try by its run tag (only after a crash). */
export async function findTagged(kms: Kms, region: string, tag: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await aws('kms:ListKeys', () => kms(region).send(new KMS.ListKeysCommand({ Marker: marker })));
    for (const k of page.Keys ?? []) {
      if (!k.KeyId?.startsWith('mrk-')) continue;
      const tags = await aws('kms:ListResourceTags', () =>
        kms(region).send(new KMS.ListResourceTagsCommand({ KeyId: k.KeyId })),
      );
      if (tags.Tags?.some((t) => t.TagKey === RUN_TAG && t.TagValue === tag)) return k.KeyArn;
    }
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

export async function ensureAlias(kms: Kms, region: string, alias: string, keyId: string): Promise<void> {
  try {
    await aws('kms:CreateAlias', () =>
      kms(region).send(new KMS.CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })),
    );
  } catch (err) {
    if (!(err instanceof NonRetryableStepError && err.code === 'AlreadyExistsException')) throw err;
    const target = await describe(kms, region, alias);
    if (target?.KeyId !== keyId)
      throw new NonRetryableStepError(
        `Alias ${alias} in ${region} already points at another key (${target?.KeyId}); set IDC_KEY_ALIAS to a free alias name`,
        'alias_taken',
      );
  }
}
