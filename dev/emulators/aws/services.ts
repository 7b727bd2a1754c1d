import { REGION_PATTERN } from '../../../src/engine/inputs';
import { randomBytes } from 'node:crypto';
import { AwsError, grantsIdc, OPT_IN, REGIONS, type IdcRegion, type Key, type World } from './world';

type Body = Record<string, unknown>;
type Handler = (w: World, region: string, body: Body) => unknown;

const sec = (ms: number) => ms / 1000;
const str = (body: Body, field: string): string => {
  const v = body[field];
  if (typeof v !== 'string' || !v)
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value null at '${field[0]?.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
};
const REGION_NAME = REGION_PATTERN;

function requireInstance(w: World, body: Body): void {
  const arn = str(body, 'InstanceArn');
  if (arn !== w.instance.arn) throw new AwsError('ResourceNotFoundException', `Instance ${arn} does not exist`);
}

/** Regions where the instance answers: the primary and every ACTIVE additional Region. */
function servedHere(w: World, region: string): boolean {
  const r = w.instance.regions.get(region);
  return region === w.instance.primaryRegion || r?.status === 'ACTIVE' || r?.status === 'REMOVING';
}

function primaryOnly(w: World, region: string, op: string): void {
  if (region !== w.instance.primaryRegion) {
    throw new AwsError(
      'ValidationException',
      `${op} is only supported in the primary Region (${w.instance.primaryRegion}) of this instance; it is not available in additional Regions`,
    );
  }
}

const regionMeta = (w: World, r: IdcRegion) => ({
  RegionName: r.name,
  Status: r.status,
  AddedDate: sec(r.addedDate),
  IsPrimaryRegion: r.name === w.instance.primaryRegion,
});

function describeInstance(w: World) {
  const i = w.instance;
  const enc = i.encryption;
  return {
    InstanceArn: i.arn,
    IdentityStoreId: i.identityStoreId,
    IdentityStoreArn: `arn:aws:identitystore::${w.accountId}:identitystore/${i.identityStoreId}`,
    OwnerAccountId: w.ownerAccountId,
    Name: i.name,
    CreatedDate: sec(i.createdDate),
    Status: i.status,
    PrimaryRegion: i.primaryRegion,
    Regions: [...i.regions.values()].map((r) => regionMeta(w, r)),
    EncryptionConfigurationDetails: {
      KeyType: enc.keyType,
      ...(enc.kmsKeyArn ? { KmsKeyArn: enc.kmsKeyArn } : {}),
      EncryptionStatus: enc.status,
      ...(enc.reason ? { EncryptionStatusReason: enc.reason } : {}),
    },
    PermissionSetsEnabled: true,
  };
}

