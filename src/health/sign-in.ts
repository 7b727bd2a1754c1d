import type { SSOClient } from '@aws-sdk/client-sso';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';

/** The clients the check uses: OIDC and the access portal API, both in the Region checked (no IAM: bearer tokens). */
export interface SignInClients {
  oidc(region: string): SSOOIDCClient;
  portal(region: string): SSOClient;
}

/** What the person is sent (only to them): where to sign in, the code to compare, how long they have. */
export interface SignInPrompt {
  region: string;
  verificationUriComplete: string;
  userCode: string;
  waitMs: number;
}

/** Which hop of the sign-in failed. */
export type SignInHop = 'registration' | 'not_finished' | 'denied' | 'token' | 'portal';

export type SignInResult =
  | { ok: true; region: string; ms: number; accounts: number; moreAccounts: boolean }
  | { ok: false; region: string; ms: number; hop: SignInHop; detail: string };

/** The Region's own access portal (the IPv4 regional form; the primary's `/start` URL works only there). */
export const regionalPortalUrl = (instanceArn: string, region: string): string =>
  `https://${instanceArn.split('/').pop()}.${region}.portal.amazonaws.com`;

const CLIENT_NAME = 'idc-bot sign-in check';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use: only this check needs them */
const sdk = {
  oidc: () => require('@aws-sdk/client-sso-oidc') as typeof import('@aws-sdk/client-sso-oidc'),
  portal: () => require('@aws-sdk/client-sso') as typeof import('@aws-sdk/client-sso'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const nameOf = (err: unknown) => (err as { name?: string })?.name ?? 'Error';
const why = (err: unknown) => `${nameOf(err)}: ${(err as Error)?.message ?? String(err)}`;

/**
 * Proves that a person can sign in through `region`, calling only that Region: the OAuth device
 * authorization grant against its OIDC endpoint with its own portal as the start URL, the person
 * signs in through the IdP, then the token is used once on its portal API (ListAccounts, first page)
 * and dropped: never stored, logged or shown.
 */
export async function signInCheck(
  c: SignInClients,
  p: {
    instanceArn: string;
    region: string;
    prompt: (prompt: SignInPrompt) => Promise<void>;
    /** How long the person has (capped by the device code's own expiry). */
    maxWaitMs: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<SignInResult> {
  const now = p.now ?? Date.now;
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const fail = (hop: SignInHop, detail: string): SignInResult => ({
    ok: false,
    region: p.region,
    ms: now() - started,
    hop,
    detail,
  });
  const O = sdk.oidc();
  const oidc = c.oidc(p.region);
  let client: { clientId: string; clientSecret: string };
  let device: { deviceCode: string; userCode: string; uri: string; expiresMs: number; intervalMs: number };
  try {
    const reg = await oidc.send(new O.RegisterClientCommand({ clientName: CLIENT_NAME, clientType: 'public' }));
    client = { clientId: reg.clientId ?? '', clientSecret: reg.clientSecret ?? '' };
    const auth = await oidc.send(
      new O.StartDeviceAuthorizationCommand({ ...client, startUrl: regionalPortalUrl(p.instanceArn, p.region) }),
    );
    device = {
      deviceCode: auth.deviceCode ?? '',
      userCode: auth.userCode ?? '',
      uri: auth.verificationUriComplete ?? auth.verificationUri ?? '',
      expiresMs: (auth.expiresIn ?? 600) * 1000,
      intervalMs: (auth.interval ?? 5) * 1000,
    };
  } catch (err) {
    return fail('registration', why(err));
  }
  const waitMs = Math.min(device.expiresMs, p.maxWaitMs);
  await p.prompt({ region: p.region, verificationUriComplete: device.uri, userCode: device.userCode, waitMs });
  let accessToken: string | undefined;
  let interval = device.intervalMs;
  while (!accessToken) {
    if (now() - started >= waitMs) return fail('not_finished', `no sign-in within ${Math.round(waitMs / 60_000)} min`);
    await sleep(interval);
    try {
      accessToken = (
        await oidc.send(new O.CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode }))
      ).accessToken;
    } catch (err) {
      const name = nameOf(err);
      if (name === 'AuthorizationPendingException') continue;
      if (name === 'SlowDownException')
        interval += 5_000; // the grant's rule: wait 5 s longer from now on
      else if (name === 'ExpiredTokenException') return fail('not_finished', 'the sign-in code expired');
      else if (name === 'AccessDeniedException') return fail('denied', why(err));
      else return fail('token', why(err));
    }
  }
  try {
    const S = sdk.portal();
    const page = await c.portal(p.region).send(new S.ListAccountsCommand({ accessToken, maxResults: 100 }));
    return {
      ok: true,
      region: p.region,
      ms: now() - started,
      accounts: page.accountList?.length ?? 0,
      moreAccounts: Boolean(page.nextToken),
    };
  } catch (err) {
    return fail('portal', why(err));
  } finally {
    accessToken = undefined;
  }
}
