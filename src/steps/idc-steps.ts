import {
  AddRegionCommand,
  DescribeInstanceCommand,
  DescribeRegionCommand,
  ListInstancesCommand,
  paginateListRegions,
  RemoveRegionCommand,
  UpdateInstanceCommand,
  type DescribeInstanceCommandOutput,
  type RegionMetadata,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { defineStep, NonRetryableStepError, RetryableStepError } from '../engine';
import { aws, mapAwsError } from './aws-errors';
import { AwsRegion, InstanceArn, KmsKeyArn } from './schemas';

type Sso = (region: string) => SSOAdminClient;

export async function describeInstance(sso: Sso, region: string, instanceArn: string): Promise<DescribeInstanceCommandOutput> {
  return aws('sso:DescribeInstance', () => sso(region).send(new DescribeInstanceCommand({ InstanceArn: instanceArn })));
}

export async function listRegions(sso: Sso, region: string, instanceArn: string): Promise<RegionMetadata[]> {
  const out: RegionMetadata[] = [];
  try {
    for await (const page of paginateListRegions({ client: sso(region) }, { InstanceArn: instanceArn })) out.push(...(page.Regions ?? []));
  } catch (err) {
    throw mapAwsError('sso:ListRegions', err);
  }
  return out;
}

/** Finds the instance: the configured ARN, or the only instance ListInstances shows in the home Region. */
export async function findInstance(sso: Sso, homeRegion: string, instanceArn?: string): Promise<DescribeInstanceCommandOutput> {
  if (instanceArn) return describeInstance(sso, homeRegion, instanceArn);
  const list = await aws('sso:ListInstances', () => sso(homeRegion).send(new ListInstancesCommand({})));
  const instances = list.Instances ?? [];
  if (!instances.length) throw new NonRetryableStepError(`No IAM Identity Center instance answers in ${homeRegion}; set IDC_HOME_REGION to the instance's primary Region`, 'no_instance');
  if (instances.length > 1) throw new NonRetryableStepError(`${instances.length} instances answer in ${homeRegion}; set IDC_INSTANCE_ARN to the organization instance`, 'many_instances');
  return describeInstance(sso, homeRegion, instances[0]?.InstanceArn as string);
}

const Target = z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, region: AwsRegion });

/** idc.set-encryption: switch Identity Center encryption to the customer managed key. */
export const createSetEncryption = (sso: Sso) =>
  defineStep({
    kind: 'idc.set-encryption',
    description: 'Switch Identity Center encryption at rest to the multi-Region customer managed key (UpdateInstance)',
    mutates: true,
    input: z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, keyArn: KmsKeyArn }),
    async run(input, ctx) {
      const d = await describeInstance(sso, input.primaryRegion, input.instanceArn);
      const enc = d.EncryptionConfigurationDetails;
      if (enc?.KmsKeyArn === input.keyArn && enc.EncryptionStatus !== 'UPDATE_FAILED') {
        return { output: { keyArn: input.keyArn, changed: false }, summary: `Identity Center already uses ${input.keyArn.split('/').pop()} (${enc.EncryptionStatus})` };
      }
      if (enc?.EncryptionStatus === 'UPDATING') {
        // Resumed after a crash right after our UpdateInstance: the update under way is ours. The
        // next step waits for it and fails if Identity Center ends up on another key.
        if (ctx.attempt > 1) return { output: { keyArn: input.keyArn, changed: true }, summary: `An encryption update is under way (resumed); the next step checks it ends on ${input.keyArn.split('/').pop()}` };
        throw new RetryableStepError('Another encryption update is in progress; waiting for it to finish', 'encryption_updating', 30_000);
      }
      await aws('sso:UpdateInstance', () =>
        sso(input.primaryRegion).send(new UpdateInstanceCommand({ InstanceArn: input.instanceArn, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: input.keyArn } })),
      );
      return { output: { keyArn: input.keyArn, changed: true }, summary: `Asked Identity Center to switch to key ${input.keyArn.split('/').pop()}` };
    },
  });

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
        throw new NonRetryableStepError(`Identity Center could not switch keys: ${enc.EncryptionStatusReason ?? 'no reason given'}. The previous key stays in use; fix the key (policy, state) and retry`, 'UPDATE_FAILED');
      }
      const status = enc?.EncryptionStatus === 'ENABLED' && input.keyArn && enc.KmsKeyArn !== input.keyArn ? 'UPDATING' : (enc?.EncryptionStatus ?? 'UNKNOWN');
      return { output: { status, keyArn: enc?.KmsKeyArn ?? null }, summary: `Encryption is ${status}` };
    },
  });

