import { SSOAdmin } from '../../aws/sdk';
import type { DescribeInstanceCommandOutput, RegionMetadata, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { NonRetryableStepError } from '../../engine';
import { aws, mapAwsError } from './aws-errors';
import { AwsRegion, InstanceArn } from './schemas';

export type Sso = (region: string) => SSOAdminClient;

export async function describeInstance(
  sso: Sso,
  region: string,
  instanceArn: string,
): Promise<DescribeInstanceCommandOutput> {
  return aws('sso:DescribeInstance', () =>
    sso(region).send(new SSOAdmin.DescribeInstanceCommand({ InstanceArn: instanceArn })),
  );
}

export async function listRegions(sso: Sso, region: string, instanceArn: string): Promise<RegionMetadata[]> {
  const out: RegionMetadata[] = [];
  try {
    for await (const page of SSOAdmin.paginateListRegions({ client: sso(region) }, { InstanceArn: instanceArn }))
      out.push(...(page.Regions ?? []));
  } catch (err) {
    throw mapAwsError('sso:ListRegions', err);
  }
  return out;
}

/** Finds the instance: the configured ARN, or the only instance ListInstances shows in the home Region. */
export async function findInstance(
  sso: Sso,
  homeRegion: string,
  instanceArn?: string,
): Promise<DescribeInstanceCommandOutput> {
  if (instanceArn) return describeInstance(sso, homeRegion, instanceArn);
  const list = await aws('sso:ListInstances', () => sso(homeRegion).send(new SSOAdmin.ListInstancesCommand({})));
  const instances = list.Instances ?? [];
  if (!instances.length)
    throw new NonRetryableStepError(
      `No IAM Identity Center instance answers in ${homeRegion}; set IDC_HOME_REGION to the instance's primary Region`,
      'no_instance',
    );
  if (instances.length > 1)
    throw new NonRetryableStepError(
      `${instances.length} instances answer in ${homeRegion}; set IDC_INSTANCE_ARN to the organization instance`,
      'many_instances',
    );
  return describeInstance(sso, homeRegion, instances[0]?.InstanceArn as string);
}

export const Target = z.object({ instanceArn: InstanceArn, primaryRegion: AwsRegion, region: AwsRegion });
