import { Account, Organizations, STS, ServiceQuotas } from '../aws/sdk';
import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import type { StepClients } from './lib/clients';
import { aws, isAwsError, mapAwsError } from './lib/aws-errors';
import { findInstance } from './lib/identity-center';
import type { KeyPolicyOptions } from './lib/key-policy';
import { keyBehindAlias, keyFacts } from './lib/preflight-keys';
import { AwsRegion, globalRegionOf, partitionOf } from './lib/schemas';

/** Service Quotas code of "Total number of regions for IAM Identity Center" (default 3, with the primary). */
export const REGION_QUOTA_CODE = 'L-D519A297';
const DEFAULT_REGION_QUOTA = 3;

/** The preflight's result: what the workflow will change, skip, and what a person must confirm. */
export interface Plan {
  operation: 'add' | 'remove';
  instanceArn: string;
  primaryRegion: string;
  region: string;
  changes: string[];
  skips: string[];
  confirmations: string[];
}

const CONFIRM_ADD = [
  'The identity source is an external IdP or the Identity Center directory, not Active Directory (no API tells)',
  'Your IdP supports several ACS URLs (Okta, Entra ID, PingFederate, JumpCloud do; Google Workspace does not)',
  'Every AWS managed application in use supports a customer managed KMS key',
];

/** The organization's ID, or a problem when the instance is not the organization instance. */
async function organizationOf(
  c: StepClients,
  primary: string,
  ownerAccountId: string | undefined,
  problems: string[],
): Promise<string | undefined> {
  const org = await c
    .organizations(globalRegionOf(primary))
    .send(new Organizations.DescribeOrganizationCommand({}))
    .then((r) => r.Organization)
    .catch((err: unknown) => {
      if (isAwsError(err, 'AWSOrganizationsNotInUseException')) return undefined;
      throw mapAwsError('organizations:DescribeOrganization', err);
    });
  if (!org)
    problems.push(
      'This account is not in AWS Organizations: only an organization instance of Identity Center can be replicated',
    );
  else if (org.MasterAccountId !== ownerAccountId) {
    problems.push(
      `The instance is owned by account ${ownerAccountId}, not by the organization's management account ${org.MasterAccountId}: it is an account instance, and only organization instances can be replicated`,
    );
  }
  return org?.Id;
}

async function regionQuota(c: StepClients, primary: string): Promise<number> {
  return c
    .serviceQuotas(primary)
    .send(new ServiceQuotas.GetServiceQuotaCommand({ ServiceCode: 'sso', QuotaCode: REGION_QUOTA_CODE }))
    .then((q) => q.Quota?.Value ?? DEFAULT_REGION_QUOTA)
    .catch((err: unknown) => {
      if (isAwsError(err, 'NoSuchResourceException')) return DEFAULT_REGION_QUOTA; // never adjusted: the default applies
      throw mapAwsError('servicequotas:GetServiceQuota', err);
    });
}

/** Is the Region enabled for the account (opt-in Regions must be enabled first)? */
async function optStatus(c: StepClients, region: string): Promise<string | undefined> {
  const r = await aws('account:GetRegionOptStatus', () =>
    c.account(globalRegionOf(region)).send(new Account.GetRegionOptStatusCommand({ RegionName: region })),
  );
  return r.RegionOptStatus;
}

