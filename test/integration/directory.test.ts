import { startSlackEmulator, type SlackEmulator } from '../../dev/emulators/slack/server';
import { createSlackClient, createSlackDirectory } from '../../src/slack/app';

let slack: SlackEmulator;

beforeAll(async () => {
  slack = await startSlackEmulator({
    token: 'xoxb-dir',
    signingSecret: 'dir-secret',
    users: { UA: { name: 'ana' }, UB: { name: 'ben' }, UG: { name: 'guest', is_restricted: true } },
    usergroups: { S0VIEW: ['UA', 'UG'] },
  });
});
afterAll(() => slack.close());

describe('the role directory', () => {
  it('answers from its cache alone only what it has asked Slack already', async () => {
    const client = createSlackClient({ token: 'xoxb-dir', apiUrl: slack.apiUrl });
    const dir = createSlackDirectory({ viewers: ['S0VIEW'], everyone: ['*'] }, client);
    // Nothing asked yet: unknown, never a guess.
    expect(dir.knownViewer('UA', 'viewers')).toBeUndefined();
    expect(dir.knownViewer('UA', undefined)).toBeUndefined();
    expect(await dir.isInRole('UA', ['viewers'])).toBe(true);
    expect(dir.knownViewer('UA', 'viewers')).toBe(true);
    expect(dir.knownViewer('UA', undefined)).toBe(true);
    expect(dir.knownViewer('UA', 'nobody')).toBe(false); // a role nobody holds
    // In the group but a guest: not a viewer; outside the group: not a viewer.
    expect(await dir.isInRole('UG', ['viewers'])).toBe(false);
    expect(dir.knownViewer('UG', 'viewers')).toBe(false);
    expect(dir.knownViewer('UB', 'viewers')).toBe(false);
    // "*" names everyone, but who the person is still has to be known.
    expect(dir.knownViewer('UB', 'everyone')).toBeUndefined();
    expect(await dir.isFullMember('UB')).toBe(true);
    expect(dir.knownViewer('UB', 'everyone')).toBe(true);
    // A minute later the cache is stale: unknown again.
    const at = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 61_000);
    try {
      expect(dir.knownViewer('UA', 'viewers')).toBeUndefined();
    } finally {
      at.mockRestore();
    }
  });

  it('reads who people are again behind its answers, so that people who keep asking stay known', async () => {
    const client = createSlackClient({ token: 'xoxb-dir', apiUrl: slack.apiUrl });
    const dir = createSlackDirectory({ viewers: ['S0VIEW'] }, client);
    const lookups = () => slack.calls.filter((m) => m === 'users.info').length;
    const before = lookups();
    expect(dir.knownViewer('UA', 'viewers')).toBeUndefined(); // unknown: asked behind the answer
    expect(dir.knownViewer('UA', 'viewers')).toBeUndefined(); // (once)
    expect(await dir.isInRole('UA', ['viewers'])).toBe(true); // a slow part asking meanwhile shares that call
    await new Promise((r) => setTimeout(r, 10)); // (the refresh behind the answer done)
    for (let i = 0; i < 50 && dir.knownViewer('UA', 'viewers') === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(dir.knownViewer('UA', 'viewers')).toBe(true);
    expect(lookups() - before).toBe(1);
    const wall = Date.now();
    const at = jest.spyOn(Date, 'now');
    try {
      at.mockReturnValue(wall + 30_000); // young: no lookup
      expect(dir.knownViewer('UA', 'viewers')).toBe(true);
      expect(lookups() - before).toBe(1);
      at.mockReturnValue(wall + 50_000); // getting old: still the answer, and one lookup behind it
      expect(dir.knownViewer('UA', 'viewers')).toBe(true);
      expect(dir.knownViewer('UA', 'viewers')).toBe(true);
      for (let i = 0; i < 50 && lookups() - before < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(lookups() - before).toBe(2);
    } finally {
      at.mockRestore();
    }
  });
});
