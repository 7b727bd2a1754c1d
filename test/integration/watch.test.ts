import { createAwsClients } from '../../src/aws/clients';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { identityCenterKeyPolicy } from '../../src/steps';
import { drillRegion, readHealth } from '../../src/health';
import { regionChoices } from '../../src/health/region-choices';
import { createStateStore } from '../../src/store';
import { createWatcher } from '../../src/watch';
import { freshStore } from '../support/dynamo';
import { FakeClock } from '../support/fake-clock';

const clock = new FakeClock();
let emu: AwsEmulator;
const clients = createAwsClients({ maxAttempts: 1 });

beforeAll(async () => {
  emu = await startAwsEmulator({ now: clock.now, users: 30, groups: 5 });
  Object.assign(process.env, emu.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  // A replicated instance: us-east-1 (primary) and eu-central-1, on a multi-Region key with a replica.
  const w = emu.world;
  const policy = identityCenterKeyPolicy(w.accountId);
  const key = w.addKey({ region: 'us-east-1', multiRegion: true, role: 'PRIMARY', policy });
  w.addKey({ region: 'eu-central-1', keyId: key.keyId, multiRegion: true, role: 'REPLICA', policy });
  Object.assign(w.instance.encryption, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: key.arn, status: 'ENABLED' });
  w.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: clock.now() });
});
afterAll(async () => {
  clients.destroy();
  await emu.close();
});

async function setup() {
  const { db, table } = await freshStore(clock.now);
  const sent: string[] = [];
  const make = () =>
    createWatcher({
      name: 'watch#us-east-1',
      homeRegion: 'us-east-1',
      read: () => readHealth(clients, { homeRegion: 'us-east-1', now: clock.now }),
      store: createStateStore(db, table),
      notify: async (text) => void sent.push(text),
      now: clock.now,
      intervalMs: 300_000,
      stuckAfterMs: 3 * 3_600_000,
    });
  return { sent, make };
}

const replica = () =>
  emu.world.findKey('eu-central-1', [...emu.world.keys.values()].find((k) => k.role === 'PRIMARY')!.keyId)!;

