import { botIamPolicy, type PolicyDocument } from '../../src/iam-policy';
import { identityCenterKeyPolicy } from '../../src/steps';
import { awsHarness } from '../support/aws-harness';
import { enforce, evaluate } from '../support/iam-authorizer';

/**
 * The generated IAM policy, evaluated (not grepped) with an offline IAM evaluator: every call the
 * workflows make against the emulator passes through it, and the dangerous neighbours are denied.
 */
const { setup, addRegion, approveAll, runUntilPerson, useMultiRegionKey } = awsHarness();

const policyFor = (world: { accountId: string; instance: { arn: string } }): PolicyDocument =>
  botIamPolicy({
    accountId: world.accountId,
    primaryRegion: 'us-east-1',
    allowedRegions: ['eu-central-1', 'eu-west-1', 'eu-west-2'],
    table: 'idc-bot',
    keyAlias: 'alias/identity-center',
    instanceArn: world.instance.arn,
  });

describe('the generated IAM policy, evaluated against every call the workflows make', () => {
  it('allows the whole add-region runbook from an AWS owned key', async () => {
    const { world, engine, clients } = await setup();
    const decisions = enforce(world, policyFor(world));
    const { run } = await addRegion(engine);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    const checked = new Set(decisions.map((d) => d.action));
    for (const a of ['kms:CreateKey', 'kms:TagResource', 'kms:ReplicateKey', 'kms:CreateAlias', 'sso:UpdateInstance'])
      expect(checked).toContain(a);
    expect(decisions.filter((d) => d.result !== 'Allowed')).toEqual([]);
    clients.destroy();
  });

  it('allows removing a Region and deleting the replica the bot created', async () => {
    const { world, engine, clients } = await setup();
    const decisions = enforce(world, policyFor(world));
    expect((await addRegion(engine, 'eu-west-2')).run.status).toBe('succeeded');
    const run = await engine.start({
      workflowId: 'remove-region',
      input: { region: 'eu-west-2', homeRegion: 'us-east-1', deleteReplicaKey: true, deletionWindowDays: 7 },
      requester: 'UREQ',
    });
    let now = await runUntilPerson(engine, run.id);
    await approveAll(engine, now);
    now = await runUntilPerson(engine, run.id);
    await approveAll(engine, now);
    now = await runUntilPerson(engine, run.id);
    expect(now.error).toBeUndefined();
    expect(now.status).toBe('succeeded');
    expect(world.mutations().ScheduleKeyDeletion).toBe(1);
    expect(decisions.filter((d) => d.result !== 'Allowed')).toEqual([]);
    clients.destroy();
  });

  it('refuses to rewrite the policy of a replica the bot did not create, and says why', async () => {
    const { world, engine, clients } = await setup();
    // The replica lost Identity Center's statements; its account administration statement remains.
    const admin = (JSON.parse(identityCenterKeyPolicy(world.accountId)) as { Statement: unknown[] }).Statement[0];
    useMultiRegionKey(world, 'eu-central-1', JSON.stringify({ Version: '2012-10-17', Statement: [admin] }));
    enforce(world, policyFor(world));
    const { run } = await addRegion(engine);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('kms:PutKeyPolicy');
    expect(run.error).toContain('CreatedBy=idc-bot');
    expect(world.mutations().PutKeyPolicy).toBeUndefined();
    clients.destroy();
  });

  it('denies the dangerous neighbours of what the bot does', async () => {
    const { world, clients } = await setup();
    const policy = policyFor(world);
    const acct = world.accountId;
    const keyPolicy = JSON.parse(identityCenterKeyPolicy(acct)) as unknown;
    const foreign = { resourcePolicy: keyPolicy, resource: `arn:aws:kms:us-east-1:${acct}:key/mrk-foreign` };
    const mrk = { 'kms:MultiRegion': 'true', 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT' };
    const ours = { 'aws:ResourceTag/CreatedBy': 'idc-bot' };
    const createKey = {
      'aws:RequestedRegion': 'us-east-1',
      ...mrk,
      'kms:KeyOrigin': 'AWS_KMS',
      'aws:RequestTag/CreatedBy': 'idc-bot',
      'aws:TagKeys': ['CreatedBy'],
    };
    const cases: [string, Parameters<typeof evaluate>[2], string][] = [
      [
        'PutKeyPolicy on a key the bot did not create',
        { action: 'kms:PutKeyPolicy', ...foreign, context: { 'aws:RequestedRegion': 'us-east-1', ...mrk } },
        'ImplicitlyDenied',
      ],
      [
        'ScheduleKeyDeletion of a primary key, even one the bot created',
        {
          action: 'kms:ScheduleKeyDeletion',
          ...foreign,
          context: {
            ...mrk,
            ...ours,
            'kms:MultiRegionKeyType': 'PRIMARY',
            'kms:ScheduleKeyDeletionPendingWindowInDays': '30',
          },
        },
        'ImplicitlyDenied',
      ],
      [
        'TagResource on a foreign key with tags other than the bot’s',
        {
          action: 'kms:TagResource',
          ...foreign,
          context: { 'aws:RequestTag/Owner': 'me', 'aws:TagKeys': ['Owner'] },
        },
        'ImplicitlyDenied',
      ],
      [
        'CreateKey of a single-Region key',
        { action: 'kms:CreateKey', resource: '*', context: { ...createKey, 'kms:MultiRegion': 'false' } },
        'ImplicitlyDenied',
      ],
      [
        'CreateKey of an asymmetric key',
        { action: 'kms:CreateKey', resource: '*', context: { ...createKey, 'kms:KeySpec': 'RSA_4096' } },
        'ImplicitlyDenied',
      ],
      [
        'CreateKey in a Region that is not allowed',
        { action: 'kms:CreateKey', resource: '*', context: { ...createKey, 'aws:RequestedRegion': 'ap-southeast-2' } },
        'ImplicitlyDenied',
      ],
      [
        'CreateKey bypassing the lockout safety check',
        {
          action: 'kms:CreateKey',
          resource: '*',
          context: { ...createKey, 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
        },
        'ExplicitlyDenied',
      ],
      [
        'ReplicateKey to a Region that is not allowed',
        {
          action: 'kms:ReplicateKey',
          ...foreign,
          context: { ...mrk, 'kms:MultiRegionKeyType': 'PRIMARY', 'kms:ReplicaRegion': 'ap-southeast-2' },
        },
        'ImplicitlyDenied',
      ],
      [
        'CreateAlias with another alias name',
        { action: 'kms:CreateAlias', resource: `arn:aws:kms:us-east-1:${acct}:alias/payments`, context: {} },
        'ImplicitlyDenied',
      ],
      [
        'AddRegion on an instance whose primary is elsewhere',
        {
          action: 'sso:AddRegion',
          resource: world.instance.arn,
          context: { 'aws:RequestedRegion': 'eu-west-1', 'sso:PrimaryRegion': 'eu-west-1' },
        },
        'ImplicitlyDenied',
      ],
      [
        'DeleteTable on the bot’s own table',
        {
          action: 'dynamodb:DeleteTable',
          resource: `arn:aws:dynamodb:eu-central-1:${acct}:table/idc-bot`,
          context: {},
        },
        'ImplicitlyDenied',
      ],
      [
        'PutItem on another table',
        { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:eu-central-1:${acct}:table/payments`, context: {} },
        'ImplicitlyDenied',
      ],
    ];
    const results = await Promise.all(cases.map(async ([name, req]) => [name, await evaluate(policy, acct, req)]));
    expect(Object.fromEntries(results)).toEqual(Object.fromEntries(cases.map(([name, , want]) => [name, want])));
    // And their allowed twins, so that each denial above is the condition's doing, not a typo.
    const allowed = await Promise.all([
      evaluate(policy, acct, { action: 'kms:CreateKey', resource: '*', context: createKey }),
      evaluate(policy, acct, {
        action: 'kms:PutKeyPolicy',
        ...foreign,
        context: { 'aws:RequestedRegion': 'us-east-1', ...mrk, ...ours },
      }),
      evaluate(policy, acct, {
        action: 'dynamodb:PutItem',
        resource: `arn:aws:dynamodb:eu-central-1:${acct}:table/idc-bot`,
        context: {},
      }),
    ]);
    expect(allowed).toEqual(['Allowed', 'Allowed', 'Allowed']);
    clients.destroy();
  });
});
