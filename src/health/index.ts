import { ListUsersCommand, ListGroupsCommand } from '@aws-sdk/client-identitystore';
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { DescribeRegionCommand, ListInstancesCommand } from '@aws-sdk/client-sso-admin';
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
        count(aws('kms:DescribeKey', () => c.kms(primary).send(new DescribeKeyCommand({ KeyId: keyId })))),
        count(
          aws('kms:GetKeyPolicy', () =>
            c.kms(primary).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
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
              c.ssoAdmin(name).send(new DescribeRegionCommand({ InstanceArn: arn, RegionName: name })),
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
                .send(new ListUsersCommand({ IdentityStoreId: inst.IdentityStoreId, MaxResults: 1 })),
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
          count(aws('kms:DescribeKey', () => c.kms(name).send(new DescribeKeyCommand({ KeyId: keyId })))),
          count(
            aws('kms:GetKeyPolicy', () =>
              c.kms(name).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
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

export interface DrillCheck {
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/**
 * DR drill, read-only: can `region` serve sign-in on its own? Every call goes to that Region's own
 * endpoints; nothing asks the primary Region, so it gives the same answer during a primary outage.
 */
export async function drillRegion(
  c: StepClients,
  region: string,
): Promise<{ region: string; passed: boolean; checks: DrillCheck[] }> {
  const checks: DrillCheck[] = [];
  const timed = async (check: string, fn: () => Promise<{ ok: boolean; detail: string }>) => {
    const started = Date.now();
    try {
      checks.push({ check, ...(await fn()), ms: Date.now() - started });
    } catch (err) {
      checks.push({ check, ok: false, detail: message(err), ms: Date.now() - started });
    }
  };
  let arn: string | undefined;
  let storeId: string | undefined;
  await timed(`Identity Center instance answers in ${region}`, async () => {
    const list = await aws('sso:ListInstances', () => c.ssoAdmin(region).send(new ListInstancesCommand({})));
    const inst = list.Instances?.[0];
    arn = inst?.InstanceArn;
    storeId = inst?.IdentityStoreId;
    return inst
      ? {
          ok: inst.Status === 'ACTIVE',
          detail: `${inst.InstanceArn} is ${inst.Status} (primary ${inst.PrimaryRegion})`,
        }
      : { ok: false, detail: `no instance answers in ${region}: it is not an ACTIVE Region of the instance` };
  });
  if (arn) {
    const instanceArn = arn;
    await timed(`Region ${region} is ACTIVE`, async () => {
      const d = await aws('sso:DescribeRegion', () =>
        c.ssoAdmin(region).send(new DescribeRegionCommand({ InstanceArn: instanceArn, RegionName: region })),
      );
      return {
        ok: d.Status === 'ACTIVE' && !d.IsPrimaryRegion,
        detail: `${d.Status}${d.IsPrimaryRegion ? ', but it is the primary Region: drill an additional Region' : ''}`,
      };
    });
  }
  let keyArn: string | undefined;
  if (arn) {
    const instanceArn = arn;
    await timed(`Instance configuration readable in ${region}`, async () => {
      const d = await findInstance(c.ssoAdmin, region, instanceArn);
      keyArn = d.EncryptionConfigurationDetails?.KmsKeyArn;
      return {
        ok: d.Status === 'ACTIVE',
        detail: `encryption ${d.EncryptionConfigurationDetails?.KeyType} ${d.EncryptionConfigurationDetails?.EncryptionStatus}`,
      };
    });
  }
  if (storeId) {
    const id = storeId;
    await timed(`Identity Store reads in ${region}`, async () => {
      const [u, g] = await Promise.all([
        aws('identitystore:ListUsers', () =>
          c.identityStore(region).send(new ListUsersCommand({ IdentityStoreId: id, MaxResults: 50 })),
        ),
        aws('identitystore:ListGroups', () =>
          c.identityStore(region).send(new ListGroupsCommand({ IdentityStoreId: id, MaxResults: 50 })),
        ),
      ]);
      const n = u.Users?.length ?? 0;
      return {
        ok: n > 0,
        detail: `${n}${u.NextToken ? '+' : ''} users and ${g.Groups?.length ?? 0}${g.NextToken ? '+' : ''} groups readable`,
      };
    });
  }
  if (keyArn) {
    const keyId = keyArn.split('/').pop() as string;
    await timed(`Key replica usable in ${region}`, async () => {
      const [meta, policy] = await Promise.all([
        aws('kms:DescribeKey', () => c.kms(region).send(new DescribeKeyCommand({ KeyId: keyId }))),
        aws('kms:GetKeyPolicy', () =>
          c.kms(region).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
        ),
      ]);
      const m = meta.KeyMetadata;
      const grants = policyGrantsIdc(policy.Policy);
      return {
        ok: m?.KeyState === 'Enabled' && grants,
        detail: `${m?.KeyState}${grants ? '; its policy lets Identity Center use it' : '; its policy does NOT let Identity Center use it'}`,
      };
    });
  }
  return { region, passed: checks.length > 0 && checks.every((x) => x.ok), checks };
}
