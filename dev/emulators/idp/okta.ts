import { createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plays Okta's side for the IdP adapter, from Okta's public API reference: the org authorization
 * server's client-credentials grant with a private-key JWT (`POST /oauth2/v1/token`), and the Apps
 * API (`GET` and `PUT /api/v1/apps/{id}`, a full replace), with Okta's error bodies
 * (errorCode/errorSummary/errorId), `X-Okta-Request-Id` and the `X-Rate-Limit-*` headers.
 */
export async function startOktaEmulator(opts: {
  clientId: string;
  /** The service app's registered public key (PEM) and its kid. */
  publicKey: string;
  keyId?: string;
  /** Scopes granted to the service app. */
  scopes?: string[];
}) {
  const apps = new Map<string, Record<string, unknown>>();
  const tokens = new Map<string, string[]>();
  const requests: { method: string; path: string; id: string }[] = [];
  const hooks: {
    beforePut?: (app: Record<string, unknown>) => Record<string, unknown>;
    failNext: number;
    /** Answer the Apps API this much later (a hung IdP). */
    delayMs: number;
  } = { failNext: 0, delayMs: 0 };
  let url = '';
  const granted = opts.scopes ?? ['okta.apps.read', 'okta.apps.manage'];

  const send = (res: ServerResponse, status: number, body: unknown, id: string) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-okta-request-id': id,
      'x-rate-limit-limit': '600',
      'x-rate-limit-remaining': '599',
      'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 60),
    });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, summary: string, id: string) =>
    send(
      res,
      status,
      {
        errorCode: code,
        errorSummary: summary,
        errorLink: code,
        errorId: `oae${randomBytes(8).toString('hex')}`,
        errorCauses: [],
      },
      id,
    );

  function token(form: URLSearchParams): { status: number; body: unknown } {
    const fail = (error: string, description: string, status = 400) => ({
      status,
      body: { error, error_description: description },
    });
    if (form.get('grant_type') !== 'client_credentials')
      return fail('unsupported_grant_type', 'The grant type is not supported.');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return fail('invalid_client', 'Client authentication failed.', 401);
    const [h, p, s] = (form.get('client_assertion') ?? '').split('.');
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString() || '{}') as { alg?: string; kid?: string };
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString() || '{}') as Record<string, unknown>;
    const signed = createVerify('RSA-SHA256')
      .update(`${h}.${p}`)
      .verify(opts.publicKey, Buffer.from(s ?? '', 'base64url'));
    if (
      header.alg !== 'RS256' ||
      (opts.keyId && header.kid !== opts.keyId) ||
      !signed ||
      claims.iss !== opts.clientId ||
      claims.sub !== opts.clientId ||
      claims.aud !== `${url}/oauth2/v1/token` ||
      Number(claims.exp) * 1000 < Date.now()
    )
      return fail('invalid_client', 'The client_assertion signature is invalid.', 401);
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const missing = scopes.filter((x) => !granted.includes(x));
    if (missing.length) return fail('invalid_scope', `The following scopes are not allowed: ${missing.join(', ')}`);
    const access = `eyJ${randomBytes(24).toString('base64url')}`;
    tokens.set(access, scopes);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3600, access_token: access, scope: scopes.join(' ') },
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse, raw: string) {
    const id = randomBytes(10).toString('base64url');
    const path = (req.url ?? '').split('?')[0] ?? '';
    requests.push({ method: req.method ?? '', path, id });
    if (req.method === 'POST' && path === '/oauth2/v1/token') {
      const r = token(new URLSearchParams(raw));
      return send(res, r.status, r.body, id);
    }
    if (hooks.delayMs) await new Promise((r) => setTimeout(r, hooks.delayMs));
    const m = /^\/api\/v1\/apps\/([\w-]+)$/.exec(path);
    if (!m) return error(res, 404, 'E0000022', 'The endpoint does not support the provided HTTP method', id);
    const scopes = tokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!scopes) return error(res, 401, 'E0000011', 'Invalid token provided', id);
    if (hooks.failNext > 0) {
      hooks.failNext--;
      return error(res, 429, 'E0000047', 'API call exceeded rate limit due to too many requests.', id);
    }
    const app = apps.get(m[1] as string);
    if (!app) return error(res, 404, 'E0000007', `Not found: Resource not found: ${m[1]} (AppInstance)`, id);
    if (req.method === 'GET') {
      if (!scopes.includes('okta.apps.read') && !scopes.includes('okta.apps.manage'))
        return error(res, 403, 'E0000006', 'You do not have permission to perform the requested action', id);
      return send(res, 200, app, id);
    }
    if (req.method === 'PUT') {
      if (!scopes.includes('okta.apps.manage'))
        return error(res, 403, 'E0000006', 'You do not have permission to perform the requested action', id);
      let next = JSON.parse(raw) as Record<string, unknown>;
      const signOn = (next.settings as { signOn?: { acsEndpoints?: unknown[] } } | undefined)?.signOn;
      if ((signOn?.acsEndpoints?.length ?? 0) > 100)
        return error(res, 400, 'E0000001', 'Api validation failed: acsEndpoints: at most 100', id);
      if (hooks.beforePut) next = hooks.beforePut(next);
      // A full replace: what was sent is the app now (its id and timestamps are the server's).
      const stored = {
        ...next,
        id: app.id,
        created: app.created,
        lastUpdated: new Date(Date.now() + apps.size).toISOString(),
      };
      apps.set(m[1] as string, stored);
      return send(res, 200, stored, id);
    }
    return error(res, 405, 'E0000022', 'The endpoint does not support the provided HTTP method', id);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void route(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apps,
    requests,
    hooks,
    /** A custom SAML app for Identity Center with the primary Region's ACS URL (or the single-URL OIN app). */
    addApp(primaryAcsUrl: string, kind: 'custom' | 'oin' = 'custom'): string {
      const appId = `0oa${randomBytes(8).toString('hex')}`;
      apps.set(appId, {
        id: appId,
        label: 'AWS IAM Identity Center',
        status: 'ACTIVE',
        signOnMode: 'SAML_2_0',
        created: new Date().toISOString(),
        lastUpdated: new Date().toISOString(),
        ...appKind(kind, primaryAcsUrl),
      });
      return appId;
    },
    /** The ACS URLs the app holds now: the main one first, then the requestable ones by index. */
    acsUrls(appId: string): string[] {
      const settings = apps.get(appId)?.settings as
        | {
            app?: { acsURL?: string };
            signOn?: { ssoAcsUrl?: string; acsEndpoints?: { url: string; index: number }[] };
          }
        | undefined;
      if (settings?.app?.acsURL) return [settings.app.acsURL];
      const extra = [...(settings?.signOn?.acsEndpoints ?? [])].sort((a, b) => a.index - b.index).map((e) => e.url);
      return settings?.signOn?.ssoAcsUrl ? [settings.signOn.ssoAcsUrl, ...extra] : extra;
    },
    /** Whether the app is the single-URL Okta Integration Network kind. */
    single: (appId: string) => apps.get(appId)?.name === OIN_NAME,
    /**
     * An admin replaces the app with the single-URL Okta Integration Network app (keeping its main
     * ACS URL), or back with a custom SAML app (keeping that URL): the sandbox's IdP switch.
     */
    setSingleAcs(appId: string, single: boolean): void {
      const app = apps.get(appId);
      if (!app) return;
      const main = this.acsUrls(appId)[0] ?? '';
      Object.assign(app, appKind(single ? 'oin' : 'custom', main), { lastUpdated: new Date().toISOString() });
    },
    /** Someone edits the app in the admin console (its lastUpdated moves). */
    touch(appId: string) {
      const app = apps.get(appId);
      if (app) app.lastUpdated = new Date(Date.now() + 1000).toISOString();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const OIN_NAME = 'amazon_aws_sso';

/** The name and settings that make an app the custom SAML kind (several ACS URLs) or the OIN kind (one). */
function appKind(kind: 'custom' | 'oin', primaryAcsUrl: string): { name: string; settings: Record<string, unknown> } {
  return kind === 'oin'
    ? {
        name: OIN_NAME,
        settings: { app: { acsURL: primaryAcsUrl, entityID: 'https://us-east-1.signin.aws/platform/saml/x' } },
      }
    : {
        name: 'example_awsiamidentitycenter_1',
        settings: {
          app: {},
          signOn: {
            ssoAcsUrl: primaryAcsUrl,
            allowMultipleAcsEndpoints: false,
            acsEndpoints: [],
            audience: 'urn:amazon:webservices',
          },
        },
      };
}

export type OktaEmulator = Awaited<ReturnType<typeof startOktaEmulator>>;