function paginate<T>(items: T[], body: Body, max = 100): { page: T[]; NextToken?: string } {
  const size = Math.min(Number(body.MaxResults ?? max), max);
  const start = body.NextToken ? Number(Buffer.from(String(body.NextToken), 'base64').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new AwsError('ValidationException', 'The NextToken is invalid');
  const page = items.slice(start, start + size);
  return start + size < items.length
    ? { page, NextToken: Buffer.from(String(start + size)).toString('base64') }
    : { page };
}

export const ssoAdmin: Record<string, Handler> = {
  ListInstances(w, region) {
    if (!servedHere(w, region)) return { Instances: [] };
    const d = describeInstance(w);
    return {
      Instances: [
        {
          InstanceArn: d.InstanceArn,
          IdentityStoreId: d.IdentityStoreId,
          OwnerAccountId: d.OwnerAccountId,
          Name: d.Name,
          CreatedDate: d.CreatedDate,
          Status: d.Status,
          PrimaryRegion: d.PrimaryRegion,
          Regions: d.Regions,
        },
      ],
    };
  },
  DescribeInstance(w, region, body) {
    requireInstance(w, body);
    if (!servedHere(w, region))
      throw new AwsError('ResourceNotFoundException', `Instance ${w.instance.arn} is not available in ${region}`);
    return describeInstance(w);
  },
  UpdateInstance(w, region, body) {
    requireInstance(w, body);
    primaryOnly(w, region, 'UpdateInstance');
    const cfg = body.EncryptionConfiguration as { KeyType?: string; KmsKeyArn?: string } | undefined;
    if (cfg && body.PermissionSetsEnabled !== undefined)
      throw new AwsError(
        'ValidationException',
        'EncryptionConfiguration and PermissionSetsEnabled cannot be updated in the same request',
      );
    if (!cfg) return {};
    const enc = w.instance.encryption;
    if (enc.status === 'UPDATING')
      throw new AwsError('ConflictException', 'An encryption configuration update is already in progress');
    if (cfg.KeyType === 'AWS_OWNED_KMS_KEY') {
      if (cfg.KmsKeyArn)
        throw new AwsError('ValidationException', 'KmsKeyArn must not be set when KeyType is AWS_OWNED_KMS_KEY');
      if (w.instance.regions.size > 1)
        throw new AwsError(
          'ValidationException',
          'A multi-Region instance must use a customer managed multi-Region KMS key; remove the additional Regions first',
        );
      Object.assign(enc, { keyType: 'AWS_OWNED_KMS_KEY', kmsKeyArn: undefined, status: 'ENABLED', reason: undefined });
      return {};
    }
    if (cfg.KeyType !== 'CUSTOMER_MANAGED_KEY')
      throw new AwsError(
        'ValidationException',
        `Value '${cfg.KeyType}' at 'encryptionConfiguration.keyType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_KMS_KEY, CUSTOMER_MANAGED_KEY]`,
      );
    const arn = cfg.KmsKeyArn ?? '';
    if (!/^arn:aws(-[a-z]{1,5}){0,3}:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[a-f0-9]{32}|[a-f0-9-]{36})$/.test(arn)) {
      throw new AwsError(
        'ValidationException',
        'KmsKeyArn must be the ARN of a KMS key (not an alias) when KeyType is CUSTOMER_MANAGED_KEY',
      );
    }
    const key = w.findKey(w.instance.primaryRegion, arn);
    if (!key)
      throw new AwsError(
        'ResourceNotFoundException',
        `KMS key ${arn} was not found in ${w.instance.primaryRegion}`,
        400,
        { Reason: 'KMS_NotFoundException' },
      );
    if (key.state === 'Disabled')
      throw new AwsError('ValidationException', `KMS key ${arn} is disabled`, 400, { Reason: 'KMS_DisabledException' });
    if (key.state !== 'Enabled')
      throw new AwsError('ValidationException', `KMS key ${arn} is in state ${key.state}`, 400, {
        Reason: 'KMS_InvalidStateException',
      });
    for (const r of w.instance.regions.values()) {
      if (r.name === w.instance.primaryRegion) continue;
      if (!key.multiRegion || !w.findKey(r.name, key.keyId))
        throw new AwsError(
          'ValidationException',
          `The KMS key has no replica in ${r.name}, an enabled Region of this instance`,
          400,
          { Reason: 'KMS_InvalidStateException' },
        );
    }
    Object.assign(enc, {
      status: 'UPDATING',
      pendingArn: key.arn,
      doneAt: w.now() + w.dur('encryptionUpdating'),
      reason: undefined,
    });
    return {};
  },
  ListRegions(w, region, body) {
    requireInstance(w, body);
    if (!servedHere(w, region))
      throw new AwsError('ResourceNotFoundException', `Instance is not available in ${region}`);
    const { page, NextToken } = paginate([...w.instance.regions.values()], body);
    return { Regions: page.map((r) => regionMeta(w, r)), ...(NextToken ? { NextToken } : {}) };
  },
  DescribeRegion(w, region, body) {
    requireInstance(w, body);
    if (!servedHere(w, region))
      throw new AwsError('ResourceNotFoundException', `Instance is not available in ${region}`);
    const name = str(body, 'RegionName');
    const r = w.instance.regions.get(name);
    if (!r) throw new AwsError('ResourceNotFoundException', `Region ${name} is not enabled for this instance`);
    return regionMeta(w, r);
  },
  AddRegion(w, region, body) {
    requireInstance(w, body);
    primaryOnly(w, region, 'AddRegion');
    const name = str(body, 'RegionName');
    if (!REGION_NAME.test(name) || !REGIONS.includes(name))
      throw new AwsError(
        'ValidationException',
        `${name} is not a Region that supports IAM Identity Center multi-Region replication`,
      );
    if (!w.enabledRegions.has(name))
      throw new AwsError('ValidationException', `Region ${name} is not enabled for account ${w.accountId}`);
    if (w.instance.regions.has(name))
      throw new AwsError('ConflictException', `Region ${name} is already enabled for this instance`);
    if ([...w.instance.regions.values()].some((r) => r.status !== 'ACTIVE'))
      throw new AwsError('ConflictException', 'Another add or remove Region workflow is in progress');
    if (w.instance.regions.size >= w.quota)
      throw new AwsError(
        'ServiceQuotaExceededException',
        `The instance already has ${w.instance.regions.size} Regions, the maximum for this account`,
      );
    const enc = w.instance.encryption;
    if (enc.keyType !== 'CUSTOMER_MANAGED_KEY' || enc.status !== 'ENABLED' || !enc.kmsKeyArn)
      throw new AwsError(
        'ValidationException',
        'The instance must be encrypted with a customer managed multi-Region KMS key before you add a Region',
      );
    const key = w.findKey(w.instance.primaryRegion, enc.kmsKeyArn);
    if (!key?.multiRegion)
      throw new AwsError('ValidationException', 'The instance KMS key is not a multi-Region key', 400, {
        Reason: 'KMS_InvalidKeyUsageException',
      });
    const replica = w.findKey(name, key.keyId);
    if (!replica)
      throw new AwsError('ValidationException', `The KMS key has no replica in ${name}`, 400, {
        Reason: 'KMS_InvalidStateException',
      });
    if (replica.state !== 'Enabled')
      throw new AwsError('ValidationException', `The KMS key replica in ${name} is ${replica.state}`, 400, {
        Reason: replica.state === 'Disabled' ? 'KMS_DisabledException' : 'KMS_InvalidStateException',
      });
    if (!grantsIdc(replica.policy))
      throw new AwsError(
        'AccessDeniedException',
        `The key policy of the replica in ${name} does not allow IAM Identity Center to use it`,
        400,
        { Reason: 'KMS_AccessDeniedException' },
      );
    w.instance.regions.set(name, {
      name,
      status: 'ADDING',
      addedDate: w.now(),
      doneAt: w.now() + w.dur('regionAdding'),
    });
    return { Status: 'ADDING' };
  },
  RemoveRegion(w, region, body) {
    requireInstance(w, body);
    primaryOnly(w, region, 'RemoveRegion');
    const name = str(body, 'RegionName');
    const r = w.instance.regions.get(name);
    if (!r) throw new AwsError('ResourceNotFoundException', `Region ${name} is not enabled for this instance`);
    if (name === w.instance.primaryRegion)
      throw new AwsError('ValidationException', 'The primary Region cannot be removed; delete the instance instead');
    if ([...w.instance.regions.values()].some((x) => x.status !== 'ACTIVE'))
      throw new AwsError('ConflictException', 'Another add or remove Region workflow is in progress');
    Object.assign(r, { status: 'REMOVING', doneAt: w.now() + w.dur('regionRemoving') });
    return { Status: 'REMOVING' };
  },
  ListPermissionSets(w, region, body) {
    requireInstance(w, body);
    primaryOnly(w, region, 'ListPermissionSets');
    return { PermissionSets: w.permissionSets.map((p) => p.arn) };
  },
};

