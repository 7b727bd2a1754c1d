import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { World } from '../../dev/emulators/aws/world';
import type { PolicyDocument } from '../../src/iam-policy';

type Context = Record<string, string | string[]>;
export interface IamRequest {
  action: string;
  resource: string;
  context: Context;
  /** The resource's own policy (a KMS key policy), evaluated with the identity policy as AWS does. */
  resourcePolicy?: unknown;
}

export const BOT_ROLE = (accountId: string) => `arn:aws:iam::${accountId}:role/idc-bot`;

/** Evaluates one request against the bot's policy (and the key's policy for KMS): 'Allowed' or why not. */
export async function evaluate(policy: PolicyDocument, accountId: string, req: IamRequest): Promise<string> {
  const out = await runSimulation(
    {
      identityPolicies: [{ name: 'idc-bot', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: req.resourcePolicy as Simulation['resourcePolicy'],
      request: {
        principal: BOT_ROLE(accountId),
        action: req.action,
        resource: { resource: req.resource, accountId },
        contextVariables: req.context,
      },
    },
    {},
  );
  if (out.resultType === 'error') throw new Error(`${req.action} on ${req.resource}: ${out.errors.message}`);
  return out.overallResult;
}

const tagContext = (tags: { TagKey: string; TagValue: string }[] | undefined, prefix: string): Context =>
  Object.fromEntries((tags ?? []).map((t) => [`${prefix}/${t.TagKey}`, t.TagValue]));

/**
 * The IAM requests AWS authorizes for one call the bot makes to the emulator, from the public
 * Service Authorization Reference and the KMS developer guide (CreateKey with tags also needs
 * kms:TagResource on the Region's keys; ReplicateKey also needs kms:CreateKey and kms:TagResource
 * in the replica's Region).
 */
export function requestsFor(
  world: World,
  call: { action: string; region: string; body: Record<string, unknown> },
): IamRequest[] {
  const { action, region, body } = call;
  const acct = world.accountId;
  const base: Context = { 'aws:RequestedRegion': region };
  const keyFacts = (id: string | undefined, r = region) => {
    const k = id ? world.findKey(r, id) : undefined;
    if (!k) return undefined; // KMS answers NotFound before any policy matters
    const context: Context = {
      ...base,
      ...tagContext(k.tags, 'aws:ResourceTag'),
      'kms:MultiRegion': String(k.multiRegion),
      'kms:KeySpec': 'SYMMETRIC_DEFAULT',
      'kms:KeyUsage': 'ENCRYPT_DECRYPT',
      'kms:KeyOrigin': 'AWS_KMS',
      ...(k.role ? { 'kms:MultiRegionKeyType': k.role } : {}),
    };
    return { resource: k.arn, context, resourcePolicy: JSON.parse(k.policy) as unknown };
  };
  const tags = body.Tags as { TagKey: string; TagValue: string }[] | undefined;
  const tagging = (r: string): IamRequest[] =>
    tags?.length
      ? [
          {
            action: 'kms:TagResource',
            resource: `arn:aws:kms:${r}:${acct}:key/mrk-being-created`,
            // The new key's own policy is the one in the request.
            resourcePolicy: typeof body.Policy === 'string' ? (JSON.parse(body.Policy) as unknown) : undefined,
            context: {
              'aws:RequestedRegion': r,
              ...tagContext(tags, 'aws:RequestTag'),
              'aws:TagKeys': tags.map((t) => t.TagKey),
            },
          },
        ]
      : [];
  const creating = (r: string): IamRequest => ({
    action: 'kms:CreateKey',
    resource: '*',
    context: {
      'aws:RequestedRegion': r,
      'kms:MultiRegion': String(body.MultiRegion ?? true),
      'kms:KeySpec': String(body.KeySpec ?? 'SYMMETRIC_DEFAULT'),
      'kms:KeyUsage': String(body.KeyUsage ?? 'ENCRYPT_DECRYPT'),
      'kms:KeyOrigin': String(body.Origin ?? 'AWS_KMS'),
      'kms:BypassPolicyLockoutSafetyCheck': String(body.BypassPolicyLockoutSafetyCheck ?? false),
      ...tagContext(tags, 'aws:RequestTag'),
      ...(tags?.length ? { 'aws:TagKeys': tags.map((t) => t.TagKey) } : {}),
    },
  });
  if (action === 'kms:CreateKey') return [creating(region), ...tagging(region)];
  if (action === 'kms:ReplicateKey') {
    const target = String(body.ReplicaRegion);
    const primary = keyFacts(String(body.KeyId));
    if (!primary) return [];
    return [
      { action, ...primary, context: { ...primary.context, 'kms:ReplicaRegion': target } },
      creating(target),
      ...tagging(target),
    ];
  }
  if (action === 'kms:CreateAlias') {
    const alias = { action, resource: `arn:aws:kms:${region}:${acct}:${String(body.AliasName)}`, context: base };
    const target = keyFacts(String(body.TargetKeyId));
    return target ? [alias, { action, ...target }] : [];
  }
  if (action === 'kms:ScheduleKeyDeletion') {
    const k = keyFacts(String(body.KeyId));
    if (!k) return [];
    const days = { 'kms:ScheduleKeyDeletionPendingWindowInDays': String(body.PendingWindowInDays ?? 30) };
    return [{ action, ...k, context: { ...k.context, ...days } }];
  }
  if (action === 'kms:PutKeyPolicy') {
    const k = keyFacts(String(body.KeyId));
    if (!k) return [];
    const bypass = { 'kms:BypassPolicyLockoutSafetyCheck': String(body.BypassPolicyLockoutSafetyCheck ?? false) };
    return [{ action, ...k, context: { ...k.context, ...bypass } }];
  }
  if (action.startsWith('kms:') && body.KeyId) {
    const k = keyFacts(String(body.KeyId));
    return k ? [{ action, ...k }] : [];
  }
  if (action.startsWith('sso:') && body.InstanceArn && !/List/.test(action))
    return [
      {
        action,
        resource: String(body.InstanceArn),
        context: { ...base, 'sso:PrimaryRegion': world.instance.primaryRegion },
      },
    ];
  return [{ action, resource: '*', context: base }];
}

/** Installs an IAM check on the emulator: every call is evaluated against `policy`; denials are recorded. */
export function enforce(world: World, policy: PolicyDocument) {
  const decisions: { action: string; resource: string; result: string }[] = [];
  world.authorize = async (call) => {
    for (const req of requestsFor(world, call)) {
      const result = await evaluate(policy, world.accountId, req);
      decisions.push({ action: req.action, resource: req.resource, result });
      if (result !== 'Allowed') return `${req.action} on resource: ${req.resource} (${result})`;
    }
    return undefined;
  };
  return decisions;
}
