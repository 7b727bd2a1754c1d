import { randomBytes } from 'node:crypto';

/** An AWS error as the JSON 1.1 protocol sends it (`__type`, `message`, optional `Reason`). */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type RegionStatus = 'ACTIVE' | 'ADDING' | 'REMOVING';
export interface IdcRegion {
  name: string;
  status: RegionStatus;
  addedDate: number;
  /** time at which ADDING → ACTIVE or REMOVING → gone */
  doneAt?: number;
}

export interface Key {
  keyId: string;
  region: string;
  arn: string;
  state: 'Creating' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion';
  multiRegion: boolean;
  role?: 'PRIMARY' | 'REPLICA';
  primaryRegion: string;
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  description: string;
  creationDate: number;
  readyAt?: number;
  deletionDate?: number;
  rotation: boolean;
  keyManager: 'AWS' | 'CUSTOMER';
}

export interface WorldOptions {
  accountId?: string;
  primaryRegion?: string;
  users?: number;
  groups?: number;
  /** Multiplies every asynchronous duration (1 = the defaults below). */
  timeScale?: number;
  quota?: number;
  /** Regions the account has enabled (default: every Region in REGIONS except the opt-in ones). */
  enabledRegions?: string[];
  /** The account is not in an organization (DescribeOrganization fails). */
  noOrganization?: boolean;
  /** The instance is an account instance (owned by a member account, not the management account). */
  accountInstance?: boolean;
  now?: () => number;
}

/** Commercial-partition Regions the emulator knows; opt-in ones start disabled. */
export const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-south-1',
  'sa-east-1',
  'eu-south-1',
  'af-south-1',
  'me-south-1',
];
export const OPT_IN = new Set(['eu-south-1', 'af-south-1', 'me-south-1']);

/** Base durations of the asynchronous transitions, in ms before `timeScale`. */
export const DURATIONS = {
  replicaCreating: 3_000,
  encryptionUpdating: 8_000,
  regionAdding: 40_000,
  regionRemoving: 15_000,
};

const hex = (n: number) => randomBytes(n).toString('hex');

/** One consistent AWS account: an organization instance of Identity Center, its Identity Store and KMS keys. */
/** One OAuth device authorization: the person opens the link, signs in with the IdP (or is refused). */
export interface Device {
  clientId: string;
  region: string;
  userCode: string;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied';
  user?: string;
  lastPoll?: number;
}

