import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { createAwsClients } from '../../src/aws/clients';
import { regionalPortalUrl, signInCheck, type SignInPrompt } from '../../src/health/sign-in';
import { renderSignIn } from '../../src/slack/render';

// The sign-in check's device-code grant, against the emulator's OIDC and portal endpoints with the
// real SDK clients: the polling rules of RFC 8628 as AWS documents them, and each failing hop.

let aws: AwsEmulator;
const clients = createAwsClients({ maxAttempts: 1 });

beforeAll(async () => {
  aws = await startAwsEmulator({ users: 5, groups: 1 });
  Object.assign(process.env, aws.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  aws.world.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: Date.now() });
});
afterAll(async () => {
  clients.destroy();
  await aws.close();
});

/** Runs the check; `person` plays the one who got the link, after the `polls`-th wait. */
async function run(
  person: (p: SignInPrompt) => void,
  polls = 1,
  opts: { maxWaitMs?: number; now?: () => number } = {},
) {
  const waits: number[] = [];
  let prompt: SignInPrompt | undefined;
  const result = await signInCheck(clients, {
    instanceArn: aws.world.instance.arn,
    region: 'eu-central-1',
    maxWaitMs: opts.maxWaitMs ?? 60_000,
    now: opts.now,
    prompt: async (p) => void (prompt = p),
    // No real waiting: each wait is recorded, and the person acts after the `polls`-th.
    sleep: async (ms) => {
      waits.push(ms);
      if (waits.length === polls && prompt) person(prompt);
    },
  });
  return { result, waits, prompt };
}

describe('the sign-in check (OAuth device authorization on the Region itself)', () => {
  it('signs in through the Region portal start URL, slows down when told to, and counts the accounts', async () => {
    aws.world.signIn.interval = 5;
    // The emulator's clock does not move between these polls: every poll after the first is "too fast".
    const { result, waits, prompt } = await run((p) => aws.world.completeSignIn(p.userCode, 'UREQ'), 3);
    expect(result).toMatchObject({ ok: true, region: 'eu-central-1', accounts: 3, moreAccounts: false });
    expect(waits).toEqual([5000, 5000, 10_000]); // slow_down adds 5 s for every later poll
    expect(prompt?.verificationUriComplete).toMatch(
      /^https:\/\/device\.sso\.eu-central-1\.amazonaws\.com\/\?user_code=/,
    );
    expect(regionalPortalUrl(aws.world.instance.arn, 'eu-central-1')).toBe(
      `https://${aws.world.instance.id}.eu-central-1.portal.amazonaws.com`,
    );
    aws.world.signIn.interval = 1;
  });

  it('names the hop that failed and what to check: refused by the IdP, not finished in time, a Region not on the instance', async () => {
    const denied = await run((p) => aws.world.completeSignIn(p.userCode, 'UREQ', true));
    expect(denied.result).toMatchObject({ ok: false, hop: 'denied' });
    expect(renderSignIn(denied.result, 'UREQ')).toMatch(/failed at \*denied\*[\s\S]*ACS URL for this Region/);

    let t = 0;
    const late = await run(() => undefined, 1, { maxWaitMs: 3_000, now: () => (t += 1_000) });
    expect(late.result).toMatchObject({ ok: false, hop: 'not_finished' });
    expect(renderSignIn(late.result, 'UREQ')).toMatch(/did not finish signing in[\s\S]*ACS URL/);

    const notThere = await signInCheck(clients, {
      instanceArn: aws.world.instance.arn,
      region: 'ap-south-1',
      maxWaitMs: 1_000,
      prompt: async () => undefined,
    });
    expect(notThere).toMatchObject({ ok: false, hop: 'registration' });
    expect(notThere.ok || notThere.detail).toMatch(/InvalidRequestException: Invalid start URL/);
  });

  it('fails at the portal when the Region stops answering between the sign-in and the account list', async () => {
    const { result } = await run((p) => {
      aws.world.completeSignIn(p.userCode, 'UREQ');
      // CreateToken succeeds on this poll; the portal call after it meets the outage.
      const original = aws.world.signIn.tokens.set.bind(aws.world.signIn.tokens);
      aws.world.signIn.tokens.set = (k, v) => {
        aws.world.faults.outage.add('eu-central-1');
        return original(k, v);
      };
    });
    aws.world.faults.outage.delete('eu-central-1');
    expect(result).toMatchObject({ ok: false, hop: 'portal' });
  });
});
