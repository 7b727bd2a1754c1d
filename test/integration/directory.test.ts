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
});
