import { z } from 'zod';
import { REGION_PATTERN } from '../engine';

export const AwsRegion = z.string().regex(REGION_PATTERN, 'must be a Region name such as eu-central-1');
export const InstanceArn = z.string().regex(/^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'must be an Identity Center instance ARN');
export const KmsKeyArn = z.string().regex(/^arn:aws(-[a-z]{1,5}){0,3}:kms:[a-z0-9-]+:\d{12}:key\/.+$/, 'must be a KMS key ARN (not an alias)');
export const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID');

/** The partition of a Region (aws, aws-cn, aws-us-gov). */
export const partitionOf = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');
/** The Region inside a KMS key ARN. */
export const regionOfArn = (arn: string) => arn.split(':')[3] as string;
/** The `ssoins-…` part of an instance ARN. */
export const instanceIdOf = (arn: string) => arn.split('/').pop() as string;
/** The Region that serves a partition's global APIs (Organizations, Account). */
export const globalRegionOf = (region: string) => ({ aws: 'us-east-1', 'aws-cn': 'cn-northwest-1', 'aws-us-gov': 'us-gov-west-1' })[partitionOf(region)];
