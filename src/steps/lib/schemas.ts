import { z } from 'zod';
import { REGION_PATTERN } from '../../engine';

export const AwsRegion = z.string().regex(REGION_PATTERN, 'must be a Region name such as eu-central-1');
export const InstanceArn = z
  .string()
  .regex(
    /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
    'must be an Identity Center instance ARN',
  );
export const KmsKeyArn = z
  .string()
  .regex(/^arn:aws(-[a-z]{1,5}){0,3}:kms:[a-z0-9-]+:\d{12}:key\/.+$/, 'must be a KMS key ARN (not an alias)');
export const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID');

/** The partition of a Region (aws, aws-cn, aws-us-gov). */
export const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
/** The Region inside a KMS key ARN. */
export const regionOfArn = (arn: string) => arn.split(':')[3] as string;
/** The `ssoins-…` part of an instance ARN. */
export const instanceIdOf = (arn: string) => arn.split('/').pop() as string;
/** The Region that serves a partition's global APIs (Organizations, Account). */
export const globalRegionOf = (region: string) =>
  ({ aws: 'us-east-1', 'aws-cn': 'cn-northwest-1', 'aws-us-gov': 'us-gov-west-1' })[partitionOf(region)];

/** Every Region AWS has launched (November 2026), across the aws, aws-cn and aws-us-gov partitions. */
export const KNOWN_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
  'mx-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-west-1',
  'us-gov-east-1',
];
