import { join } from 'node:path';
import { createAwsClients } from '../../src/aws/clients';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { createEngine, isTerminal, loadWorkflows, type Logger, type Run } from '../../src/engine';
import { createStepRegistry, identityCenterKeyPolicy, type KeyPolicyOptions } from '../../src/steps';
import type { IdentityProvider } from '../../src/idp/port';
import { staticDirectory } from './directory';
import { freshStore } from './dynamo';
import { FakeClock } from './fake-clock';

/**
 * The AWS emulator, DynamoDB Local and an engine on simulated time, for suites that run whole
 * workflows: call `awsHarness()` at the top of a suite, then `h.setup()` in each test.
 */
export function awsHarness() {
  const clock = new FakeClock();
  const h = { clock, emu: undefined as unknown as AwsEmulator };

  beforeAll(async () => {
    h.emu = await startAwsEmulator({ now: clock.now, users: 250, groups: 30 });
    Object.assign(process.env, h.emu.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1',
    });
  });
  afterAll(() => h.emu.close());

  function resetWorld() {
    const w = h.emu.world;
    w.keys.clear();
    w.aliases.clear();
    w.calls.length = 0;
    w.faults.fail = [];
    w.faults.deny = new Set();
    w.authorize = undefined;
    w.quota = 3;
    w.ownerAccountId = w.accountId;
    w.callerAccountId = w.accountId;
    w.organization = { id: 'o-exampleorg1', managementAccountId: w.accountId };
    w.enabledRegions.delete('eu-south-1');
    Object.assign(w.instance.encryption, {
      keyType: 'AWS_OWNED_KMS_KEY',
      kmsKeyArn: undefined,
      status: 'ENABLED',
      reason: undefined,
    });
    for (const r of [...w.instance.regions.keys()]) if (r !== w.instance.primaryRegion) w.instance.regions.delete(r);
    return w;
  }
  type World = ReturnType<typeof resetWorld>;

  async function setup(logger?: Logger, keyPolicy: KeyPolicyOptions = {}, idp?: IdentityProvider) {
    const world = resetWorld();
    const clients = createAwsClients({ maxAttempts: 1 });
    const registry = createStepRegistry(clients, { keyPolicy, idp });
    const definitions = loadWorkflows(join(__dirname, '../../workflows'), { registry });
    const { store } = await freshStore(clock.now);
    const engine = createEngine({
      store,
      registry,
      definitions,
      directory: staticDirectory({ 'identity-admins': ['UA', 'UB', 'UC'] }),
      owner: 'r1',
      clock,
      random: () => 0,
      logger,
    });
    return { world, engine, clients, registry };
  }
  type Engine = Awaited<ReturnType<typeof setup>>['engine'];

  /** Identity Center on a multi-Region key with the IdC policy, and a replica in `replicaRegion`. */
  function useMultiRegionKey(world: World, replicaRegion: string, replicaPolicy?: string) {
    const policy = identityCenterKeyPolicy(world.accountId);
    const primary = world.addKey({ region: 'us-east-1', multiRegion: true, role: 'PRIMARY', policy });
    world.addKey({
      region: replicaRegion,
      keyId: primary.keyId,
      multiRegion: true,
      role: 'REPLICA',
      policy: replicaPolicy ?? policy,
    });
    Object.assign(world.instance.encryption, {
      keyType: 'CUSTOMER_MANAGED_KEY',
      kmsKeyArn: primary.arn,
      status: 'ENABLED',
    });
    return { primary, policy };
  }

  const addActiveRegion = (world: World, name: string) =>
    world.instance.regions.set(name, { name, status: 'ACTIVE', addedDate: clock.now() });

  /** Runs the workflow on simulated time until it needs a person or ends. */
  async function runUntilPerson(engine: Engine, runId: string, stepMs = 5000): Promise<Run> {
    for (let i = 0; i < 2000; i++) {
      await engine.tick();
      await engine.stop();
      const run = (await engine.get(runId)) as Run;
      if (isTerminal(run.status) || run.status === 'awaiting_approval' || run.status === 'awaiting_task') return run;
      clock.advance(stepMs);
    }
    throw new Error('workflow did not settle');
  }

  async function approveAll(engine: Engine, run: Run) {
    await engine.decide({ runId: run.id, user: 'UA', verdict: 'approve' });
    await engine.decide({ runId: run.id, user: 'UB', verdict: 'approve' });
  }

  async function addRegion(engine: Engine, region = 'eu-central-1') {
    const run = await engine.start({
      workflowId: 'add-region',
      input: { region, homeRegion: 'us-east-1' },
      requester: 'UREQ',
      reason: 'DR for EU',
    });
    let now = await runUntilPerson(engine, run.id);
    expect([now.status, now.error]).toEqual(['awaiting_approval', undefined]);
    const plan = (now.steps.preflight?.output as { plan: { changes: string[]; skips: string[] } }).plan;
    await approveAll(engine, now);
    now = await runUntilPerson(engine, run.id);
    if (now.status === 'awaiting_task') {
      await engine.confirmTask({ runId: run.id, user: 'UREQ' });
      await engine.stop();
      now = await runUntilPerson(engine, run.id);
    }
    return { run: now, plan };
  }

  return Object.assign(h, {
    resetWorld,
    setup,
    useMultiRegionKey,
    addActiveRegion,
    runUntilPerson,
    approveAll,
    addRegion,
  });
}
