import type { AwsClients } from '../aws/clients';
import { createRegistry, type StepKind, type StepRegistry } from '../engine';
import { collectAwsRequests } from '../aws/request-log';
import { createPreflight } from './idc-preflight';
import { createAddRegion, createEncryptionStatus, createInstanceInfo, createRegionStatus, createRemoveRegion, createSetEncryption } from './idc-steps';
import { createAccessUrls, createVerifyRegion } from './idc-verify';
import { createEnsureKey, createKeyState, createReplicateKey, createScheduleReplicaDeletion } from './kms-steps';

/** The per-Region client factories steps need (src/aws builds them). */
export type StepClients = Omit<AwsClients, 'destroy'>;

/** Records the AWS request ids a step made with its audit event (and with its error). */
const audited = (k: StepKind<any, any>): StepKind<any, any> => ({ // eslint-disable-line @typescript-eslint/no-explicit-any -- wraps any kind
  ...k,
  async run(input, ctx) {
    const { value, requests } = await collectAwsRequests(() => k.run(input, ctx));
    return { ...value, audit: { ...value.audit, awsRequests: requests } };
  },
});

/** Every step kind of the bot, by name. */
export function createStepRegistry(c: StepClients): StepRegistry {
  return createRegistry([
    createPreflight(c),
    createEnsureKey(c.kms),
    createReplicateKey(c.kms),
    createKeyState(c.kms),
    createScheduleReplicaDeletion(c.kms),
    createSetEncryption(c.ssoAdmin),
    createEncryptionStatus(c.ssoAdmin),
    createAddRegion(c.ssoAdmin),
    createRegionStatus(c.ssoAdmin),
    createRemoveRegion(c.ssoAdmin),
    createAccessUrls(),
    createInstanceInfo(c.ssoAdmin),
    createVerifyRegion(c.ssoAdmin, c.identityStore, c.kms),
  ].map(audited));
}

export { findInstance, listRegions, describeInstance } from './idc-steps';
export { identityCenterKeyPolicy, policyGrantsIdc, samePolicy } from './key-policy';
export { KNOWN_REGIONS } from './schemas';