describe('replication watch against the AWS emulator and DynamoDB Local', () => {
  it('alerts once per drift, across restarts and two processes, and once when it clears', async () => {
    const { sent, make } = await setup();
    const a = make();
    const first = await a.check();
    expect(first.checked).toBe(true);
    expect(first.state.conditions).toEqual({});
    expect(sent).toEqual([]);

    const good = replica().policy;
    replica().policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        ...JSON.parse(good).Statement,
        {
          Sid: 'Extra',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/x' },
          Action: 'kms:Decrypt',
          Resource: '*',
        },
      ],
    });
    await a.check(true);
    expect(sent).toEqual([
      expect.stringMatching(/^🔴 The policy of the key replica in eu-central-1 differs from the primary key's/),
      expect.stringMatching(
        /^🔴 The policy of the key replica in eu-central-1 grants more than Identity Center needs: AWS:arn:aws:iam::111122223333:role\/x → kms:Decrypt/,
      ),
    ]);
    await a.check(true);
    // A restart (a new watcher on the same table) and a second process checking at the same time repeat nothing.
    const b = make();
    const c = make();
    await Promise.all([b.check(true), c.check(true)]);
    expect(sent).toHaveLength(2);

    replica().policy = good;
    await Promise.all([b.check(true), c.check(true)]);
    expect(sent).toHaveLength(4);
    expect(sent[2]).toMatch(
      /^✅ Recovered \(no longer the case\): The policy of the key replica in eu-central-1 differs/,
    );
  });

  it.each([
    [
      'a disabled replica',
      () => (replica().state = 'Disabled'),
      () => (replica().state = 'Enabled'),
      /key replica in eu-central-1 is disabled: .*aws kms enable-key/,
    ],
    [
      'a replica scheduled for deletion',
      () => Object.assign(replica(), { state: 'PendingDeletion', deletionDate: clock.now() + 7 * 86_400_000 }),
      () => Object.assign(replica(), { state: 'Enabled', deletionDate: undefined }),
      /scheduled for deletion on \d{4}-\d\d-\d\d: .*cancel-key-deletion/,
    ],
    [
      'a replica policy that no longer grants Identity Center',
      () => (replica().policy = '{"Version":"2012-10-17","Statement":[]}'),
      () => (replica().policy = identityCenterKeyPolicy(emu.world.accountId)),
      /no longer lets Identity Center use it/,
    ],
    [
      'a Region that stopped answering',
      () => emu.world.faults.outage.add('eu-central-1'),
      () => emu.world.faults.outage.delete('eu-central-1'),
      /eu-central-1 stopped answering .*run \/idc drill eu-central-1/,
    ],
    [
      'a Region stuck in ADDING',
      () =>
        emu.world.instance.regions.set('ap-south-1', {
          name: 'ap-south-1',
          status: 'ADDING',
          addedDate: clock.now() - 4 * 3_600_000,
        }),
      () => emu.world.instance.regions.delete('ap-south-1'),
      /ap-south-1 has been ADDING for 240 min/,
    ],
    [
      'the primary Region not answering',
      () => emu.world.faults.outage.add('us-east-1'),
      () => emu.world.faults.outage.delete('us-east-1'),
      /Identity Center did not answer in us-east-1/,
    ],
  ])('detects %s once, and its recovery once', async (_, breakIt, fixIt, alert) => {
    const { sent, make } = await setup();
    const w = make();
    await w.check(true);
    expect(sent).toEqual([]);
    breakIt();
    try {
      await w.check(true);
      await w.check(true);
      await make().check(true);
    } finally {
      fixIt();
    }
    const alerts = sent.filter((t) => t.startsWith('🔴'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(alert);
    await w.check(true);
    await w.check(true);
    expect(sent.filter((t) => t.startsWith('✅'))).toHaveLength(1);
  });

  it('reports a key policy that grants more than Identity Center needs, on the key in use and its replica', async () => {
    const { sent, make } = await setup();
    const w = make();
    await w.check(true);
    const primary = [...emu.world.keys.values()].find((k) => k.role === 'PRIMARY')!;
    const good = primary.policy;
    const foreign = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        ...JSON.parse(good).Statement,
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:*', Resource: '*' },
      ],
    });
    primary.policy = replica().policy = foreign;
    try {
      await w.check(true);
      await make().check(true);
    } finally {
      primary.policy = replica().policy = good;
    }
    const alerts = sent.filter((t) => t.startsWith('🔴'));
    expect(alerts).toEqual([
      expect.stringMatching(/primary key in us-east-1 grants more .*arn:aws:iam::999999999999:root → kms:\*/),
      expect.stringMatching(/key replica in eu-central-1 grants more .*arn:aws:iam::999999999999:root → kms:\*/),
    ]);
    await w.check(true);
    expect(sent.filter((t) => t.startsWith('✅'))).toHaveLength(2);
  });

  it('tells the channel when a Region appears, changes status or goes', async () => {
    const { sent, make } = await setup();
    const w = make();
    await w.check(true);
    emu.world.instance.regions.set('ap-south-1', { name: 'ap-south-1', status: 'ADDING', addedDate: clock.now() });
    await w.check(true);
    emu.world.instance.regions.get('ap-south-1')!.status = 'ACTIVE';
    emu.world.addKey({
      region: 'ap-south-1',
      keyId: replica().keyId,
      multiRegion: true,
      role: 'REPLICA',
      policy: replica().policy,
    });
    await w.check(true);
    emu.world.instance.regions.delete('ap-south-1');
    await w.check(true);
    expect(sent).toEqual([
      'ℹ️ Region ap-south-1 appeared on the instance (ADDING)',
      'ℹ️ Region ap-south-1 is now ACTIVE (was ADDING)',
      'ℹ️ Region ap-south-1 is no longer on the instance',
    ]);
    emu.world.keys.delete(`ap-south-1/${replica().keyId}`);
  });

  it('keeps a message queued while Slack fails, and sends it once Slack is back', async () => {
    const { db, table } = await freshStore(clock.now);
    let slackUp = false;
    const sent: string[] = [];
    const w = createWatcher({
      name: 'w',
      homeRegion: 'us-east-1',
      read: () => readHealth(clients, { homeRegion: 'us-east-1' }),
      store: createStateStore(db, table),
      notify: async (t) => {
        if (!slackUp) throw new Error('slack down');
        sent.push(t);
      },
      intervalMs: 300_000,
      stuckAfterMs: 3_600_000,
      now: clock.now,
    });
    await w.check(true);
    replica().state = 'Disabled';
    await w.check(true);
    expect(sent).toEqual([]);
    expect((await w.last())?.outbox).toHaveLength(1);
    slackUp = true;
    await w.check(); // within the interval: no AWS read, only the queue
    expect(sent).toHaveLength(1);
    replica().state = 'Enabled';
  });

  it('answers many people asking at once for the status with one check', async () => {
    const { db, table } = await freshStore(clock.now);
    let reads = 0;
    const w = createWatcher({
      name: 'watch#once',
      homeRegion: 'us-east-1',
      read: () => (reads++, readHealth(clients, { homeRegion: 'us-east-1', now: clock.now })),
      store: createStateStore(db, table),
      notify: async () => undefined,
      now: clock.now,
      intervalMs: 300_000,
      stuckAfterMs: 3_600_000,
    });
    const states = await Promise.all(Array.from({ length: 20 }, () => w.current()));
    expect(reads).toBe(1);
    expect(new Set(states.map((s) => s.lastCheck)).size).toBe(1);
    await w.current(); // within its age: no I/O at all
    expect(reads).toBe(1);
  });

  it('answers /idc status at once while people keep asking, refreshing the view behind the answer', async () => {
    const { db, table } = await freshStore(clock.now);
    let checks = 0;
    const store = createStateStore(db, table);
    const w = createWatcher({
      name: 'watch#fresh',
      homeRegion: 'us-east-1',
      read: () => readHealth(clients, { homeRegion: 'us-east-1', now: clock.now }),
      store: { get: (name) => (checks++, store.get(name)), put: store.put },
      notify: async () => undefined,
      now: clock.now,
      intervalMs: 300_000,
      stuckAfterMs: 3_600_000,
    });
    expect(w.fresh()).toBeUndefined(); // nothing seen yet: the caller takes the slow path
    expect(checks).toBe(0);
    const first = await w.current();
    const wall = Date.now();
    const at = jest.spyOn(Date, 'now');
    try {
      at.mockReturnValue(wall + 4_000); // younger than 5 s: the view, no I/O
      expect(w.fresh()).toBe(first);
      expect(checks).toBe(1);
      at.mockReturnValue(wall + 6_000); // older: still answered at once, one check behind it
      expect(w.fresh()).toBe(first);
      expect(w.fresh()).toBe(first);
      expect(checks).toBe(2);
      await w.current(5_000); // waits for the check in flight rather than starting one
      expect(checks).toBe(2);
      at.mockReturnValue(wall + 9_000); // the refreshed view (seen at +6 s) is young again
      expect(w.fresh()).toBeDefined();
      expect(checks).toBe(2);
      at.mockReturnValue(wall + 67_000); // over a minute old: the caller waits for a check
      expect(w.fresh()).toBeUndefined();
      expect(checks).toBe(2);
    } finally {
      at.mockRestore();
    }
  });

  it('stays within its AWS call budget per check', async () => {
    const before = emu.world.calls.length;
    const s = await readHealth(clients, { homeRegion: 'us-east-1' });
    const regions = s.regions.length;
    expect(emu.world.calls.length - before).toBe(s.calls);
    // 3 for the instance (ListInstances, DescribeInstance, ListRegions), 2 for the primary key, 4 per additional Region.
    expect(s.calls).toBeLessThanOrEqual(5 + 4 * (regions - 1));
  });

  it('drills an additional Region on its own endpoints, even while the primary is down', async () => {
    emu.world.faults.outage.add('us-east-1');
    try {
      const d = await drillRegion(clients, 'eu-central-1');
      expect(d.checks.map((c) => [c.check, c.ok])).toEqual([
        ['Identity Center instance answers in eu-central-1', true],
        ['Region eu-central-1 is ACTIVE', true],
        ['Instance configuration readable in eu-central-1', true],
        ['Identity Store reads in eu-central-1', true],
        ['Key replica usable in eu-central-1', true],
      ]);
      expect(d.passed).toBe(true);
      expect(d.checks.every((c) => c.ms >= 0)).toBe(true);
      const other = await drillRegion(clients, 'sa-east-1');
      expect(other.passed).toBe(false);
      expect(other.checks[0]?.detail).toContain('no instance answers in sa-east-1');
    } finally {
      emu.world.faults.outage.delete('us-east-1');
    }
  });
});

