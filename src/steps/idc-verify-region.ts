import { IdentityStore, KMS, SSOAdmin } from '../aws/sdk';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { defineStep, RetryableStepError } from '../engine';
import { aws, mapAwsError } from './lib/aws-errors';
import { describeInstance } from './lib/identity-center';
import { samePolicy } from './lib/key-policy';
import { AwsRegion, InstanceArn } from './lib/schemas';

async function ids(
  pages: AsyncIterable<{ Users?: { UserId?: string }[]; Groups?: { GroupId?: string }[] }>,
  limit: number,
): Promise<{ ids: Set<string>; truncated: boolean }> {
  const out = new Set<string>();
  for await (const page of pages) {
    for (const x of [...(page.Users ?? []), ...(page.Groups ?? [])])
      out.add(((x as { UserId?: string }).UserId ?? (x as { GroupId?: string }).GroupId) as string);
    if (out.size >= limit) return { ids: out, truncated: true };
  }
  return { ids: out, truncated: false };
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** idc.verify-region: pass/fail matrix for a Region, read through that Region's own endpoints. */
export const createVerifyRegion = (
  sso: (r: string) => SSOAdminClient,
  ids_: (r: string) => IdentitystoreClient,
  kms: (r: string) => KMSClient,
) =>
  defineStep({
    kind: 'idc.verify-region',
    description:
      'Check the Region on its own endpoints: DescribeRegion, the instance, Identity Store users and groups against the primary, the key replica and its policy',
    mutates: false,
    input: z.object({
      instanceArn: InstanceArn,
      primaryRegion: AwsRegion,
      region: AwsRegion,
      identityStoreId: z.string(),
      keyArn: z.string().nullish(),
      sampleLimit: z.number().int().positive().default(20_000),
    }),
    async run(input) {
      const r = input.region;
      const checks: Check[] = [];
      const attempt = async (name: string, fn: () => Promise<Omit<Check, 'check'>>) => {
        try {
          checks.push({ check: name, ...(await fn()) });
        } catch (err) {
          const e = mapAwsError(name, err);
          if (e instanceof RetryableStepError) throw e;
          checks.push({ check: name, ok: false, detail: e.message });
        }
      };
      await attempt(`DescribeRegion in ${r}`, async () => {
        const d = await sso(r).send(
          new SSOAdmin.DescribeRegionCommand({ InstanceArn: input.instanceArn, RegionName: r }),
        );
        return {
          ok: d.Status === 'ACTIVE' && d.IsPrimaryRegion === false,
          detail: `${d.Status}${d.IsPrimaryRegion ? ' (primary!)' : ''}`,
        };
      });
      await attempt(`Instance readable in ${r}`, async () => {
        const d = await describeInstance(sso, r, input.instanceArn);
        const enc = d.EncryptionConfigurationDetails;
        return {
          ok: d.Status === 'ACTIVE' && enc?.EncryptionStatus === 'ENABLED' && enc.KeyType === 'CUSTOMER_MANAGED_KEY',
          detail: `${d.Status}, encryption ${enc?.KeyType} ${enc?.EncryptionStatus}`,
        };
      });
      for (const kind of ['users', 'groups'] as const) {
        await attempt(`Identity Store ${kind} match`, async () => {
          const list = (region: string) =>
            kind === 'users'
              ? IdentityStore.paginateListUsers(
                  { client: ids_(region), pageSize: 100 },
                  { IdentityStoreId: input.identityStoreId },
                )
              : IdentityStore.paginateListGroups(
                  { client: ids_(region), pageSize: 100 },
                  { IdentityStoreId: input.identityStoreId },
                );
          const [a, b] = await Promise.all([
            ids(list(input.primaryRegion), input.sampleLimit),
            ids(list(r), input.sampleLimit),
          ]);
          const missing = [...a.ids].filter((x) => !b.ids.has(x));
          const sampled = a.truncated || b.truncated ? ` (first ${input.sampleLimit} compared)` : '';
          return {
            ok: missing.length === 0 && a.ids.size === b.ids.size,
            detail: `${a.ids.size} in ${input.primaryRegion}, ${b.ids.size} in ${r}${missing.length ? `; missing in ${r}: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}` : ''}${sampled}`,
          };
        });
      }
      if (input.keyArn) {
        const keyId = input.keyArn.split('/').pop() as string;
        await attempt(`Key replica in ${r}`, async () => {
          const m = (await kms(r).send(new KMS.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
          return {
            ok: m?.KeyState === 'Enabled' && m.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA',
            detail: `${m?.KeyState} ${m?.MultiRegionConfiguration?.MultiRegionKeyType}`,
          };
        });
        await attempt('Key policy parity', async () => {
          const [p, q] = await Promise.all([
            aws('kms:GetKeyPolicy', () =>
              kms(input.primaryRegion).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
            ),
            aws('kms:GetKeyPolicy', () =>
              kms(r).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
            ),
          ]);
          const same = samePolicy(p.Policy, q.Policy);
          return {
            ok: same,
            detail: same
              ? 'replica policy equals the primary policy'
              : `the replica policy in ${r} differs from the primary's (KMS does not synchronise policies)`,
          };
        });
      }
      const passed = checks.every((c) => c.ok);
      const details = checks.map((c) => `${c.ok ? '✅' : '❌'} ${c.check}: ${c.detail}`);
      if (!passed) {
        // Replication is eventually consistent: retry (with backoff) before calling it a failure.
        throw new RetryableStepError(
          `Verification of ${r} failed: ${checks
            .filter((c) => !c.ok)
            .map((c) => `${c.check} (${c.detail})`)
            .join('; ')}`,
          'verify_failed',
          30_000,
        );
      }
      return {
        output: { passed, checks },
        summary: `${r} verified: ${checks.length} of ${checks.length} checks passed`,
        details,
      };
    },
  });
