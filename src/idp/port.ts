/** What an IdP adapter sees of the Identity Center app: its SAML ACS URLs, in order. */
export interface IdpApp {
  /** Human name of the app, for plans and messages ("Okta app AWS IAM Identity Center (0oa1…)"). */
  label: string;
  /** Every ACS URL the app accepts, the default (primary) first. */
  acsUrls: string[];
  /** Whether the app can hold several ACS URLs; when not, why (the Okta Integration Network app holds one). */
  multiple: boolean;
  single?: string;
  /** Changes whenever the app does: a write checks it is still what the plan was made on. */
  version: string;
}

/** An identity provider the bot may change, behind the same approvals as AWS. */
export interface IdentityProvider {
  readonly kind: 'okta' | 'entra';
  read(): Promise<IdpApp>;
  /**
   * Writes the app's ACS URLs (the whole list: both APIs replace it as a whole), after checking the
   * app is still at `version`. Returns the IdP's request id for the audit trail.
   */
  writeAcsUrls(urls: string[], version: string): Promise<{ requestId?: string }>;
}

/** No IdP call waits longer than this: a hung answer is an error, and the step is tried again. */
export const IDP_TIMEOUT_MS = 30_000;

/** The app changed between the plan and the write (someone edited it): nothing was written. */
export class IdpConflictError extends Error {
  override name = 'IdpConflictError';
}

/** An IdP API answered with an error: its status, its code and request id, and what to do. */
export class IdpError extends Error {
  override name = 'IdpError';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Reads an IdP's JSON answer; an error says which IdP, what it said and what to check. */
export async function idpJson<T>(
  idp: string,
  res: Response,
  advice: Record<number, string>,
): Promise<{ body: T; requestId?: string }> {
  const requestId =
    res.headers.get('x-okta-request-id') ??
    res.headers.get('request-id') ??
    res.headers.get('client-request-id') ??
    undefined;
  const text = await res.text();
  if (!res.ok) {
    let said = text.slice(0, 300);
    try {
      const b = JSON.parse(text) as {
        errorSummary?: string;
        errorCode?: string;
        error?: { code?: string; message?: string } | string;
        error_description?: string;
      };
      said =
        b.errorSummary !== undefined
          ? `${b.errorCode}: ${b.errorSummary}`
          : typeof b.error === 'object'
            ? `${b.error.code}: ${b.error.message}`
            : `${b.error}: ${b.error_description ?? ''}`;
    } catch {
      // not JSON: the text as it came
    }
    const retryable = res.status === 429 || res.status >= 500;
    throw new IdpError(
      `${idp} answered ${res.status} (${said})${requestId ? ` [request ${requestId}]` : ''}${advice[res.status] ? `: ${advice[res.status]}` : ''}`,
      res.status,
      retryable,
    );
  }
  return { body: (text ? JSON.parse(text) : {}) as T, ...(requestId ? { requestId } : {}) };
}
