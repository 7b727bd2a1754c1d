import { IdentityStore, KMS, SSOAdmin } from '../../aws/sdk';
import { aws } from './aws-errors';
import type { StepClients } from './clients';
import { findInstance } from './identity-center';
import { policyGrantsIdc } from './key-policy';

const message = (err: unknown) => ((err as Error).message ?? String(err)).split('. The bot')[0] as string;

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
): Promise<{ region: string; passed: boolean; checks: DrillCheck[]; instanceArn?: string }> {
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
    const list = await aws('sso:ListInstances', () => c.ssoAdmin(region).send(new SSOAdmin.ListInstancesCommand({})));
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
        c.ssoAdmin(region).send(new SSOAdmin.DescribeRegionCommand({ InstanceArn: instanceArn, RegionName: region })),
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
          c.identityStore(region).send(new IdentityStore.ListUsersCommand({ IdentityStoreId: id, MaxResults: 50 })),
        ),
        aws('identitystore:ListGroups', () =>
          c.identityStore(region).send(new IdentityStore.ListGroupsCommand({ IdentityStoreId: id, MaxResults: 50 })),
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
        aws('kms:DescribeKey', () => c.kms(region).send(new KMS.DescribeKeyCommand({ KeyId: keyId }))),
        aws('kms:GetKeyPolicy', () =>
          c.kms(region).send(new KMS.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })),
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
  return {
    region,
    passed: checks.length > 0 && checks.every((x) => x.ok),
    checks,
    ...(arn ? { instanceArn: arn } : {}),
  };
}
