/**
 * The AWS SDK's client packages, each loaded on first use: `KMS.DescribeKeyCommand` reads like a
 * namespace import, and the package loads when the first command is made, not when the bot starts.
 * Each costs 2-20 ms to load and most commands need one or two; the table's (DynamoDB, about 50 ms
 * with the SDK's core) loads on the table's first use, after the bot is listening (start-up and the
 * Lambda cold start: docs/BENCHMARKS.md). Types come from `import type`, which costs nothing at run time.
 */
function onFirstUse<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  return new Proxy({} as T, { get: (_t, name) => (loaded ??= load())[name as keyof T] });
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use (above) */
export const DynamoDB = onFirstUse(
  () => require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'),
);
export const SSOAdmin = onFirstUse(
  () => require('@aws-sdk/client-sso-admin') as typeof import('@aws-sdk/client-sso-admin'),
);
export const KMS = onFirstUse(() => require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms'));
export const IdentityStore = onFirstUse(
  () => require('@aws-sdk/client-identitystore') as typeof import('@aws-sdk/client-identitystore'),
);
export const Organizations = onFirstUse(
  () => require('@aws-sdk/client-organizations') as typeof import('@aws-sdk/client-organizations'),
);
export const ServiceQuotas = onFirstUse(
  () => require('@aws-sdk/client-service-quotas') as typeof import('@aws-sdk/client-service-quotas'),
);
export const Account = onFirstUse(() => require('@aws-sdk/client-account') as typeof import('@aws-sdk/client-account'));
export const STS = onFirstUse(() => require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts'));
export const SSOOIDC = onFirstUse(
  () => require('@aws-sdk/client-sso-oidc') as typeof import('@aws-sdk/client-sso-oidc'),
);
export const SSOPortal = onFirstUse(() => require('@aws-sdk/client-sso') as typeof import('@aws-sdk/client-sso'));
export const Lambda = onFirstUse(() => require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda'));
export const SecretsManager = onFirstUse(
  () => require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
);
export const SSM = onFirstUse(() => require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm'));
export const Credentials = onFirstUse(
  () => require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers'),
);
/* eslint-enable @typescript-eslint/no-require-imports */