/** idc.add-region: AddRegion in the primary Region; a Region already there counts as done. */
export const createAddRegion = (sso: Sso) =>
  defineStep({
    kind: 'idc.add-region',
    description: 'Add the Region to the instance (AddRegion, sent to the primary Region)',
    mutates: true,
    input: Target,
    async run(input) {
      const existing = (await listRegions(sso, input.primaryRegion, input.instanceArn)).find((r) => r.RegionName === input.region);
      if (existing) return { output: { status: existing.Status as string, alreadyPresent: true }, summary: `${input.region} is already on the instance (${existing.Status})` };
      const out = await aws('sso:AddRegion', () => sso(input.primaryRegion).send(new AddRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region })));
      return { output: { status: out.Status ?? 'ADDING', alreadyPresent: false }, summary: `AddRegion accepted: ${input.region} is ${out.Status ?? 'ADDING'}` };
    },
  });

/** idc.region-status (check): the Region's status, or ABSENT once it is gone. */
export const createRegionStatus = (sso: Sso) =>
  defineStep({
    kind: 'idc.region-status',
    description: 'Read a Region status with DescribeRegion (ACTIVE, ADDING, REMOVING, or ABSENT)',
    mutates: false,
    input: Target.extend({ expect: z.enum(['present', 'absent']) }),
    async run(input) {
      try {
        const r = await sso(input.primaryRegion).send(new DescribeRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region }));
        return { output: { status: r.Status as string }, summary: `${input.region} is ${r.Status}` };
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw mapAwsError('sso:DescribeRegion', err);
        if (input.expect === 'present') throw new NonRetryableStepError(`${input.region} disappeared from the instance while it was being added: the add failed. Check the AWS console and CloudTrail, then retry`, 'region_vanished');
        return { output: { status: 'ABSENT' }, summary: `${input.region} is gone` };
      }
    },
  });

/** idc.remove-region: RemoveRegion in the primary Region; never the primary itself. */
export const createRemoveRegion = (sso: Sso) =>
  defineStep({
    kind: 'idc.remove-region',
    description: 'Remove an additional Region from the instance (RemoveRegion, sent to the primary Region)',
    mutates: true,
    input: Target,
    async run(input) {
      if (input.region === input.primaryRegion) throw new NonRetryableStepError(`${input.region} is the primary Region; it can only be removed by deleting the instance`, 'primary_region');
      const regions = await listRegions(sso, input.primaryRegion, input.instanceArn);
      const r = regions.find((x) => x.RegionName === input.region);
      if (!r) return { output: { status: 'ABSENT' }, summary: `${input.region} is not on the instance; nothing to remove` };
      if (r.Status === 'REMOVING') return { output: { status: 'REMOVING' }, summary: `${input.region} is already being removed` };
      const busy = regions.find((x) => x.Status !== 'ACTIVE');
      if (busy) throw new RetryableStepError(`${busy.RegionName} is ${busy.Status}; AWS allows one add/remove at a time`, 'busy', 60_000);
      const out = await aws('sso:RemoveRegion', () => sso(input.primaryRegion).send(new RemoveRegionCommand({ InstanceArn: input.instanceArn, RegionName: input.region })));
      return { output: { status: out.Status ?? 'REMOVING' }, summary: `RemoveRegion accepted: ${input.region} is ${out.Status ?? 'REMOVING'}` };
    },
  });

/** idc.instance: the instance's identifiers, primary Region, Regions and key (read-only). */
export const createInstanceInfo = (sso: Sso) =>
  defineStep({
    kind: 'idc.instance',
    description: 'Find the instance and read its identifiers, Regions and encryption key',
    mutates: false,
    input: z.object({ homeRegion: AwsRegion, instanceArn: z.string().optional() }),
    async run(input) {
      const d = await findInstance(sso, input.homeRegion, input.instanceArn);
      const regions = (d.Regions ?? []).map((r) => ({ name: r.RegionName as string, status: r.Status as string, primary: Boolean(r.IsPrimaryRegion) }));
      return {
        output: { instanceArn: d.InstanceArn, identityStoreId: d.IdentityStoreId, primaryRegion: d.PrimaryRegion, accountId: d.OwnerAccountId, keyArn: d.EncryptionConfigurationDetails?.KmsKeyArn ?? null, regions },
        summary: `${d.InstanceArn} in ${d.PrimaryRegion}: ${regions.map((r) => `${r.name} ${r.status}`).join(', ')}`,
      };
    },
  });