export function createWorld(opts: WorldOptions = {}) {
  const now = opts.now ?? Date.now;
  const accountId = opts.accountId ?? '111122223333';
  const primary = opts.primaryRegion ?? 'us-east-1';
  const instanceId = `ssoins-${hex(8)}`;
  const identityStoreId = `d-${hex(5)}`;
  const created = now() - 400 * 86_400_000;
  const name = (i: number) =>
    ['ana', 'ben', 'chen', 'dara', 'eli', 'fay', 'gus', 'hana', 'ivo', 'jun'][i % 10] + String(i);
  const world = {
    accountId,
    timeScale: opts.timeScale ?? 1,
    quota: opts.quota ?? 3,
    enabledRegions: new Set(opts.enabledRegions ?? REGIONS.filter((r) => !OPT_IN.has(r))),
    organization: opts.noOrganization ? undefined : { id: `o-${hex(5)}`, managementAccountId: accountId },
    /** The account that owns the instance: the management account for an organization instance. */
    ownerAccountId: opts.accountInstance ? '444455556666' : accountId,
    /** The account of the credentials calling (STS GetCallerIdentity): the bot may run elsewhere, e.g. a delegated administrator. */
    callerAccountId: accountId,
    instance: {
      arn: `arn:aws:sso:::instance/${instanceId}`,
      id: instanceId,
      identityStoreId,
      name: 'example-org',
      primaryRegion: primary,
      status: 'ACTIVE' as const,
      createdDate: created,
      encryption: {
        keyType: 'AWS_OWNED_KMS_KEY' as 'AWS_OWNED_KMS_KEY' | 'CUSTOMER_MANAGED_KEY',
        kmsKeyArn: undefined as string | undefined,
        status: 'ENABLED' as 'ENABLED' | 'UPDATING' | 'UPDATE_FAILED',
        reason: undefined as string | undefined,
        doneAt: undefined as number | undefined,
        pendingArn: undefined as string | undefined,
      },
      regions: new Map<string, IdcRegion>([[primary, { name: primary, status: 'ACTIVE', addedDate: created }]]),
    },
    users: Array.from({ length: opts.users ?? 300 }, (_, i) => ({
      UserId: `${identityStoreId.slice(2)}-u${String(i).padStart(5, '0')}`,
      UserName: `${name(i)}@example.com`,
      DisplayName: name(i),
    })),
    groups: Array.from({ length: opts.groups ?? 40 }, (_, i) => ({
      GroupId: `${identityStoreId.slice(2)}-g${String(i).padStart(4, '0')}`,
      DisplayName: `team-${i}`,
    })),
    permissionSets: ['AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess', 'Billing'].map((n, i) => ({
      name: n,
      arn: `arn:aws:sso:::permissionSet/${instanceId}/ps-${String(i).padStart(16, '0')}`,
    })),
    keys: new Map<string, Key>(),
    aliases: new Map<string, string>(),
    /** How many calls the rate fault failed. */
    rateFaults: 0,
    /** Secrets Manager secrets by ARN (SecretString). */
    secrets: new Map<string, string>(),
    /** SSM parameters by ARN (arn:aws:ssm:<region>:<account>:parameter/<name>), their value. */
    parameters: new Map<string, string>(),
    /** Sign-in through a Region's portal (OIDC device authorization), as the IdP and the person play it. */
    signIn: {
      clients: new Map<string, { secret: string; name: string }>(),
      /** Device authorizations by device code, until a token is issued. */
      devices: new Map<string, Device>(),
      /** Access tokens issued: who signed in, through which Region. */
      tokens: new Map<string, { user: string; region: string }>(),
      /** Seconds between polls the grant asks for, and how long a device code lives. */
      interval: 1,
      expiresInS: 600,
      /** Accounts a person sees in the access portal (default 3 each). */
      accounts: new Map<string, string[]>(),
    },
    calls: [] as { action: string; region: string; ok: boolean; at: number; userAgent?: string; session?: string }[],
    /** An IAM check before each call (tests install one): the denial ("action on resource because ..."), or nothing. */
    authorize: undefined as
      | ((call: { action: string; region: string; body: Record<string, unknown> }) => Promise<string | undefined>)
      | undefined,
    faults: {
      /** fail the next N calls of an action ('*' = any) with the given error type */
      fail: [] as { action: string; remaining: number; type: string; status: number; region?: string }[],
      deny: new Set<string>(),
      /** Regions whose endpoints are down (every call answers 503) */
      outage: new Set<string>(),
      /** slow every response by this many ms */
      latencyMs: 0,
      /** answer a mutating call this many ms after it took effect */
      responseDelayMs: 0,
      /** fail this share of all calls (throttling or a 5xx, alternately), from a seeded sequence */
      failRate: 0,
    },
    now,
    /** Seeded pseudo-random numbers for rate faults (reproducible runs). */
    random: (() => {
      let x = 12345;
      return () => (x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    })(),
    /** Base durations of this world's asynchronous transitions (tests may tune each). */
    durations: { ...DURATIONS },
    dur: (key: keyof typeof DURATIONS) => Math.round(world.durations[key] * world.timeScale),
    /** Successful mutating calls, by action (for exactly-once checks). */
    mutations(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const c of world.calls) if (c.ok && MUTATING.has(c.action)) out[c.action] = (out[c.action] ?? 0) + 1;
      return out;
    },
    keyArn: (region: string, keyId: string) => `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
    /** Moves every asynchronous state along to `now`. */
    settle(): void {
      const t = world.now();
      for (const k of world.keys.values())
        if (k.state === 'Creating' && k.readyAt !== undefined && t >= k.readyAt) k.state = 'Enabled';
      const enc = world.instance.encryption;
      if (enc.status === 'UPDATING' && enc.doneAt !== undefined && t >= enc.doneAt) {
        const key = enc.pendingArn ? world.findKey(world.instance.primaryRegion, enc.pendingArn) : undefined;
        if (key && key.state === 'Enabled' && grantsIdc(key.policy)) {
          Object.assign(enc, {
            status: 'ENABLED',
            keyType: 'CUSTOMER_MANAGED_KEY',
            kmsKeyArn: key.arn,
            reason: undefined,
            pendingArn: undefined,
          });
        } else {
          Object.assign(enc, {
            status: 'UPDATE_FAILED',
            reason: key
              ? 'The KMS key policy does not allow IAM Identity Center (sso.amazonaws.com and identitystore.amazonaws.com) to use the key'
              : 'KMS key not found',
            pendingArn: undefined,
          });
        }
      }
      for (const [name, r] of world.instance.regions) {
        if (r.doneAt === undefined || t < r.doneAt) continue;
        if (r.status === 'ADDING') Object.assign(r, { status: 'ACTIVE', doneAt: undefined });
        else if (r.status === 'REMOVING') world.instance.regions.delete(name);
      }
    },
    findKey(region: string, id: string): Key | undefined {
      let keyId = id;
      if (id.startsWith('alias/')) keyId = world.aliases.get(`${region}/${id}`) ?? '';
      else if (id.startsWith('arn:aws:kms:')) {
        const [, , , arnRegion, , rest] = id.split(':');
        if (arnRegion !== region) return undefined;
        keyId = (rest ?? '').replace(/^key\//, '');
      }
      return world.keys.get(`${region}/${keyId}`);
    },
    /** Adds a key directly (test set-up: e.g. an existing single-Region customer managed key). */
    addKey(k: Partial<Key> & { region: string }): Key {
      const keyId = k.keyId ?? (k.multiRegion ? `mrk-${hex(16)}` : `${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}`);
      const key: Key = {
        keyId,
        arn: world.keyArn(k.region, keyId),
        state: 'Enabled',
        multiRegion: false,
        primaryRegion: k.region,
        policy: '{}',
        tags: [],
        description: '',
        creationDate: world.now(),
        rotation: false,
        keyManager: 'CUSTOMER',
        ...k,
      };
      world.keys.set(`${k.region}/${keyId}`, key);
      return key;
    },
    /**
     * The person at the sign-in link: signs in with the IdP as `user` (or the IdP refuses them).
     * Returns false when no sign-in waits for that code.
     */
    completeSignIn(userCode: string, user: string, deny = false): boolean {
      const d = [...world.signIn.devices.values()].find((x) => x.userCode === userCode && x.status === 'pending');
      if (!d) return false;
      Object.assign(d, { status: deny ? 'denied' : 'approved', user });
      return true;
    },
  };
  return world;
}

export type World = ReturnType<typeof createWorld>;

export const MUTATING = new Set([
  'CreateKey',
  'ReplicateKey',
  'PutKeyPolicy',
  'CreateAlias',
  'EnableKeyRotation',
  'TagResource',
  'ScheduleKeyDeletion',
  'UpdateInstance',
  'AddRegion',
  'RemoveRegion',
]);

/** Does a key policy let Identity Center use the key? (Both service principals, the use actions.) */
export function grantsIdc(policy: string): boolean {
  try {
    const doc = JSON.parse(policy) as {
      Statement?: { Effect?: string; Principal?: { Service?: string | string[] }; Action?: string | string[] }[];
    };
    const services = new Set<string>();
    const actions = new Set<string>();
    for (const st of doc.Statement ?? []) {
      if (st.Effect !== 'Allow') continue;
      const svc = ([] as string[]).concat(st.Principal?.Service ?? []);
      if (!svc.length) continue;
      svc.forEach((s) => services.add(s));
      ([] as string[]).concat(st.Action ?? []).forEach((a) => actions.add(a));
    }
    return (
      services.has('sso.amazonaws.com') &&
      services.has('identitystore.amazonaws.com') &&
      actions.has('kms:Decrypt') &&
      actions.has('kms:DescribeKey')
    );
  } catch {
    return false;
  }
}