function identityStoreGuard(w: World, region: string, body: Body): void {
  if (str(body, 'IdentityStoreId') !== w.instance.identityStoreId)
    throw new AwsError('ResourceNotFoundException', `Identity store ${String(body.IdentityStoreId)} does not exist`);
  if (!servedHere(w, region))
    throw new AwsError('ResourceNotFoundException', `Identity store is not available in ${region}`);
}

export const identityStore: Record<string, Handler> = {
  ListUsers(w, region, body) {
    identityStoreGuard(w, region, body);
    const { page, NextToken } = paginate(w.users, body);
    return {
      Users: page.map((u) => ({ ...u, IdentityStoreId: w.instance.identityStoreId })),
      ...(NextToken ? { NextToken } : {}),
    };
  },
  ListGroups(w, region, body) {
    identityStoreGuard(w, region, body);
    const { page, NextToken } = paginate(w.groups, body);
    return {
      Groups: page.map((g) => ({ ...g, IdentityStoreId: w.instance.identityStoreId })),
      ...(NextToken ? { NextToken } : {}),
    };
  },
};

function metadata(w: World, k: Key) {
  const related = k.multiRegion ? [...w.keys.values()].filter((x) => x.keyId === k.keyId) : [];
  const primary = related.find((x) => x.role === 'PRIMARY');
  return {
    KeyId: k.keyId,
    Arn: k.arn,
    AWSAccountId: w.accountId,
    CreationDate: sec(k.creationDate),
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    Origin: 'AWS_KMS',
    KeyManager: k.keyManager,
    KeyState: k.state,
    ...(k.deletionDate
      ? {
          DeletionDate: sec(k.deletionDate),
          PendingDeletionWindowInDays: Math.round((k.deletionDate - w.now()) / 86_400_000),
        }
      : {}),
    MultiRegion: k.multiRegion,
    ...(k.multiRegion
      ? {
          MultiRegionConfiguration: {
            MultiRegionKeyType: k.role,
            PrimaryKey: primary ? { Arn: primary.arn, Region: primary.region } : undefined,
            ReplicaKeys: related.filter((x) => x.role === 'REPLICA').map((x) => ({ Arn: x.arn, Region: x.region })),
          },
        }
      : {}),
  };
}

