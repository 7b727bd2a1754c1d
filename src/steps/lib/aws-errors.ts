import { NonRetryableStepError, RetryableStepError } from '../../engine';

const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ConflictException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'RequestTimeout',
  'TimeoutError',
  'KMSInvalidStateException',
]);

const ADVICE: Record<string, string> = {
  ValidationException: 'check the request (Region name, key ARN) and the prerequisites that /idc plan lists',
  ServiceQuotaExceededException:
    'the instance has reached its Region quota (L-D519A297, default 3 including the primary): remove a Region or request a quota increase in Service Quotas',
  ResourceNotFoundException: 'check that the instance, Region or key still exists',
  NotFoundException: 'check that the KMS key exists in that Region',
  AlreadyExistsException: 'it already exists; the step treats this as done where it can',
  MalformedPolicyDocumentException: 'the key policy is not valid; check the principals it names exist',
  UnsupportedOperationException:
    'KMS does not support this for that key or Region (only a multi-Region primary key can be replicated, into an enabled Region)',
  DisabledException: 'the KMS key is disabled: enable it (kms:EnableKey) and retry',
  LimitExceededException: 'a KMS quota was reached in that Region',
};

/** The IAM action named in an AccessDenied message, if any ("not authorized to perform: kms:CreateKey"). */
export function missingAction(message: string): string | undefined {
  return /perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1];
}

/**
 * Runs one AWS call and maps its failure: throttling, 5xx and conflicts retry; access denied names
 * the IAM action; the rest fail with what to do.
 */
export async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapAwsError(action, err);
  }
}

export function mapAwsError(action: string, err: unknown): Error {
  const e = err as {
    name?: string;
    message?: string;
    Reason?: string;
    $metadata?: { httpStatusCode?: number; requestId?: string };
    $retryable?: unknown;
  };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode ?? 0;
  const reason = e.Reason ? ` (${e.Reason})` : '';
  const msg = `${action}: ${name}${reason}: ${e.message ?? String(err)}`;
  if (
    RETRYABLE.has(name) ||
    status >= 500 ||
    e.$retryable ||
    /ECONNREFUSED|ECONNRESET|socket hang up|ETIMEDOUT/.test(e.message ?? '')
  ) {
    return new RetryableStepError(msg, name, undefined, { cause: err });
  }
  const fail = (advice: string | undefined, joiner = '. What to do: ') =>
    new NonRetryableStepError(`${msg}${advice ? `${joiner}${advice}` : ''}`, name, { cause: err, advice });
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || status === 403) {
    if (e.Reason === 'KMS_AccessDeniedException') {
      return fail(
        'The KMS key policy does not let IAM Identity Center use the key: apply the key policy from docs/key-policy.md to the key and its replicas',
        '. ',
      );
    }
    const missing = missingAction(e.message ?? '') ?? action;
    if (/^kms:(PutKeyPolicy|EnableKeyRotation|CreateAlias|ScheduleKeyDeletion)$/.test(missing))
      return fail(
        `The bot changes only keys tagged CreatedBy=idc-bot (the keys it created). To let it manage this key, a key administrator tags it CreatedBy=idc-bot; or check the bot's role against \`npm run iam-policy\``,
      );
    return fail(
      `The bot's role is missing the IAM permission ${missing}: add it (see docs/iam-policy.json) and retry`,
      '. ',
    );
  }
  return fail(ADVICE[name]);
}

/** Is this SDK error of the named type? */
export const isAwsError = (err: unknown, ...names: string[]): boolean =>
  names.includes((err as { name?: string })?.name ?? '');
