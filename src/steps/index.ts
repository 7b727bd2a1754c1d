import { recordingClients, type AwsRequestRecord } from '../aws/request-log';
import { createRegistry, NonRetryableStepError, type AnyStepKind, type StepRegistry } from '../engine';
import { createAccessUrls } from './idc-access-urls';
import { createAddRegion } from './idc-add-region';
import { createEncryptionStatus } from './idc-encryption-status';
import { createInstanceInfo } from './idc-instance';
import { createPreflight } from './idc-preflight';
import { createRegionStatus } from './idc-region-status';
import { createRemoveRegion } from './idc-remove-region';
import { createSetEncryption } from './idc-set-encryption';
import { createVerifyRegion } from './idc-verify-region';
import { createEnsureKey } from './kms-ensure-multi-region-key';
import { createKeyState } from './kms-key-state';
import { createReplicateKey } from './kms-replicate-key';
import { createScheduleReplicaDeletion } from './kms-schedule-replica-deletion';
import type { StepClients } from './lib/clients';
import type { KeyPolicyOptions } from './lib/key-policy';
import type { IdentityProvider } from '../idp/port';
import { createGivenAcsUrl } from './idp-given-acs-url';
import { createIdpPlan } from './idp-plan-acs-urls';
import { createIdpWrite } from './idp-write-acs-urls';
import { createRegionReady } from './idc-region-ready';
import { createAnnounce } from './notify-announce';

/**
 * Every step kind of the bot, by name (one file per kind, named after it). `keyPolicy`: what the
 * configuration adds to the key policy the bot writes and accepts; `idp`: the IdP adapter, if any
 * (IDC_IDP), for the IdP steps. Each run of a step builds its kind on clients that record the
 * AWS requests it makes, which its audit event (or its error) then carries.
 */
export function createStepRegistry(
  c: StepClients,
  { keyPolicy = {}, idp }: { keyPolicy?: KeyPolicyOptions; idp?: IdentityProvider } = {},
): StepRegistry {
  const kinds: ((c: StepClients) => AnyStepKind)[] = [
    (c) => createPreflight(c, keyPolicy),
    (c) => createEnsureKey(c.kms, keyPolicy),
    () => createGivenAcsUrl(),
    () => createIdpPlan(idp),
    () => createIdpWrite(idp),
    (c) => createRegionReady(c),
    () => createAnnounce(),
    (c) => createReplicateKey(c.kms),
    (c) => createKeyState(c.kms),
    (c) => createScheduleReplicaDeletion(c.kms),
    (c) => createSetEncryption(c.ssoAdmin),
    (c) => createEncryptionStatus(c.ssoAdmin),
    (c) => createAddRegion(c.ssoAdmin),
    (c) => createRegionStatus(c.ssoAdmin),
    (c) => createRemoveRegion(c.ssoAdmin),
    () => createAccessUrls(),
    (c) => createInstanceInfo(c.ssoAdmin),
    (c) => createVerifyRegion(c.ssoAdmin, c.identityStore, c.kms),
  ];
  return createRegistry(
    kinds.map((make) => ({
      ...make(c),
      async run(input, ctx) {
        const awsRequests: AwsRequestRecord[] = [];
        try {
          const value = await make(recordingClients(c, awsRequests, ctx.runId)).run(input, ctx);
          return { ...value, audit: { ...value.audit, awsRequests } };
        } catch (err) {
          if (err && typeof err === 'object') Object.assign(err, { audit: { awsRequests } });
          throw err;
        }
      },
    })),
  );
}

export type { StepClients } from './lib/clients';
export { findInstance, listRegions, describeInstance } from './lib/identity-center';
export { identityCenterKeyPolicy, policyGrantsIdc, samePolicy, type KeyPolicyOptions } from './lib/key-policy';
export { KNOWN_REGIONS } from './lib/schemas';

/** A step registry with its own AWS clients (a role session), and how to close them. */
export interface SessionRegistry {
  registry: StepRegistry;
  destroy(): void;
}

/**
 * The step kinds of a fleet: each kind runs in the run's instance's registry (a run of an instance
 * no longer configured stops, never on another account). With `personal`, a run's calls go out in
 * a role session of its own instance named after the person who asked for it (CloudTrail shows who),
 * built on first use and kept for the `keep` people who ran something last.
 */
export function createFleetRegistry(
  byInstance: ReadonlyMap<string, StepRegistry>,
  personal?: (instance: string, person: string) => SessionRegistry | undefined,
  keep = 32,
): { registry: StepRegistry; destroy(): void } {
  const sessions = new Map<string, SessionRegistry>(); // oldest use first
  const destroy = () => {
    for (const s of sessions.values()) s.destroy();
    sessions.clear();
  };
  const first = [...byInstance.values()][0] as StepRegistry;
  if (byInstance.size === 1 && !personal) return { registry: first, destroy };
  const sessionOf = (instance: string, person: string): StepRegistry | undefined => {
    const key = `${instance}\n${person}`;
    const s = sessions.get(key) ?? personal?.(instance, person);
    if (!s) return undefined;
    sessions.delete(key);
    sessions.set(key, s);
    if (sessions.size > keep) {
      const [oldestKey, oldest] = sessions.entries().next().value as [string, SessionRegistry];
      sessions.delete(oldestKey);
      oldest.destroy();
    }
    return s.registry;
  };
  const registry = createRegistry(
    [...first.values()].map((k) => ({
      ...k,
      run(input, ctx) {
        const instance = ctx.scope ?? 'default';
        const base = byInstance.get(instance);
        if (!base)
          throw new NonRetryableStepError(
            `This run belongs to the instance "${instance}", which is not in the configuration (instances: ${[...byInstance.keys()].join(', ')}): put it back, or cancel the run`,
            'unknown_instance',
          );
        const own = ctx.requester ? sessionOf(instance, ctx.requester) : undefined;
        return ((own ?? base).get(k.kind) as AnyStepKind).run(input, ctx);
      },
    })),
  );
  return { registry, destroy };
}