function key(w: World, region: string, body: Body, field = 'KeyId'): Key {
  const id = str(body, field);
  const k = w.findKey(region, id);
  if (!k) throw new AwsError('NotFoundException', `Key '${id}' does not exist`);
  return k;
}

function checkPolicy(policy: unknown): string {
  if (policy === undefined) return '';
  try {
    JSON.parse(String(policy));
  } catch {
    throw new AwsError(
      'MalformedPolicyDocumentException',
      'The new key policy will not allow you to update the key policy in the future.',
    );
  }
  return String(policy);
}

const DEFAULT_POLICY = (account: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });

export const kms: Record<string, Handler> = {
  CreateKey(w, region, body) {
    if (body.KeySpec && body.KeySpec !== 'SYMMETRIC_DEFAULT' && body.MultiRegion) {
      // any spec is allowed by KMS; the emulator only models symmetric keys
      throw new AwsError('UnsupportedOperationException', 'The emulator only models SYMMETRIC_DEFAULT keys');
    }
    const k = w.addKey({
      region,
      multiRegion: Boolean(body.MultiRegion),
      role: body.MultiRegion ? 'PRIMARY' : undefined,
      policy: checkPolicy(body.Policy) || DEFAULT_POLICY(w.accountId),
      tags: (body.Tags as Key['tags']) ?? [],
      description: String(body.Description ?? ''),
    });
    return { KeyMetadata: metadata(w, k) };
  },
  DescribeKey(w, region, body) {
    return { KeyMetadata: metadata(w, key(w, region, body)) };
  },
  ListKeys(w, region, body) {
    const { page, NextToken } = paginate(
      [...w.keys.values()].filter((k) => k.region === region),
      body,
      1000,
    );
    return {
      Keys: page.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
      Truncated: Boolean(NextToken),
      ...(NextToken ? { NextMarker: NextToken } : {}),
    };
  },
  ReplicateKey(w, region, body) {
    const k = key(w, region, body);
    const target = str(body, 'ReplicaRegion');
    if (!k.multiRegion) throw new AwsError('UnsupportedOperationException', `${k.arn} is not a multi-Region key`);
    if (k.role !== 'PRIMARY')
      throw new AwsError(
        'UnsupportedOperationException',
        `${k.arn} is not a primary key; only a primary key can be replicated`,
      );
    if (k.state !== 'Enabled')
      throw new AwsError(
        k.state === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException',
        `${k.arn} is ${k.state}`,
      );
    if (!REGIONS.includes(target)) throw new AwsError('ValidationException', `${target} is not a valid Region`);
    if (!w.enabledRegions.has(target))
      throw new AwsError('UnsupportedOperationException', `Region ${target} is not enabled for this account`);
    if (target === region || w.findKey(target, k.keyId))
      throw new AwsError('AlreadyExistsException', `A replica of ${k.keyId} already exists in ${target}`);
    const replica = w.addKey({
      region: target,
      keyId: k.keyId,
      multiRegion: true,
      role: 'REPLICA',
      primaryRegion: region,
      state: 'Creating',
      readyAt: w.now() + w.dur('replicaCreating'),
      policy: checkPolicy(body.Policy) || DEFAULT_POLICY(w.accountId),
      tags: (body.Tags as Key['tags']) ?? [],
      description: String(body.Description ?? ''),
    });
    return { ReplicaKeyMetadata: metadata(w, replica), ReplicaPolicy: replica.policy, ReplicaTags: replica.tags };
  },
  GetKeyPolicy(w, region, body) {
    const k = key(w, region, body);
    return { Policy: k.policy, PolicyName: 'default' };
  },
  PutKeyPolicy(w, region, body) {
    const k = key(w, region, body);
    if (body.PolicyName !== undefined && body.PolicyName !== 'default')
      throw new AwsError('ValidationException', 'PolicyName must be "default"');
    k.policy = checkPolicy(str(body, 'Policy'));
    return {};
  },
  CreateAlias(w, region, body) {
    const alias = str(body, 'AliasName');
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(alias) || alias.startsWith('alias/aws/'))
      throw new AwsError('ValidationException', `Alias ${alias} is invalid`);
    const k = key(w, region, body, 'TargetKeyId');
    if (w.aliases.has(`${region}/${alias}`))
      throw new AwsError(
        'AlreadyExistsException',
        `An alias with the name arn:aws:kms:${region}:${w.accountId}:${alias} already exists`,
      );
    w.aliases.set(`${region}/${alias}`, k.keyId);
    return {};
  },
  ListAliases(w, region, body) {
    const all = [...w.aliases.entries()]
      .filter(([k]) => k.startsWith(`${region}/`))
      .map(([k, keyId]) => ({
        AliasName: k.slice(region.length + 1),
        AliasArn: `arn:aws:kms:${region}:${w.accountId}:${k.slice(region.length + 1)}`,
        TargetKeyId: keyId,
      }));
    const filtered = body.KeyId
      ? all.filter((a) => a.TargetKeyId === w.findKey(region, String(body.KeyId))?.keyId)
      : all;
    return { Aliases: filtered, Truncated: false };
  },
  EnableKeyRotation(w, region, body) {
    const k = key(w, region, body);
    if (k.role === 'REPLICA')
      throw new AwsError(
        'UnsupportedOperationException',
        'Rotation is managed on the primary key of a multi-Region key',
      );
    k.rotation = true;
    return {};
  },
  GetKeyRotationStatus(w, region, body) {
    return { KeyRotationEnabled: key(w, region, body).rotation };
  },
  TagResource(w, region, body) {
    const k = key(w, region, body);
    for (const t of (body.Tags as Key['tags']) ?? []) {
      k.tags = k.tags.filter((x) => x.TagKey !== t.TagKey).concat(t);
    }
    return {};
  },
  ListResourceTags(w, region, body) {
    return { Tags: key(w, region, body).tags, Truncated: false };
  },
  ScheduleKeyDeletion(w, region, body) {
    const k = key(w, region, body);
    const days = Number(body.PendingWindowInDays ?? 30);
    if (!Number.isInteger(days) || days < 7 || days > 30)
      throw new AwsError('ValidationException', 'PendingWindowInDays must be between 7 and 30');
    if (k.state === 'PendingDeletion') throw new AwsError('KMSInvalidStateException', `${k.arn} is pending deletion`);
    const replicas = [...w.keys.values()].filter((x) => x.keyId === k.keyId && x.role === 'REPLICA');
    if (k.role === 'PRIMARY' && replicas.length) {
      k.state = 'PendingReplicaDeletion';
      return { KeyId: k.arn, KeyState: k.state, PendingWindowInDays: days };
    }
    k.state = 'PendingDeletion';
    k.deletionDate = w.now() + days * 86_400_000;
    return { KeyId: k.arn, DeletionDate: sec(k.deletionDate), KeyState: k.state, PendingWindowInDays: days };
  },
};