/** idc.preflight: read-only checks, and the plan that approvers approve. */
export const createPreflight = (c: StepClients, keyPolicy: KeyPolicyOptions = {}) =>
  defineStep({
    kind: 'idc.preflight',
    description: 'Read-only: check every prerequisite and build the plan (changes, skips, confirmations)',
    mutates: false,
    input: z.object({
      operation: z.enum(['add', 'remove']),
      homeRegion: AwsRegion,
      instanceArn: z.string().optional(),
      region: AwsRegion,
      keyAlias: z.string(),
      /** IDC_ALLOWED_REGIONS: a list, or the comma-separated text a workflow input carries. */
      allowedRegions: z.preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean)
            : (v ?? undefined),
        z.array(z.string()).optional(),
      ),
    }),
    async run(input) {
      const inst = await findInstance(c.ssoAdmin, input.homeRegion, input.instanceArn);
      const primary = inst.PrimaryRegion ?? input.homeRegion;
      const regions = inst.Regions ?? [];
      const enc = inst.EncryptionConfigurationDetails;
      const problems: string[] = [];
      const changes: string[] = [];
      const skips: string[] = [];
      const target = input.region;
      const present = regions.find((r) => r.RegionName === target);
      const busy = regions.find((r) => r.Status !== 'ACTIVE' && r.RegionName !== target);

      if (inst.Status !== 'ACTIVE')
        problems.push(`The instance is ${inst.Status}, not ACTIVE: wait until it is ACTIVE`);
      // The key must live in the instance's own account: a bot running in another account (a
      // delegated administrator, say) would create it in the wrong one.
      const caller = await aws('sts:GetCallerIdentity', () =>
        c.sts(primary).send(new STS.GetCallerIdentityCommand({})),
      );
      if (inst.OwnerAccountId && caller.Account !== inst.OwnerAccountId)
        problems.push(
          `The bot calls AWS as account ${caller.Account}, but the instance belongs to account ${inst.OwnerAccountId}, where Identity Center's key must be: run the bot with a role in ${inst.OwnerAccountId} (IDC_ROLE_ARN; README "AWS permissions")`,
        );
      const orgId = await organizationOf(c, primary, inst.OwnerAccountId, problems);
      const keyArgs = { primary, target, alias: input.keyAlias, accountId: inst.OwnerAccountId, orgId, keyPolicy };
      if (partitionOf(target) !== partitionOf(primary))
        problems.push(
          `${target} is in partition ${partitionOf(target)} but the instance is in ${partitionOf(primary)}: multi-Region keys cannot cross partitions`,
        );
      if (input.allowedRegions?.length && !input.allowedRegions.includes(target))
        problems.push(
          `${target} is not in IDC_ALLOWED_REGIONS (${input.allowedRegions.join(', ')}): add it there if it is approved`,
        );
      if (busy)
        problems.push(
          `${busy.RegionName} is ${busy.Status}: AWS allows one add/remove at a time; wait for it to finish`,
        );
      if (enc?.EncryptionStatus === 'UPDATING')
        problems.push('An encryption key change is in progress (UPDATING): wait until it is ENABLED');

      if (input.operation === 'remove') {
        if (target === primary)
          problems.push(`${target} is the primary Region: it can only be removed by deleting the instance`);
        else if (!present)
          problems.push(
            `${target} is not a Region of this instance (it has ${regions.map((r) => r.RegionName).join(', ')})`,
          );
        else if (present.Status === 'REMOVING') skips.push(`${target} is already being removed`);
        else changes.push(`Remove Region ${target} (RemoveRegion, sent to ${primary}) and wait until it is gone`);
        if (problems.length)
          throw new NonRetryableStepError(`Preflight failed:\n• ${problems.join('\n• ')}`, 'preflight_failed');
        const plan: Plan = {
          operation: 'remove',
          instanceArn: inst.InstanceArn as string,
          primaryRegion: primary,
          region: target,
          changes,
          skips,
          confirmations: [
            `People who sign in through ${target}'s portal or ACS URL will lose that path; applications connected to ${target} may lose access`,
          ],
        };
        return {
          output: {
            plan,
            instanceArn: plan.instanceArn,
            primaryRegion: primary,
            identityStoreId: inst.IdentityStoreId,
            keyArn: enc?.KmsKeyArn ?? null,
          },
          summary: `Plan: ${changes.length} change(s), ${skips.length} already done`,
        };
      }

      if (present) {
        if (present.Status === 'ACTIVE') skips.push(`${target} is already ACTIVE on the instance`);
        else skips.push(`${target} is already ${present.Status}`);
      } else {
        const [quota, opt] = await Promise.all([
          regionQuota(c, primary),
          partitionOf(target) === partitionOf(primary) ? optStatus(c, target) : undefined,
        ]);
        if (regions.length >= quota)
          problems.push(
            `The instance already has ${regions.length} Regions, the quota (${quota}, including the primary): request an increase of quota ${REGION_QUOTA_CODE} in Service Quotas, or remove a Region`,
          );
        if (opt && opt !== 'ENABLED' && opt !== 'ENABLED_BY_DEFAULT')
          problems.push(
            `${target} is ${opt} for this account: enable it (Account settings, or aws account enable-region --region-name ${target}) and wait until it is ENABLED`,
          );
      }
      let keyArn: string | null = null;
      if (enc?.KeyType === 'CUSTOMER_MANAGED_KEY' && enc.KmsKeyArn) {
        const k = await keyFacts(c.kms, primary, target, enc.KmsKeyArn);
        if (!k.enabled)
          problems.push(`Identity Center's key ${k.keyId} is not enabled: enable it before anything else`);
        if (k.multiRegion) {
          keyArn = enc.KmsKeyArn;
          skips.push(`Identity Center already uses multi-Region key ${k.keyId}: reused`);
          if (!k.grantsIdc)
            problems.push(
              `The policy of key ${k.keyId} does not grant Identity Center what it needs: apply the policy in docs/key-policy.md`,
            );
          if (k.replica && k.replicaPolicySame)
            skips.push(`A replica of ${k.keyId} exists in ${target} with the same policy`);
          else if (k.replica) changes.push(`Reset the drifted key policy of the replica in ${target} to the primary's`);
          else changes.push(`Replicate key ${k.keyId} to ${target} with the same key policy`);
          skips.push('Identity Center encryption already uses this key');
        } else {
          const why = `(single-Region key ${k.keyId} cannot be converted)`;
          changes.push(...(await keyBehindAlias(c.kms, { ...keyArgs, why }, problems)));
        }
      } else {
        const why = '(the instance uses an AWS owned key)';
        changes.push(...(await keyBehindAlias(c.kms, { ...keyArgs, why }, problems)));
      }
      if (!present) changes.push(`Add Region ${target} (AddRegion, sent to ${primary}) and wait until it is ACTIVE`);
      if (problems.length)
        throw new NonRetryableStepError(`Preflight failed:\n• ${problems.join('\n• ')}`, 'preflight_failed');
      const plan: Plan = {
        operation: 'add',
        instanceArn: inst.InstanceArn as string,
        primaryRegion: primary,
        region: target,
        changes,
        skips,
        confirmations: CONFIRM_ADD,
      };
      return {
        output: {
          plan,
          instanceArn: plan.instanceArn,
          primaryRegion: primary,
          identityStoreId: inst.IdentityStoreId,
          accountId: inst.OwnerAccountId,
          orgId: orgId ?? null,
          keyArn,
          nothingToDo: changes.length === 0,
          inPlace: skips.join('; '),
        },
        summary: `Plan: ${changes.length} change(s), ${skips.length} already done, ${CONFIRM_ADD.length} to confirm`,
      };
    },
  });