describe("the change form's Regions, from the watcher's picture and the account", () => {
  it('offers allowed Regions that are enabled and not on the instance, and removes only additional ones', async () => {
    const snapshot = await readHealth(clients, { homeRegion: 'us-east-1', now: clock.now });
    emu.world.instance.regions.set('ap-south-1', { name: 'ap-south-1', status: 'REMOVING', addedDate: clock.now() });
    try {
      const regions = [...snapshot.regions, { name: 'ap-south-1', status: 'REMOVING', primary: false }];
      const allowed = ['eu-central-1', 'eu-west-1', 'eu-south-1', 'us-east-1', 'ap-south-1', 'us-west-2'];
      // eu-central-1 is on the instance, us-east-1 its primary, eu-south-1 an opt-in Region not enabled.
      expect(await regionChoices(clients, 'us-east-1', regions, allowed)).toEqual({
        add: ['eu-west-1', 'us-west-2'],
        remove: ['eu-central-1'],
      });
      emu.world.enabledRegions.add('eu-south-1');
      expect((await regionChoices(clients, 'us-east-1', regions, allowed)).add).toEqual([
        'eu-south-1',
        'eu-west-1',
        'us-west-2',
      ]);
      // Without IDC_ALLOWED_REGIONS every known Region the account has enabled is a candidate.
      expect((await regionChoices(clients, 'us-east-1', regions)).add.length).toBeGreaterThan(10);
    } finally {
      emu.world.enabledRegions.delete('eu-south-1');
      emu.world.instance.regions.delete('ap-south-1');
    }
  });
});