export const organizations: Record<string, Handler> = {
  DescribeOrganization(w) {
    const o = w.organization;
    if (!o) throw new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    return {
      Organization: {
        Id: o.id,
        Arn: `arn:aws:organizations::${o.managementAccountId}:organization/${o.id}`,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${o.managementAccountId}:account/${o.id}/${o.managementAccountId}`,
        MasterAccountId: o.managementAccountId,
        MasterAccountEmail: 'aws-root@example.com',
        AvailablePolicyTypes: [],
      },
    };
  },
};

export const serviceQuotas: Record<string, Handler> = {
  GetServiceQuota(w, region, body) {
    const service = str(body, 'ServiceCode');
    const code = str(body, 'QuotaCode');
    if (service !== 'sso' || code !== 'L-D519A297')
      throw new AwsError(
        'NoSuchResourceException',
        `The request failed because the specified quota ${service}/${code} does not exist.`,
      );
    return {
      Quota: {
        ServiceCode: 'sso',
        ServiceName: 'AWS IAM Identity Center',
        QuotaArn: `arn:aws:servicequotas:${region}:${w.accountId}:sso/L-D519A297`,
        QuotaCode: 'L-D519A297',
        QuotaName: 'Total number of regions for IAM Identity Center',
        Value: w.quota,
        Unit: 'None',
        Adjustable: true,
        GlobalQuota: false,
      },
    };
  },
};

/** AWS Account Management (REST JSON: POST /getRegionOptStatus). */
export const account: Record<string, Handler> = {
  GetRegionOptStatus(w, _region, body) {
    const name = str(body, 'RegionName');
    if (!REGIONS.includes(name)) throw new AwsError('ValidationException', `Invalid region name: ${name}`);
    const status = !w.enabledRegions.has(name) ? 'DISABLED' : OPT_IN.has(name) ? 'ENABLED' : 'ENABLED_BY_DEFAULT';
    return { RegionName: name, RegionOptStatus: status };
  },
  ListRegions(w, _region, body) {
    const wanted = (body.RegionOptStatusContains as string[] | undefined) ?? [];
    const all = REGIONS.map((name) => ({
      RegionName: name,
      RegionOptStatus: !w.enabledRegions.has(name) ? 'DISABLED' : OPT_IN.has(name) ? 'ENABLED' : 'ENABLED_BY_DEFAULT',
    })).filter((r) => !wanted.length || wanted.includes(r.RegionOptStatus));
    const { page, NextToken } = paginate(all, body, 50);
    return { Regions: page, ...(NextToken ? { NextToken } : {}) };
  },
};

/** Sign-in answers name their Region through what they carry (unsigned calls: no credential scope). */
const upIn = (w: World, region: string) => {
  if (w.faults.outage.has(region))
    throw new AwsError('InternalServerException', `Service unavailable in ${region}`, 503);
};
/** OIDC errors carry the OAuth `error` code besides the exception name. */
const oauthError = (type: string, error: string, message: string, status = 400) =>
  new AwsError(type, message, status, { error, error_description: message });
const PORTAL_URL = /^https:\/\/(ssoins-[0-9a-f]+)\.([a-z]{2}(?:-[a-z]+)+-\d)\.portal\.amazonaws\.com\/?$/;

/** AWS SSO OIDC (REST JSON, no IAM): the OAuth device authorization grant, as documented. */
export const ssoOidc: Record<string, Handler> = {
  RegisterClient(w, _region, body) {
    if (!str(body, 'clientName') || body.clientType !== 'public')
      throw oauthError('InvalidClientMetadataException', 'invalid_client_metadata', 'clientType must be public');
    const id = `cl-${randomBytes(8).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    w.signIn.clients.set(id, { secret, name: str(body, 'clientName') });
    const at = Math.floor(w.now() / 1000);
    return { clientId: id, clientSecret: secret, clientIdIssuedAt: at, clientSecretExpiresAt: at + 90 * 86_400 };
  },
  StartDeviceAuthorization(w, _region, body) {
    const client = w.signIn.clients.get(str(body, 'clientId'));
    if (!client || client.secret !== body.clientSecret)
      throw oauthError('InvalidClientException', 'invalid_client', 'Invalid client', 401);
    const m = PORTAL_URL.exec(str(body, 'startUrl'));
    const region = m?.[2] ?? '';
    upIn(w, region);
    const regionStatus = region === w.instance.primaryRegion ? 'ACTIVE' : w.instance.regions.get(region)?.status;
    if (!m || m[1] !== w.instance.id || regionStatus !== 'ACTIVE')
      throw oauthError('InvalidRequestException', 'invalid_request', `Invalid start URL: ${str(body, 'startUrl')}`);
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}`.toUpperCase();
    w.signIn.devices.set(deviceCode, {
      clientId: str(body, 'clientId'),
      region,
      userCode,
      expiresAt: w.now() + w.signIn.expiresInS * 1000,
      status: 'pending',
    });
    const uri = `https://device.sso.${region}.amazonaws.com/`;
    return {
      deviceCode,
      userCode,
      verificationUri: uri,
      verificationUriComplete: `${uri}?user_code=${userCode}`,
      expiresIn: w.signIn.expiresInS,
      interval: w.signIn.interval,
    };
  },
  CreateToken(w, _region, body) {
    if (body.grantType !== 'urn:ietf:params:oauth:grant-type:device_code')
      throw oauthError('UnsupportedGrantTypeException', 'unsupported_grant_type', 'Unsupported grant type');
    const code = str(body, 'deviceCode');
    const d = w.signIn.devices.get(code);
    if (!d) throw oauthError('InvalidGrantException', 'invalid_grant', 'Invalid device code');
    upIn(w, d.region);
    const client = w.signIn.clients.get(str(body, 'clientId'));
    if (!client || client.secret !== body.clientSecret || d.clientId !== body.clientId)
      throw oauthError('InvalidClientException', 'invalid_client', 'Invalid client', 401);
    if (w.now() >= d.expiresAt) throw oauthError('ExpiredTokenException', 'expired_token', 'Device code expired');
    if (d.status === 'denied') throw oauthError('AccessDeniedException', 'access_denied', 'Access denied by the user');
    if (d.status === 'pending') {
      const early = d.lastPoll !== undefined && w.now() - d.lastPoll < w.signIn.interval * 1000 * 0.9;
      d.lastPoll = w.now();
      throw early
        ? oauthError('SlowDownException', 'slow_down', 'Client is polling too fast')
        : oauthError('AuthorizationPendingException', 'authorization_pending', 'Authorization pending');
    }
    w.signIn.devices.delete(code); // one token per device code
    const accessToken = `aoa${randomBytes(24).toString('base64url')}`;
    w.signIn.tokens.set(accessToken, { user: d.user ?? 'someone', region: d.region });
    return { accessToken, tokenType: 'Bearer', expiresIn: 28_800 };
  },
};

/** The AWS access portal API (REST JSON, a bearer token in x-amz-sso_bearer_token). */
export const ssoPortal: Record<string, Handler> = {
  ListAccounts(w, _region, body) {
    const t = w.signIn.tokens.get(str(body, 'bearer'));
    if (!t) throw new AwsError('UnauthorizedException', 'Session token not found or invalid', 401);
    upIn(w, t.region);
    const all = (w.signIn.accounts.get(t.user) ?? ['111111111111', '222222222222', '333333333333']).map((id, i) => ({
      accountId: id,
      accountName: `account-${i + 1}`,
      emailAddress: `aws+${i + 1}@example.com`,
    }));
    const size = Math.min(Number(body.max_result ?? 100), 100);
    const start = Number(body.next_token ?? 0);
    const page = all.slice(start, start + size);
    return { accountList: page, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) };
  },
};

/** Secrets Manager (JSON 1.1, `secretsmanager.GetSecretValue`): the bot reads its Slack credentials at start. */
const secretsManager: Record<string, Handler> = {
  GetSecretValue(w, region, body) {
    const id = str(body, 'SecretId');
    const arn = [...w.secrets.keys()].find((a) => a === id || a.split(':')[6]?.replace(/-[A-Za-z0-9]{6}$/, '') === id);
    if (!arn || arn.split(':')[3] !== region)
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      ARN: arn,
      Name: arn.split(':')[6],
      SecretString: w.secrets.get(arn),
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000,
    };
  },
};

