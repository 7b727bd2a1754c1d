import { createHash } from 'node:crypto';
import { IDP_TIMEOUT_MS, IdpConflictError, idpJson, type IdentityProvider, type IdpApp } from './port';

export interface EntraSettings {
  tenantId: string;
  /** The app registration the bot signs in as (client credentials), with Application.ReadWrite.OwnedBy (owner of the app) or .All. */
  clientId: string;
  clientSecret: string;
  /** The Identity Center app registration's object id (not its application id). */
  appObjectId: string;
  /** National clouds: https://login.microsoftonline.us and https://graph.microsoft.us/v1.0, say. */
  loginUrl?: string;
  graphUrl?: string;
  /** How long one call may take (default IDP_TIMEOUT_MS). */
  timeoutMs?: number;
}

const ADVICE: Record<number, string> = {
  401: 'check ENTRA_TENANT_ID, ENTRA_CLIENT_ID and the client secret in the secret',
  403: "grant the bot's app registration Application.ReadWrite.OwnedBy (and make it an owner of the Identity Center app) or Application.ReadWrite.All, with admin consent",
  404: "check ENTRA_APP_OBJECT_ID: the Identity Center app registration's Object ID (App registrations → the app → Overview)",
};

type Application = { id: string; displayName?: string; web?: { redirectUris?: string[] } };

/**
 * Microsoft Entra ID (Microsoft Graph, client credentials): the Identity Center app registration's
 * `web.redirectUris` are its reply (ACS) URLs, up to 256, the first the default. `PATCH
 * /applications/{id}` replaces the list as a whole, so every write re-reads it and checks it is
 * still what the plan saw.
 */
export function createEntra(s: EntraSettings, fetcher: typeof fetch = fetch): IdentityProvider {
  const login = (s.loginUrl ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const graph = (s.graphUrl ?? 'https://graph.microsoft.com/v1.0').replace(/\/+$/, '');
  let token: { value: string; until: number } | undefined;

  async function accessToken(): Promise<string> {
    if (token && token.until > Date.now()) return token.value;
    const res = await fetcher(`${login}/${encodeURIComponent(s.tenantId)}/oauth2/v2.0/token`, {
      signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: s.clientId,
        client_secret: s.clientSecret,
        scope: `${new URL(graph).origin}/.default`,
        grant_type: 'client_credentials',
      }),
    });
    const { body } = await idpJson<{ access_token: string; expires_in: number }>('Microsoft Entra ID', res, ADVICE);
    token = { value: body.access_token, until: Date.now() + (body.expires_in - 60) * 1000 };
    return token.value;
  }

  const url = `${graph}/applications/${encodeURIComponent(s.appObjectId)}`;
  async function getApp(): Promise<Application> {
    const res = await fetcher(`${url}?$select=id,displayName,web`, {
      signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
      headers: { authorization: `Bearer ${await accessToken()}`, accept: 'application/json' },
    });
    return (await idpJson<Application>('Microsoft Graph', res, ADVICE)).body;
  }
  const versionOf = (uris: string[]) => createHash('sha256').update(JSON.stringify(uris)).digest('hex').slice(0, 16);
  const view = (app: Application): IdpApp => {
    const uris = app.web?.redirectUris ?? [];
    return {
      label: `Entra app ${app.displayName ?? app.id} (${app.id})`,
      acsUrls: uris,
      multiple: true,
      version: versionOf(uris),
    };
  };

  return {
    kind: 'entra',
    read: async () => view(await getApp()),
    async writeAcsUrls(urls, version) {
      const now = view(await getApp());
      if (now.version !== version)
        throw new IdpConflictError(
          `The Entra app's reply URLs changed since the plan (now ${now.acsUrls.length}); nothing was written`,
        );
      if (urls.length > 256 || urls.some((u) => u.length > 256))
        throw new Error('Entra ID takes at most 256 reply URLs of at most 256 characters');
      const res = await fetcher(url, {
        signal: AbortSignal.timeout(s.timeoutMs ?? IDP_TIMEOUT_MS),
        method: 'PATCH',
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ web: { redirectUris: urls } }),
      });
      const { requestId } = await idpJson('Microsoft Graph', res, ADVICE);
      return { requestId };
    },
  };
}
