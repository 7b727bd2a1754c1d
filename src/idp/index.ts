import type { Config } from '../config';
import { createEntra } from './entra';
import { createOkta } from './okta';
import type { IdentityProvider } from './port';

/**
 * The IdP adapter the configuration asks for (IDC_IDP), for one instance's Identity Center app
 * (`appId`: its `idpApp`), or none: a person then updates the IdP.
 */
export function createIdentityProvider(c: Config, appId: string | undefined): IdentityProvider | undefined {
  if (!appId) return undefined;
  if (c.IDC_IDP === 'okta')
    return createOkta({
      orgUrl: c.OKTA_ORG_URL as string,
      appId,
      clientId: c.OKTA_CLIENT_ID as string,
      keyId: c.OKTA_KEY_ID,
      privateKey: c.OKTA_PRIVATE_KEY as string,
    });
  if (c.IDC_IDP === 'entra')
    return createEntra({
      tenantId: c.ENTRA_TENANT_ID as string,
      clientId: c.ENTRA_CLIENT_ID as string,
      clientSecret: c.ENTRA_CLIENT_SECRET as string,
      appObjectId: appId,
      loginUrl: c.ENTRA_LOGIN_URL,
      graphUrl: c.ENTRA_GRAPH_URL,
    });
  return undefined;
}

export type { IdentityProvider, IdpApp } from './port';
