import { IdentityStore, KMS, SSOAdmin } from '../aws/sdk';
import type { StepClients } from '../steps';
import { aws } from '../steps/lib/aws-errors';
import { findInstance, listRegions } from '../steps/lib/identity-center';
import { grantsBeyondIdc, policyGrantsIdc, samePolicy, type KeyPolicyOptions } from '../steps/lib/key-policy';

/** What the watcher sees of replication: each Region, the encryption, the key and its replicas. */
export interface HealthSnapshot {
  checkedAt: number;
  instanceArn: string;
  primaryRegion: string;
  regions: {
    name: string;
    status: string;
    addedAt?: number;
    primary: boolean;
    answers?: boolean;
    identityStore?: boolean;
    error?: string;
  }[];
  encryption: { keyType?: string; status?: string; reason?: string; keyArn?: string };
  keys: {
    region: string;
    state: string;
    primary: boolean;
    grantsIdc: boolean;
    /** What the key policy grants beyond what Identity Center needs (principal → action). */
    extraGrants?: string[];
    sameAsPrimary: boolean;
    deletionAt?: number;
    error?: string;
  }[];
  /** AWS requests this read made. */
  calls: number;
}

const message = (err: unknown) => ((err as Error).message ?? String(err)).split('. The bot')[0] as string;

/**
 * Reads the replication picture, read-only. Each additional Region is asked through its own
 * endpoints (DescribeRegion, one Identity Store page), so a Region that stopped answering shows up.
 * Budget: 3 calls for the instance, 2 for the primary key, and 4 per additional Region.
 */
export async function readHealth(
  c: StepClients,
  opts: { homeRegion: string; instanceArn?: string; now?: () => number; keyPolicy?: KeyPolicyOptions },
): Promise<HealthSnapshot> {
  let calls = 0;
  const count = <T>(p: Promise<T>) => {
    calls++;
    return p;
  };
  const inst = await count(findInstance(c.ssoAdmin, opts.homeRegion, opts.instanceArn));
  if (!opts.instanceArn) calls++; // ListInstances
  const arn = inst.InstanceArn as string;
  const primary = inst.PrimaryRegion ?? opts.homeRegion;
  const regions = await count(listRegions(c.ssoAdmin, primary, arn));
  const enc = inst.EncryptionConfigurationDetails ?? {};
  const snapshot: HealthSnapshot = {
    checkedAt: (opts.now ?? Date.now)(),
    instanceArn: arn,
    primaryRegion: primary,
    regions: [],
    encryption: {
      keyType: enc.KeyType,
      status: enc.EncryptionStatus,
      reason: enc.EncryptionStatusReason,
      keyArn: enc.KmsKeyArn,
    },
    keys: [],
    calls: 0,
  };
  const additional = regions.filter((r) => r.RegionName !== primary);
  snapshot.regions.push({ name: primary, status: 'ACTIVE', primary: true, answers: true });
  const keyId = enc.KeyType === 'CUSTOMER_MANAGED_KEY' ? enc.KmsKeyArn?.split('/').pop() : undefined;
  const keyAccount = enc.KmsKeyArn?.split(':')[4] ?? '';
  const beyond = (policy: string | undefined) => {
    const extra = grantsBeyondIdc(policy, keyAccount, opts.keyPolicy);
    return extra.length ? { extraGrants: extra } : {};
  };
  let primaryPolicy: string | undefined;
  if (keyId) {
    try {
      const [meta, policy] = await Promise.all([
        count(aws('kms:DescribeKey', () => c.kms(primary).send(new KMS.DescribeKeyCommand({ KeyId: keyId })))),
        count(
          aws('kms:GetKeyPolicy', () =>
            c.kms(primary).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
          ),
        ),
      ]);
      primaryPolicy = policy.Policy;
      const m = meta.KeyMetadata;
      snapshot.keys.push({
        region: primary,
        state: m?.KeyState ?? 'Unknown',
        primary: true,
        grantsIdc: policyGrantsIdc(primaryPolicy),
        ...beyond(primaryPolicy),
        sameAsPrimary: true,
        ...(m?.DeletionDate ? { deletionAt: m.DeletionDate.getTime() } : {}),
      });
    } catch (err) {
      snapshot.keys.push({
        region: primary,
        state: 'Unreadable',
        primary: true,
        grantsIdc: false,
        sameAsPrimary: false,
        error: message(err),
      });
    }
  }
  await Promise.all(
    additional.map(async (r) => {
      const name = r.RegionName as string;
      const entry: HealthSnapshot['regions'][number] = {
        name,
        status: r.Status ?? 'UNKNOWN',
        primary: false,
        ...(r.AddedDate ? { addedAt: r.AddedDate.getTime() } : {}),
      };
      snapshot.regions.push(entry);
      if (r.Status === 'ACTIVE') {
        try {
          await count(
            aws('sso:DescribeRegion', () =>
              c.ssoAdmin(name).send(new SSOAdmin.DescribeRegionCommand({ InstanceArn: arn, RegionName: name })),
            ),
          );
          entry.answers = true;
        } catch (err) {
          Object.assign(entry, { answers: false, error: message(err) });
        }
        try {
          await count(
            aws('identitystore:ListUsers', () =>
              c
                .identityStore(name)
                .send(new IdentityStore.ListUsersCommand({ IdentityStoreId: inst.IdentityStoreId, MaxResults: 1 })),
            ),
          );
          entry.identityStore = true;
        } catch (err) {
          Object.assign(entry, { identityStore: false, error: entry.error ?? message(err) });
        }
      }
      if (!keyId) return;
      try {
        const [meta, policy] = await Promise.all([
          count(aws('kms:DescribeKey', () => c.kms(name).send(new KMS.DescribeKeyCommand({ KeyId: keyId })))),
          count(
            aws('kms:GetKeyPolicy', () =>
              c.kms(name).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
            ),
          ),
        ]);
        const m = meta.KeyMetadata;
        snapshot.keys.push({
          region: name,
          state: m?.KeyState ?? 'Unknown',
          primary: false,
          grantsIdc: policyGrantsIdc(policy.Policy),
          ...beyond(policy.Policy),
          sameAsPrimary: primaryPolicy !== undefined && samePolicy(policy.Policy, primaryPolicy),
          ...(m?.DeletionDate ? { deletionAt: m.DeletionDate.getTime() } : {}),
        });
      } catch (err) {
        const missing = /NotFoundException/.test(String((err as Error).message));
        snapshot.keys.push({
          region: name,
          state: missing ? 'Missing' : 'Unreadable',
          primary: false,
          grantsIdc: false,
          sameAsPrimary: false,
          error: message(err),
        });
      }
    }),
  );
  snapshot.regions.sort((a, b) => Number(b.primary) - Number(a.primary) || a.name.localeCompare(b.name));
  snapshot.keys.sort((a, b) => Number(b.primary) - Number(a.primary) || a.region.localeCompare(b.region));
  snapshot.calls = calls;
  return snapshot;
}

export { drillRegion, type DrillCheck } from '../steps/lib/drill';
