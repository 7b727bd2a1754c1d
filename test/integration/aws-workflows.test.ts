import { detachedContext } from '../../src/engine';
import { identityCenterKeyPolicy } from '../../src/steps';
import { readHealth } from '../../src/health';
import type { World } from '../../dev/emulators/aws/world';
import { awsHarness } from '../support/aws-harness';

const { clock, setup, useMultiRegionKey, addActiveRegion, runUntilPerson, approveAll, addRegion } = awsHarness();

describe('add-region and remove-region against the AWS emulator and DynamoDB Local', () => {
  it('runs the whole add-region runbook from an AWS owned key, each mutation exactly once', async () => {
    const { world, engine, clients } = await setup();
    const { run, plan } = await addRegion(engine);
    expect(plan.changes).toHaveLength(4);
    expect(plan.changes[0]).toMatch(/Create a multi-Region key alias\/identity-center in us-east-1/);
    expect(run.status).toBe('succeeded');
    expect(world.mutations()).toEqual({
      CreateKey: 1,
      CreateAlias: 2,
      EnableKeyRotation: 1,
      ReplicateKey: 1,
      UpdateInstance: 1,
      AddRegion: 1,
    });
    expect(world.instance.regions.get('eu-central-1')?.status).toBe('ACTIVE');
    expect(world.instance.encryption).toMatchObject({ keyType: 'CUSTOMER_MANAGED_KEY', status: 'ENABLED' });
    const verify = run.steps.verify?.output as { passed: boolean; checks: { check: string; ok: boolean }[] };
    expect(verify.passed).toBe(true);
    expect(verify.checks.map((c) => c.check)).toEqual([
      'DescribeRegion in eu-central-1',
      'Instance readable in eu-central-1',
      'Identity Store users match',
      'Identity Store groups match',
      'Key replica in eu-central-1',
      'Key policy parity',
    ]);
    // The verification read the new Region through its own endpoint.
    expect(world.calls.some((c) => c.action === 'ListUsers' && c.region === 'eu-central-1')).toBe(true);
    const idp = run.steps['update-idp']?.output as { instructions: string };
    expect(idp.instructions).toContain(`https://${world.instance.id}.eu-central-1.portal.amazonaws.com`);
    expect(idp.instructions).toContain('Other Requestable SSO URLs');
    expect(idp.instructions).toContain('Add reply URL');
    clients.destroy();
  });

  it('completes with throttling on every AWS action, still mutating exactly once', async () => {
    const { world, engine, clients } = await setup();
    // Every action answers ThrottlingException on its first call (and 500 on its second, for the mutating ones).
    const actions = [
      'ListInstances',
      'DescribeInstance',
      'DescribeKey',
      'GetKeyPolicy',
      'CreateKey',
      'CreateAlias',
      'EnableKeyRotation',
      'ReplicateKey',
      'UpdateInstance',
      'ListRegions',
      'AddRegion',
      'DescribeRegion',
      'ListUsers',
      'ListGroups',
    ];
    for (const action of actions)
      world.faults.fail.push({ action, remaining: 1, type: 'ThrottlingException', status: 400 });
    for (const action of ['CreateKey', 'ReplicateKey', 'UpdateInstance', 'AddRegion'])
      world.faults.fail.push({ action, remaining: 1, type: 'InternalServerException', status: 500 });
    const { run } = await addRegion(engine, 'eu-west-1');
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(world.faults.fail.every((f) => f.remaining === 0)).toBe(true);
    expect(world.mutations()).toMatchObject({ CreateKey: 1, ReplicateKey: 1, UpdateInstance: 1, AddRegion: 1 });
    const events = await engine.events(run.id);
    expect(events.some((e) => e.type === 'step_retrying' && /ThrottlingException/.test(e.message))).toBe(true);
    clients.destroy();
  });

  it('reuses a multi-Region key and resets the drifted policy of an existing replica', async () => {
    const { world, engine, clients } = await setup();
    const { primary, policy } = useMultiRegionKey(world, 'eu-central-1', '{"Version":"2012-10-17","Statement":[]}');
    const { run, plan } = await addRegion(engine);
    expect(plan.changes).toEqual([
      "Reset the drifted key policy of the replica in eu-central-1 to the primary's",
      'Add Region eu-central-1 (AddRegion, sent to us-east-1) and wait until it is ACTIVE',
    ]);
    expect(plan.skips).toContain(`Identity Center already uses multi-Region key ${primary.keyId}: reused`);
    expect(run.status).toBe('succeeded');
    // The reused key keeps its own alias; only the replica gets one in its Region.
    expect(world.mutations()).toEqual({ PutKeyPolicy: 1, CreateAlias: 1, AddRegion: 1 });
    expect(world.findKey('eu-central-1', primary.keyId)?.policy).toBe(policy);
    clients.destroy();
  });

  it('finishes a plan with nothing to change at once: no gate, no IdP task, the lock free again', async () => {
    const { world, engine, clients } = await setup();
    useMultiRegionKey(world, 'us-west-2');
    addActiveRegion(world, 'us-west-2');
    const started = await engine.start({
      workflowId: 'add-region',
      input: { region: 'us-west-2', homeRegion: 'us-east-1' },
      requester: 'UREQ',
      reason: 'again',
    });
    const run = await runUntilPerson(engine, started.id);
    const plan = (run.steps.preflight?.output as { plan: { changes: string[]; skips: string[] } }).plan;
    expect(plan.changes).toEqual([]);
    expect(plan.skips).toContain('us-west-2 is already ACTIVE on the instance');
    expect(run.status).toBe('succeeded');
    expect(run.outcome).toMatch(
      /^Nothing to change: .*us-west-2 is already ACTIVE.*Check the Region with \/idc verify us-west-2$/,
    );
    expect(run.steps.approve?.status).toBe('skipped');
    expect(run.steps['update-idp']?.status).toBe('skipped');
    expect(world.mutations()).toEqual({});
    const events = await engine.events(run.id);
    expect(events.map((e) => e.type)).not.toContain('approval_requested');
    expect(events.at(-1)).toMatchObject({ type: 'run_succeeded', message: run.outcome });
    // The instance lock went with it: another change can start at once.
    await expect(
      engine.start({
        workflowId: 'remove-region',
        input: { region: 'us-west-2', homeRegion: 'us-east-1' },
        requester: 'UREQ',
      }),
    ).resolves.toMatchObject({ status: 'running' });
    clients.destroy();
  });

  it('lets another change start while a workflow waits on its IdP task, but never one for the same Region', async () => {
    const { world, engine, clients } = await setup();
    // A: add eu-central-1, approved, ACTIVE, now parked on the IdP task (the instance lock given up).
    const a = await engine.start({
      workflowId: 'add-region',
      input: { region: 'eu-central-1', homeRegion: 'us-east-1' },
      requester: 'UREQ',
      reason: 'DR',
    });
    await approveAll(engine, await runUntilPerson(engine, a.id));
    const parked = await runUntilPerson(engine, a.id);
    expect(parked.status).toBe('awaiting_task');
    expect(await engine.lockHolder('idc:default:us-east-1')).toBeUndefined();
    expect(await engine.lockHolder('idc:default:us-east-1:region:eu-central-1')).toBe(a.id);
    // The same Region: refused, naming the workflow that holds it.
    await expect(
      engine.start({
        workflowId: 'remove-region',
        input: { region: 'eu-central-1', homeRegion: 'us-east-1' },
        requester: 'UREQ',
      }),
    ).rejects.toThrow(`Another workflow (${a.id}) concerns eu-central-1 and has not finished`);
    // B: another Region runs to success meanwhile, holding the instance lock while it changes AWS.
    const b = await engine.start({
      workflowId: 'add-region',
      input: { region: 'eu-west-1', homeRegion: 'us-east-1' },
      requester: 'UREQ',
      reason: 'DR 2',
    });
    expect(await engine.lockHolder('idc:default:us-east-1')).toBe(b.id);
    await expect(
      engine.start({
        workflowId: 'add-region',
        input: { region: 'eu-north-1', homeRegion: 'us-east-1' },
        requester: 'UREQ',
      }),
    ).rejects.toThrow(`Another workflow (${b.id}) is already changing this Identity Center instance`);
    await approveAll(engine, await runUntilPerson(engine, b.id));
    expect((await runUntilPerson(engine, b.id)).status).toBe('awaiting_task');
    await engine.confirmTask({ runId: b.id, user: 'UREQ' });
    await engine.stop();
    expect((await runUntilPerson(engine, b.id)).status).toBe('succeeded');
    expect(world.instance.regions.get('eu-west-1')?.status).toBe('ACTIVE');
    // A finishes later; both Region locks are gone.
    await engine.confirmTask({ runId: a.id, user: 'UREQ' });
    await engine.stop();
    expect((await runUntilPerson(engine, a.id)).status).toBe('succeeded');
    for (const key of [
      'idc:default:us-east-1',
      'idc:default:us-east-1:region:eu-central-1',
      'idc:default:us-east-1:region:eu-west-1',
    ])
      expect(await engine.lockHolder(key)).toBeUndefined();
    clients.destroy();
  });

  it('removes a Region and schedules its replica deletion behind a second approval', async () => {
    const { world, engine, clients } = await setup();
    const { primary } = useMultiRegionKey(world, 'eu-west-2');
    addActiveRegion(world, 'eu-west-2');
    const run = await engine.start({
      workflowId: 'remove-region',
      input: { region: 'eu-west-2', homeRegion: 'us-east-1', deleteReplicaKey: true, deletionWindowDays: 7 },
      requester: 'UREQ',
    });
    let now = await runUntilPerson(engine, run.id);
    await approveAll(engine, now);
    now = await runUntilPerson(engine, run.id);
    expect(now.status).toBe('awaiting_approval');
    expect(now.definition.steps[now.cursor]?.id).toBe('approve-key-deletion');
    expect(world.instance.regions.has('eu-west-2')).toBe(false);
    expect(world.mutations().ScheduleKeyDeletion).toBeUndefined();
    await approveAll(engine, now);
    now = await runUntilPerson(engine, run.id);
    expect(now.status).toBe('succeeded');
    expect(world.mutations()).toEqual({ RemoveRegion: 1, ScheduleKeyDeletion: 1 });
    expect(world.findKey('eu-west-2', primary.keyId)?.state).toBe('PendingDeletion');
    expect(world.findKey('us-east-1', primary.keyId)?.state).toBe('Enabled');
    clients.destroy();
  });

  it('fails with the missing IAM action when access is denied, and changes nothing after it', async () => {
    const { world, engine, clients } = await setup();
    world.faults.deny.add('kms:CreateKey');
    const { run } = await addRegion(engine);
    expect(run.status).toBe('failed');
    expect(run.error).toContain("The bot's role is missing the IAM permission kms:CreateKey");
    expect(world.mutations()).toEqual({});
    clients.destroy();
  });

  it.each([
    [
      'the Region quota is reached',
      (w: World) => ['eu-west-1', 'eu-west-2'].forEach((name) => addActiveRegion(w, name)),
      'eu-central-1',
      'already has 3 Regions, the quota (3, including the primary): request an increase of quota L-D519A297',
    ],
    ['the Region is in another partition', () => undefined, 'cn-north-1', 'multi-Region keys cannot cross partitions'],
    [
      'an encryption change is in progress',
      (w: World) => Object.assign(w.instance.encryption, { status: 'UPDATING', doneAt: clock.now() + 1e12 }),
      'eu-central-1',
      'An encryption key change is in progress',
    ],
    [
      'the target is an opt-in Region the account has not enabled',
      () => undefined,
      'eu-south-1',
      'eu-south-1 is DISABLED for this account: enable it',
    ],
    [
      'the instance is an account instance',
      (w: World) => (w.ownerAccountId = '444455556666'),
      'eu-central-1',
      "not by the organization's management account 111122223333: it is an account instance",
    ],
    [
      'the account is not in an organization',
      (w: World) => (w.organization = undefined),
      'eu-central-1',
      'This account is not in AWS Organizations',
    ],
  ])('fails preflight when %s, saying what to do', async (_, arrange, region, message) => {
    const { world, engine, clients } = await setup();
    arrange(world);
    const run = await engine.start({
      workflowId: 'add-region',
      input: { region, homeRegion: 'us-east-1' },
      requester: 'UREQ',
    });
    const now = await runUntilPerson(engine, run.id);
    expect(now.status).toBe('failed');
    expect(now.error).toContain(message);
    clients.destroy();
  });

  it('reads the Region quota from Service Quotas, and accepts an opt-in Region once enabled', async () => {
    const { world, engine, clients } = await setup();
    ['eu-west-1', 'eu-west-2'].forEach((name) => addActiveRegion(world, name));
    useMultiRegionKey(world, 'eu-west-1');
    world.quota = 5; // raised in Service Quotas
    world.enabledRegions.add('eu-south-1');
    const run = await engine.start({
      workflowId: 'add-region',
      input: { region: 'eu-south-1', homeRegion: 'us-east-1' },
      requester: 'UREQ',
    });
    const now = await runUntilPerson(engine, run.id);
    expect(now.status).toBe('awaiting_approval');
    expect(now.steps.preflight?.output).toMatchObject({ orgId: 'o-exampleorg1' });
    expect(
      world.calls
        .filter((c) => ['GetServiceQuota', 'GetRegionOptStatus', 'DescribeOrganization'].includes(c.action))
        .map((c) => `${c.action}@${c.region}`)
        .sort(),
    ).toEqual(['DescribeOrganization@us-east-1', 'GetRegionOptStatus@us-east-1', 'GetServiceQuota@us-east-1']);
    clients.destroy();
  });

  it('runs each mutating step twice without a second mutation', async () => {
    const { world, registry, clients } = await setup();
    const ctx = detachedContext({ runId: 'r', stepId: 's', idempotencyKey: 'r#s', now: clock.now });
    const twice = async (kind: string, input: Record<string, unknown>) => {
      const step = registry.get(kind)!;
      const before = { ...world.mutations() };
      const first = await step.run(input, ctx);
      const afterFirst = { ...world.mutations() };
      clock.advance(120_000); // let asynchronous states settle between the two runs
      const second = await step.run(input, { ...ctx, attempt: 2 });
      expect(world.mutations()).toEqual(afterFirst);
      expect(afterFirst).not.toEqual(before);
      return { first, second };
    };
    const policy = identityCenterKeyPolicy(world.accountId);
    const primary = world.addKey({ region: 'us-east-1', multiRegion: true, role: 'PRIMARY', policy });
    const inst = { instanceArn: world.instance.arn, primaryRegion: 'us-east-1' };
    await twice('kms.replicate-key', { keyArn: primary.arn, region: 'eu-north-1', keyAlias: 'alias/identity-center' });
    await twice('idc.set-encryption', { ...inst, keyArn: primary.arn });
    await twice('idc.add-region', { ...inst, region: 'eu-north-1' });
    await twice('idc.remove-region', { ...inst, region: 'eu-north-1' });
    const replicaArn = world.findKey('eu-north-1', primary.keyId)!.arn;
    await twice('kms.schedule-replica-deletion', { keyArn: replicaArn, region: 'eu-north-1', days: 7 });
    clients.destroy();
  });

  it('does not repeat a mutation when a step runs again after success', async () => {
    const { world, registry, clients } = await setup();
    const kind = registry.get('kms.ensure-multi-region-key')!;
    const ctx = detachedContext({ runId: 'r', stepId: 's', idempotencyKey: 'r#s', now: clock.now });
    const input = {
      primaryRegion: 'us-east-1',
      accountId: world.accountId,
      currentKeyArn: null,
      keyAlias: 'alias/identity-center',
    };
    const first = await kind.run(input, ctx);
    const second = await kind.run(input, { ...ctx, attempt: 2 });
    expect((second.output as { keyArn: string }).keyArn).toBe((first.output as { keyArn: string }).keyArn);
    expect(world.mutations().CreateKey).toBe(1);
    clients.destroy();
  });

  it('says when it would reuse the key behind the alias, and refuses one that grants more than Identity Center needs', async () => {
    const { world, registry } = await setup();
    const preflight = registry.get('idc.preflight')!;
    const plan = () =>
      preflight.run(
        { operation: 'add', homeRegion: 'us-east-1', region: 'eu-central-1', keyAlias: 'alias/identity-center' },
        detachedContext({ now: clock.now }),
      );
    const expected = identityCenterKeyPolicy(world.accountId, 'o-exampleorg1');
    const clean = world.addKey({ region: 'us-east-1', multiRegion: true, role: 'PRIMARY', policy: expected });
    world.aliases.set('us-east-1/alias/identity-center', clean.keyId);
    const reused = (await plan()).output as { plan: { changes: string[] } };
    expect(reused.plan.changes[0]).toMatch(new RegExp(`Reuse existing multi-Region key ${clean.keyId}`));
    // The same alias on a key whose policy also lets another account do anything with it.
    const doc = JSON.parse(expected) as { Statement: object[] };
    doc.Statement.push({
      Sid: 'Backdoor',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999999999999:root' },
      Action: 'kms:*',
      Resource: '*',
    });
    const foreign = world.addKey({
      region: 'us-east-1',
      multiRegion: true,
      role: 'PRIMARY',
      policy: JSON.stringify(doc),
    });
    world.aliases.set('us-east-1/alias/identity-center', foreign.keyId);
    await expect(plan()).rejects.toThrow(
      /grants more than Identity Center needs \(AWS:arn:aws:iam::999999999999:root → kms:\*\)/,
    );
  });

  it('with a delegated administrator (IDC_DELEGATED_ADMIN_ACCOUNT): the key names both accounts as administrators, and such a key is adopted and not reported', async () => {
    const keyPolicy = { delegatedAdminAccountId: '444455556666' };
    const { world, registry, clients } = await setup(undefined, keyPolicy);
    const ensure = registry.get('kms.ensure-multi-region-key')!;
    const input = ensure.input.parse({
      primaryRegion: 'us-east-1',
      accountId: world.accountId,
      keyAlias: 'alias/identity-center',
      orgId: 'o-exampleorg1',
    });
    const { keyArn } = (await ensure.run(input, detachedContext({ now: clock.now }))).output as { keyArn: string };
    const created = world.findKey('us-east-1', keyArn.split('/').pop() as string);
    const admins = (JSON.parse(String(created?.policy)) as { Statement: { Sid: string; Principal: unknown }[] })
      .Statement[0];
    expect(admins).toMatchObject({
      Sid: 'AccountAdministration',
      Principal: { AWS: [`arn:aws:iam::${world.accountId}:root`, 'arn:aws:iam::444455556666:root'] },
    });
    // Preflight adopts that key (its policy is the expected one) …
    const preflight = registry.get('idc.preflight')!;
    const plan = await preflight.run(
      { operation: 'add', homeRegion: 'us-east-1', region: 'eu-central-1', keyAlias: 'alias/identity-center' },
      detachedContext({ now: clock.now }),
    );
    expect((plan.output as { plan: { changes: string[] } }).plan.changes[0]).toMatch(/Reuse existing multi-Region key/);
    // … and the watcher does not report the delegated administrator as a grant beyond Identity Center's.
    Object.assign(world.instance.encryption, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: keyArn, status: 'ENABLED' });
    const seen = await readHealth(clients, { homeRegion: 'us-east-1', keyPolicy });
    expect(seen.keys[0]?.extraGrants).toBeUndefined();
    const unconfigured = await readHealth(clients, { homeRegion: 'us-east-1' });
    expect(unconfigured.keys[0]?.extraGrants).toEqual(['AWS:arn:aws:iam::444455556666:root → kms:*']);
    clients.destroy();
  });

  it('enforces IDC_ALLOWED_REGIONS in preflight (the plan and the workflow), given as a list or as its text', async () => {
    const { registry } = await setup();
    const preflight = registry.get('idc.preflight')!;
    const plan = (region: string) =>
      preflight.run(
        preflight.input.parse({
          operation: 'add',
          homeRegion: 'us-east-1',
          region,
          keyAlias: 'alias/identity-center',
          allowedRegions: 'eu-west-1, eu-central-1',
        }),
        detachedContext({ now: clock.now }),
      );
    await expect(plan('ap-southeast-2')).rejects.toThrow(
      /ap-southeast-2 is not in IDC_ALLOWED_REGIONS \(eu-west-1, eu-central-1\)/,
    );
    await expect(plan('eu-west-1')).resolves.toBeDefined();
  });

  it('logs each workflow event as one structured line, and tags its AWS calls with the run id for CloudTrail', async () => {
    const records: Record<string, unknown>[] = [];
    const at = (level: string) => (o: object, msg?: string) => void records.push({ level, ...o, msg });
    const { world, engine } = await setup({
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      debug: at('debug'),
    });
    const { run } = await addRegion(engine);
    expect(run.status).toBe('succeeded');
    const mine = records.filter((r) => r.runId === run.id && r.level !== 'debug');
    for (const r of mine)
      expect(r).toMatchObject({ workflow: 'add-region', event: expect.any(String), actor: expect.any(String) });
    const events = mine.map((r) => `${String(r.event)}${r.step ? `:${String(r.step)}` : ''}`);
    const order = [
      'run_started',
      'step_succeeded:preflight',
      'approval_requested:approve',
      'approval_granted:approve',
      'step_started:ensure-key',
      'step_intent:ensure-key',
      'step_succeeded:ensure-key',
      'step_succeeded:add-region',
      'task_requested:update-idp',
      'task_confirmed:update-idp',
      'run_succeeded',
    ];
    let last = -1;
    for (const e of order) {
      const i = events.indexOf(e, last + 1);
      expect([e, i]).not.toEqual([e, -1]);
      last = i;
    }
    expect(mine[0]).toMatchObject({
      event: 'run_started',
      actor: 'UREQ',
      input: expect.objectContaining({ region: 'eu-central-1' }),
    });
    const created = mine.find((r) => r.event === 'step_succeeded' && r.step === 'ensure-key') as {
      aws?: { action: string; requestId?: string }[];
      durationMs?: number;
    };
    expect(created.aws).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'KMS.CreateKey', requestId: expect.any(String) })]),
    );
    expect(created.durationMs).toEqual(expect.any(Number));
    // CloudTrail records the User-Agent: every call of the run carries its id.
    const createKey = world.calls.find((c) => c.action === 'CreateKey');
    expect(createKey?.userAgent).toContain(`idc-run/${run.id}`);
    expect(JSON.stringify(records)).not.toContain('AKIDEXAMPLE');
  });

  it('refuses to plan from an account that does not own the instance (a delegated administrator, say)', async () => {
    const { world, registry } = await setup();
    world.callerAccountId = '999988887777';
    const preflight = registry.get('idc.preflight')!;
    await expect(
      preflight.run(
        { operation: 'add', homeRegion: 'us-east-1', region: 'eu-central-1', keyAlias: 'alias/identity-center' },
        detachedContext({ now: clock.now }),
      ),
    ).rejects.toThrow(/calls AWS as account 999988887777, but the instance belongs to account 111122223333/);
  });
});
