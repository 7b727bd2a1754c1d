import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plays Microsoft Entra ID's side for the IdP adapter, from the Microsoft identity platform and
 * Microsoft Graph references: the client-credentials grant (`POST /{tenant}/oauth2/v2.0/token`),
 * and `GET` / `PATCH /v1.0/applications/{id}` (the `web.redirectUris` list replaced as a whole, 204
 * No Content), with Graph's error bodies and `request-id` headers.
 */
export async function startEntraEmulator(opts: { tenantId: string; clientId: string; clientSecret: string }) {
  const apps = new Map<string, { id: string; displayName: string; web: { redirectUris: string[] } }>();
  const tokens = new Set<string>();
  const hooks: { beforePatch?: (uris: string[]) => string[] } = {};
  const requests: { method: string; path: string; id: string }[] = [];

  const send = (res: ServerResponse, status: number, body: unknown, id: string) => {
    res.writeHead(status, {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      'request-id': id,
      'client-request-id': id,
    });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const graphError = (res: ServerResponse, status: number, code: string, message: string, id: string) =>
    send(
      res,
      status,
      {
        error: {
          code,
          message,
          innerError: { date: new Date().toISOString(), 'request-id': id, 'client-request-id': id },
        },
      },
      id,
    );

  async function route(req: IncomingMessage, res: ServerResponse, raw: string) {
    const id = randomUUID();
    const path = (req.url ?? '').split('?')[0] ?? '';
    requests.push({ method: req.method ?? '', path, id });
    if (req.method === 'POST' && path === `/${opts.tenantId}/oauth2/v2.0/token`) {
      const f = new URLSearchParams(raw);
      if (f.get('client_id') !== opts.clientId || f.get('client_secret') !== opts.clientSecret)
        return send(
          res,
          401,
          { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
          id,
        );
      if (f.get('grant_type') !== 'client_credentials' || !/\/\.default$/.test(f.get('scope') ?? ''))
        return send(
          res,
          400,
          { error: 'invalid_scope', error_description: 'AADSTS1002012: The provided value for scope is not valid.' },
          id,
        );
      const t = `eyJ0${randomBytes(24).toString('base64url')}`;
      tokens.add(t);
      return send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: t }, id);
    }
    const m = /^\/v1\.0\/applications\/([0-9a-f-]+)$/.exec(path);
    if (!m) return graphError(res, 400, 'BadRequest', `Resource not found for the segment '${path}'.`, id);
    if (!tokens.has(String(req.headers.authorization ?? '').replace(/^Bearer /, '')))
      return graphError(
        res,
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid audience.',
        id,
      );
    const app = apps.get(m[1] as string);
    if (!app)
      return graphError(
        res,
        404,
        'Request_ResourceNotFound',
        `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`,
        id,
      );
    if (req.method === 'GET')
      return send(
        res,
        200,
        {
          '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications(id,displayName,web)/$entity',
          ...app,
        },
        id,
      );
    if (req.method === 'PATCH') {
      const body = JSON.parse(raw || '{}') as { web?: { redirectUris?: string[] } };
      let uris = body.web?.redirectUris;
      if (!Array.isArray(uris))
        return graphError(res, 400, 'Request_BadRequest', 'Invalid value specified for property web.', id);
      if (uris.length > 256 || uris.some((u) => u.length > 256 || !/^https:\/\//.test(u)))
        return graphError(
          res,
          400,
          'Request_BadRequest',
          'Invalid value specified for property redirectUris of resource Application.',
          id,
        );
      if (hooks.beforePatch) uris = hooks.beforePatch(uris);
      app.web.redirectUris = [...uris];
      return send(res, 204, undefined, id);
    }
    return graphError(
      res,
      405,
      'Request_BadRequest',
      'Specified HTTP method is not allowed for the request target.',
      id,
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void route(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    loginUrl: url,
    graphUrl: `${url}/v1.0`,
    apps,
    hooks,
    requests,
    /** The Identity Center app registration with the primary Region's reply URL. */
    addApp(primaryAcsUrl: string): string {
      const appId = randomUUID();
      apps.set(appId, { id: appId, displayName: 'AWS IAM Identity Center', web: { redirectUris: [primaryAcsUrl] } });
      return appId;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type EntraEmulator = Awaited<ReturnType<typeof startEntraEmulator>>;