/** SSM Parameter Store (JSON 1.1, `AmazonSSM.GetParameter`): the deployed bot's configuration file. */
const ssm: Record<string, Handler> = {
  GetParameter(w, region, body) {
    const name = str(body, 'Name');
    const arn = [...w.parameters.keys()].find((a) => a === name || a.split(':parameter')[1] === name);
    if (!arn || arn.split(':')[3] !== region) throw new AwsError('ParameterNotFound', '');
    const value = w.parameters.get(arn) as string;
    return {
      Parameter: {
        Name: arn.split(':parameter')[1],
        ARN: arn,
        Type: 'String',
        Value: value,
        Version: 1,
        DataType: 'text',
        LastModifiedDate: 1_700_000_000,
      },
    };
  },
};

export interface ServiceDef {
  signingName: string;
  handlers: Record<string, Handler>;
  /** REST JSON routes ("POST /path" → operation); absent for JSON 1.1 services. */
  routes?: Record<string, string>;
  /** Called without SigV4 (OIDC, the portal API): no credential scope, no IAM check. */
  unsigned?: boolean;
}

/** Services by X-Amz-Target prefix (JSON 1.1) or name (REST JSON). */
export const SERVICES: Record<string, ServiceDef> = {
  SWBExternalService: { signingName: 'sso', handlers: ssoAdmin },
  TrentService: { signingName: 'kms', handlers: kms },
  AWSIdentityStore: { signingName: 'identitystore', handlers: identityStore },
  AWSOrganizationsV20161128: { signingName: 'organizations', handlers: organizations },
  ServiceQuotasV20190624: { signingName: 'servicequotas', handlers: serviceQuotas },
  secretsmanager: { signingName: 'secretsmanager', handlers: secretsManager },
  AmazonSSM: { signingName: 'ssm', handlers: ssm },
  SSOOIDC: {
    signingName: 'sso-oauth',
    handlers: ssoOidc,
    unsigned: true,
    routes: {
      'POST /client/register': 'RegisterClient',
      'POST /device_authorization': 'StartDeviceAuthorization',
      'POST /token': 'CreateToken',
    },
  },
  SSOPortal: {
    signingName: 'awsssoportal',
    handlers: ssoPortal,
    unsigned: true,
    routes: { 'GET /assignment/accounts': 'ListAccounts' },
  },
  Account: {
    signingName: 'account',
    handlers: account,
    routes: { 'POST /getRegionOptStatus': 'GetRegionOptStatus', 'POST /listRegions': 'ListRegions' },
  },
};

export const requestId = () =>
  `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`;
