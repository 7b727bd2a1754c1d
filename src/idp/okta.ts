import { createSign, randomUUID } from 'node:crypto';
import { IDP_TIMEOUT_MS, IdpConflictError, idpJson, type IdentityProvider, type IdpApp } from './port';

export interface OktaSettings {
  /** https://<your-org>.okta.com */
  orgUrl: string;
  /** The Identity Center app's id (0oa…). */
  appId: string;
  /** The API service app's client id, with a public key registered and the scope okta.apps.manage granted. */
  clientId: string;
  /** The key's id (kid) as registered in Okta, and its private key (PEM, PKCS#8). */
  keyId?: string;
  privateKey: string;
  /** How long one call may take (default IDP_TIMEOUT_MS). */
  timeoutMs?: number;
}

type OktaApp = {
  id: string;
  label?: string;
  name?: string;
  lastUpdated?: string;
  settings?: {
    signOn?: {
      ssoAcsUrl?: string;
      allowMultipleAcsEndpoints?: boolean;
      acsEndpoints?: { url: string; index: number }[];
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

const ADVICE: Record<number, string> = {
  401: 'check OKTA_CLIENT_ID, OKTA_KEY_ID and the private key in the secret',
  403: 'grant the API service app the scope okta.apps.manage (and an admin role that may manage this app)',
  404: 'check OKTA_APP_ID: the Identity Center app in Okta (Applications → the app → its id in the URL)',
};

/** base64url of a JSON value. */
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Okta (Apps API, OAuth 2.0 service app with private-key JWT): reads the Identity Center app and
 * writes its ACS URLs. A custom SAML app holds the primary ACS URL in `settings.signOn.ssoAcsUrl`
 * and the others in `acsEndpoints` (up to 100, `allowMultipleAcsEndpoints`); the Okta Integration
 * Network app holds one, which the adapter says rather than change. `PUT /api/v1/apps/{id}` replaces
 * the whole app, so every write is a read-modify-write of the app as just read.
 */
export function createOkta(s: OktaSettings, fetcher: typeof fetch = fetch): IdentityProvider {
  const base = s.orgUrl.replace(/\/+$/, '');
  let token: { value: string; until: number } | undefined;

  async function accessToken(): Promise<string> {
    if (token && token.until > Date.now()) return token.value;
    const aud = `${base}/oauth2/v1/token`;
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'RS256', ...(s.keyId ? { kid: s.keyId } : {}) })}.${b64({ iss: s.clientId, sub: s.clientId, aud, iat: now, exp: now + 300, jti: randomUUID() })}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(s.privateKey).toString('base64url');
    const res = await fetcher(aud, {
      signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'okta.apps.read okta.apps.manage',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: `${unsigned}.${signature}`,
      }),
    });
    const { body } = await idpJson<{ access_token: string; expires_in: number }>('Okta', res, ADVICE);
    token = { value: body.access_token, until: Date.now() + (body.expires_in - 60) * 1000 };
    return token.value;
  }

  async function getApp(): Promise<OktaApp> {
    const res = await fetcher(`${base}/api/v1/apps/${encodeURIComponent(s.appId)}`, {
      signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
      headers: { authorization: `Bearer ${await accessToken()}`, accept: 'application/json' },
    });
    return (await idpJson<OktaApp>('Okta', res, ADVICE)).body;
  }

  const view = (app: OktaApp): IdpApp => {
    const signOn = app.settings?.signOn;
    const extra = [...(signOn?.acsEndpoints ?? [])].sort((a, b) => a.index - b.index).map((e) => e.url);
    const primary = signOn?.ssoAcsUrl;
    return {
      label: `Okta app ${app.label ?? app.name ?? app.id} (${app.id})`,
      acsUrls: [...(primary ? [primary] : []), ...extra.filter((u) => u !== primary)],
      multiple: Boolean(primary),
      ...(primary
        ? {}
        : {
            single:
              'it is the Okta Integration Network app, which holds a single ACS URL: use a custom SAML app for several Regions, or switch its URL during a failover',
          }),
      version: app.lastUpdated ?? '',
    };
  };

  return {
    kind: 'okta',
    read: async () => view(await getApp()),
    async writeAcsUrls(urls, version) {
      const app = await getApp();
      if ((app.lastUpdated ?? '') !== version)
        throw new IdpConflictError(
          `The Okta app changed since the plan (last updated ${app.lastUpdated}, the plan saw ${version}); nothing was written`,
        );
      const [primary, ...others] = urls;
      const signOn = {
        ...app.settings?.signOn,
        ssoAcsUrl: primary,
        allowMultipleAcsEndpoints: others.length > 0 || Boolean(app.settings?.signOn?.allowMultipleAcsEndpoints),
        acsEndpoints: others.map((url, index) => ({ url, index })),
      };
      const res = await fetcher(`${base}/api/v1/apps/${encodeURIComponent(s.appId)}`, {
        signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
        method: 'PUT',
        headers: {
          authorization: `Bearer ${await accessToken()}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ ...app, settings: { ...app.settings, signOn } }),
      });
      const { requestId } = await idpJson<OktaApp>('Okta', res, ADVICE);
      return { requestId };
    },
  };
}
