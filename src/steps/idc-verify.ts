import { DescribeKeyCommand, GetKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { paginateListGroups, paginateListUsers, type IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DescribeRegionCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { defineStep, RetryableStepError } from '../engine';
import { aws, mapAwsError } from './aws-errors';
import { describeInstance } from './idc-steps';
import { samePolicy } from './key-policy';
import { AwsRegion, InstanceArn, instanceIdOf } from './schemas';

/** idc.access-urls: the new Region's portal and ACS URLs, and the IdP instructions. */
export const createAccessUrls = () =>
  defineStep({
    kind: 'idc.access-urls',
    description: "Derive the Region's access portal and SAML ACS URLs and write the Okta / Entra ID instructions",
    mutates: false,
    input: z.object({ instanceArn: InstanceArn, region: AwsRegion, primaryRegion: AwsRegion, primaryAcsUrl: z.string().url().optional() }),
    async run(input) {
      const id = instanceIdOf(input.instanceArn);
      const tenant = input.primaryAcsUrl?.split('/acs/')[1] ?? '<TenantId from the console>';
      const r = input.region;
      const out = {
        portalUrl: `https://${id}.${r}.portal.amazonaws.com`,
        portalUrlDualStack: `https://${id}.portal.${r}.app.aws`,
        acsUrl: `https://${r}.signin.aws/platform/saml/acs/${tenant}`,
        acsUrlDualStack: `https://${r}.sso.signin.aws/platform/saml/acs/${tenant}`,
        tenantKnown: Boolean(input.primaryAcsUrl),
      };
      const verify = out.tenantKnown
        ? 'Check it against the console (Settings → Identity source → Actions → Manage authentication → View ACS URLs) before saving.'
        : 'Copy the exact ACS URL from the console: Settings → Identity source → Actions → Manage authentication → View ACS URLs (no API exposes it).';
      const instructions = [
        `*New Region ${r}*`,
        `• Access portal: ${out.portalUrl} (dual-stack: ${out.portalUrlDualStack})`,
        `• ACS URL: ${out.acsUrl} (dual-stack: ${out.acsUrlDualStack})`,
        verify,
        '',
        '*Okta* (AWS IAM Identity Center app): Applications → AWS IAM Identity Center → Sign On → Edit → Advanced Sign-on Settings → Other Requestable SSO URLs → Add another: the ACS URL above, next index. Keep the primary ACS URL in the main "ACS URL" field. Save.',
        '*Microsoft Entra ID*: Enterprise applications → AWS IAM Identity Center → Single sign-on → Basic SAML Configuration → Edit → Add reply URL: the ACS URL above. Keep the primary Region\'s URL as Default. Save.',
        `*Bookmark app (optional)*: an Okta Bookmark app or an Entra linked sign-on app pointing at ${out.portalUrl}, assigned to the same people, so they can sign in through ${r} if ${input.primaryRegion} is down.`,
        `*CLI*: a profile with sso_start_url = ${out.portalUrl} and sso_region = ${r}; each Region needs its own \`aws sso login\`.`,
      ].join('\n');
      return { output: { ...out, instructions }, summary: `Portal ${out.portalUrl}` };
    },
  });

async function ids(pages: AsyncIterable<{ Users?: { UserId?: string }[]; Groups?: { GroupId?: string }[] }>, limit: number): Promise<{ ids: Set<string>; truncated: boolean }> {
  const out = new Set<string>();
  for await (const page of pages) {
    for (const x of [...(page.Users ?? []), ...(page.Groups ?? [])]) out.add(((x as { UserId?: string }).UserId ?? (x as { GroupId?: string }).GroupId) as string);
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
export const createVerifyRegion = (sso: (r: string) => SSOAdminClient, ids_: (r: string) => IdentitystoreClient, kms: (r: string) => KMSClient) =>
  defineStep({
    kind: 'idc.verify-region',
    description: "Check the Region on its own endpoints: DescribeRegion, the instance, Identity Store users and groups against the primary, the key replica and its policy",
    mutates: false,
    input: z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, region: AwsRegion, identityStoreId: z.string(), keyArn: z.string().nullish(), sampleLimit: z.number().int().positive().default(20_000) }),
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
        const d = await sso(r).send(new DescribeRegionCommand({ InstanceArn: input.instanceArn, RegionName: r }));
        return { ok: d.Status === 'ACTIVE' && d.IsPrimaryRegion === false, detail: `${d.Status}${d.IsPrimaryRegion ? ' (primary!)' : ''}` };
      });
      await attempt(`Instance readable in ${r}`, async () => {
        const d = await describeInstance(sso, r, input.instanceArn);
        const enc = d.EncryptionConfigurationDetails;
        return { ok: d.Status === 'ACTIVE' && enc?.EncryptionStatus === 'ENABLED' && enc.KeyType === 'CUSTOMER_MANAGED_KEY', detail: `${d.Status}, encryption ${enc?.KeyType} ${enc?.EncryptionStatus}` };
      });
      for (const kind of ['users', 'groups'] as const) {
        await attempt(`Identity Store ${kind} match`, async () => {
          const list = (region: string) =>
            kind === 'users'
              ? paginateListUsers({ client: ids_(region), pageSize: 100 }, { IdentityStoreId: input.identityStoreId })
              : paginateListGroups({ client: ids_(region), pageSize: 100 }, { IdentityStoreId: input.identityStoreId });
          const [a, b] = await Promise.all([ids(list(input.primaryRegion), input.sampleLimit), ids(list(r), input.sampleLimit)]);
          const missing = [...a.ids].filter((x) => !b.ids.has(x));
          const sampled = a.truncated || b.truncated ? ` (first ${input.sampleLimit} compared)` : '';
          return { ok: missing.length === 0 && a.ids.size === b.ids.size, detail: `${a.ids.size} in ${input.primaryRegion}, ${b.ids.size} in ${r}${missing.length ? `; missing in ${r}: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}` : ''}${sampled}` };
        });
      }
      if (input.keyArn) {
        const keyId = input.keyArn.split('/').pop() as string;
        await attempt(`Key replica in ${r}`, async () => {
          const m = (await kms(r).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
          return { ok: m?.KeyState === 'Enabled' && m.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA', detail: `${m?.KeyState} ${m?.MultiRegionConfiguration?.MultiRegionKeyType}` };
        });
        await attempt('Key policy parity', async () => {
          const [p, q] = await Promise.all([
            aws('kms:GetKeyPolicy', () => kms(input.primaryRegion).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))),
            aws('kms:GetKeyPolicy', () => kms(r).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))),
          ]);
          const same = samePolicy(p.Policy, q.Policy);
          return { ok: same, detail: same ? 'replica policy equals the primary policy' : `the replica policy in ${r} differs from the primary's (KMS does not synchronise policies)` };
        });
      }
      const passed = checks.every((c) => c.ok);
      const details = checks.map((c) => `${c.ok ? '✅' : '❌'} ${c.check}: ${c.detail}`);
      if (!passed) {
        // Replication is eventually consistent: retry (with backoff) before calling it a failure.
        throw new RetryableStepError(`Verification of ${r} failed: ${checks.filter((c) => !c.ok).map((c) => `${c.check} (${c.detail})`).join('; ')}`, 'verify_failed', 30_000);
      }
      return { output: { passed, checks }, summary: `${r} verified: ${checks.length} of ${checks.length} checks passed`, details };
    },
  });
