import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { AccountClient } from '@aws-sdk/client-account';
import type { STSClient } from '@aws-sdk/client-sts';
import type { SSOClient } from '@aws-sdk/client-sso';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  Account,
  Credentials,
  DynamoDB,
  IdentityStore,
  KMS,
  Lambda,
  Organizations,
  SSOAdmin,
  SSOOIDC,
  SSOPortal,
  STS,
  ServiceQuotas,
} from './sdk';

/** No call waits for ever: a hung connection or answer is an error the engine retries (the SDK's defaults wait without limit). */
const HTTP_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 };

/** Per-Region SDK clients. The only place that builds AWS clients. */
export interface AwsClients {
  ssoAdmin(region: string): SSOAdminClient;
  kms(region: string): KMSClient;
  identityStore(region: string): IdentitystoreClient;
  organizations(region: string): OrganizationsClient;
  serviceQuotas(region: string): ServiceQuotasClient;
  account(region: string): AccountClient;
  sts(region: string): STSClient;
  /** OIDC and the access portal API (the sign-in check; bearer tokens, no IAM). */
  oidc(region: string): SSOOIDCClient;
  portal(region: string): SSOClient;
  destroy(): void;
}

export interface AwsClientOptions {
  /** Assume this role (from the default credential chain) for every call. */
  roleArn?: string;
  /** The external ID the role's trust policy requires (IDC_ROLE_EXTERNAL_ID). */
  externalId?: string;
  /** The role session's name (CloudTrail shows it): see sessionName. */
  sessionName?: string;
  /** SDK attempts per call (standard retry mode); the engine retries beyond that with its own backoff. */
  maxAttempts?: number;
}

/**
 * The role session's name (2–64 of A–Z a–z 0–9 and +=,.@_-): idc-bot-<instance>, and the Slack user
 * who asked for a run (CloudTrail shows it beside every call the run makes).
 */
export const sessionName = (instance: string, person?: string) =>
  ['idc-bot', instance, person]
    .filter(Boolean)
    .join('-')
    .replace(/[^\w+=,.@-]/g, '-')
    .slice(0, 64);

/**
 * Builds clients per service and Region: default credential chain, optional role, standard retry
 * mode. Endpoints come from the SDK's own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables.
 */
export function createAwsClients(opts: AwsClientOptions = {}): AwsClients {
  const credentials = opts.roleArn
    ? Credentials.fromTemporaryCredentials({
        params: {
          RoleArn: opts.roleArn,
          RoleSessionName: opts.sessionName ?? 'idc-bot',
          ...(opts.externalId ? { ExternalId: opts.externalId } : {}),
        },
      })
    : undefined;
  const common = {
    maxAttempts: opts.maxAttempts ?? 3,
    retryMode: 'standard',
    requestHandler: HTTP_TIMEOUTS,
    ...(credentials ? { credentials } : {}),
  };
  const cache = new Map<string, { destroy(): void }>();
  const get = <T extends { destroy(): void }>(key: string, make: () => T): T => {
    let c = cache.get(key) as T | undefined;
    if (!c) cache.set(key, (c = make()));
    return c;
  };
  return {
    ssoAdmin: (region) => get(`sso/${region}`, () => new SSOAdmin.SSOAdminClient({ ...common, region })),
    kms: (region) => get(`kms/${region}`, () => new KMS.KMSClient({ ...common, region })),
    identityStore: (region) => get(`ids/${region}`, () => new IdentityStore.IdentitystoreClient({ ...common, region })),
    organizations: (region) => get(`org/${region}`, () => new Organizations.OrganizationsClient({ ...common, region })),
    serviceQuotas: (region) => get(`sq/${region}`, () => new ServiceQuotas.ServiceQuotasClient({ ...common, region })),
    account: (region) => get(`acct/${region}`, () => new Account.AccountClient({ ...common, region })),
    sts: (region) => get(`sts/${region}`, () => new STS.STSClient({ ...common, region })),
    oidc: (region) => get(`oidc/${region}`, () => new SSOOIDC.SSOOIDCClient({ ...common, region })),
    portal: (region) => get(`portal/${region}`, () => new SSOPortal.SSOClient({ ...common, region })),
    destroy: () => {
      for (const c of cache.values()) c.destroy();
      cache.clear();
    },
  };
}

/**
 * The client of the bot's own table (in the Region the bot runs in, not necessarily the instance's),
 * made on its first use: the bot listens before the table's client and the SDK's core are loaded.
 */
export function createDynamoClient(opts: { region: string; endpoint?: string }): DynamoDBClient {
  let client: DynamoDBClient | undefined;
  const made = () =>
    (client ??= new DynamoDB.DynamoDBClient({
      region: opts.region,
      requestHandler: HTTP_TIMEOUTS,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    }));
  return new Proxy({} as DynamoDBClient, {
    get(_t, name) {
      if (name === 'destroy' && !client) return () => undefined; // never used: nothing to close
      const value = Reflect.get(made(), name) as unknown;
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
}

/**
 * One read as the bot starts (its secret, its configuration parameter), with a client of its own
 * closed afterwards. A failure says what could not be read, the SDK's error, and what to check.
 */
export async function readOnce<C extends { destroy(): void }, T>(
  client: C,
  read: (client: C) => Promise<T>,
  failure: (why: string) => string,
): Promise<T> {
  try {
    return await read(client);
  } catch (err) {
    throw new Error(failure(`${(err as Error).name}: ${(err as Error).message}`));
  } finally {
    client.destroy();
  }
}

/**
 * Invokes a Lambda function asynchronously (`InvocationType: Event`) with a JSON payload: how the
 * function hands a request's slow part to another invocation of itself.
 */
export function createAsyncInvoker(region: string, functionName: string): (payload: unknown) => Promise<void> {
  // Loaded on the first hand-over, not at start: a command answered in its ack never needs it (a cold start saves ~20 ms).
  let lambda: LambdaClient | undefined;
  return async (payload) => {
    lambda ??= new Lambda.LambdaClient({ region, requestHandler: HTTP_TIMEOUTS, maxAttempts: 3 });
    await lambda.send(
      new Lambda.InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  };
}
