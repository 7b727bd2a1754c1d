/** What the configuration adds to the key policy. */
export interface KeyPolicyOptions {
  /** The organization's delegated administrator for Identity Center (IDC_DELEGATED_ADMIN_ACCOUNT): it administers the key too. */
  delegatedAdminAccountId?: string;
}

/**
 * The key policy that lets IAM Identity Center use a customer managed key (the April-2026
 * simplified baseline). The same document goes on the primary key and on every replica, because
 * KMS does not copy key policies.
 */
export function identityCenterKeyPolicy(accountId: string, orgId?: string, opts: KeyPolicyOptions = {}): string {
  const admins = [accountId, ...(opts.delegatedAdminAccountId ? [opts.delegatedAdminAccountId] : [])].map(
    (a) => `arn:aws:iam::${a}:root`,
  );
  const contextKeys = { 'kms:EncryptionContextKeys': ['aws:sso:instance-arn', 'aws:identitystore:identitystore-arn'] };
  const via = { 'kms:ViaService': ['sso.*.amazonaws.com', 'identitystore.*.amazonaws.com'] };
  const statements: object[] = [
    {
      Sid: 'AccountAdministration',
      Effect: 'Allow',
      Principal: { AWS: admins.length === 1 ? admins[0] : admins },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      Sid: 'IdcAndIdentityStoreDescribeKey',
      Effect: 'Allow',
      Principal: { Service: ['sso.amazonaws.com', 'identitystore.amazonaws.com'] },
      Action: 'kms:DescribeKey',
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
    },
    {
      Sid: 'IdcAndIdentityStoreUseKey',
      Effect: 'Allow',
      Principal: { Service: ['sso.amazonaws.com', 'identitystore.amazonaws.com'] },
      Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': accountId }, 'ForAnyValue:StringEquals': contextKeys },
    },
  ];
  if (orgId) {
    statements.push(
      {
        Sid: 'OrgPrincipalsDecryptViaIdc',
        Effect: 'Allow',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:PrincipalOrgID': orgId },
          StringLike: via,
          'ForAnyValue:StringEquals': contextKeys,
        },
      },
      {
        Sid: 'AwsManagedAppsDecryptViaIdc',
        Effect: 'Allow',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: {
          Bool: { 'aws:PrincipalIsAWSService': 'true' },
          StringEquals: { 'aws:SourceOrgID': orgId },
          StringLike: via,
          'ForAnyValue:StringEquals': contextKeys,
        },
      },
    );
  }
  return JSON.stringify({ Version: '2012-10-17', Id: 'idc-multi-region-cmk', Statement: statements });
}

/** Does a policy grant Identity Center what it needs (both service principals; DescribeKey and Decrypt)? */
export function policyGrantsIdc(policy: string | undefined): boolean {
  if (!policy) return false;
  try {
    const doc = JSON.parse(policy) as {
      Statement?: {
        Effect?: string;
        Principal?: { Service?: string | string[] } | string;
        Action?: string | string[];
      }[];
    };
    const granted = new Map<string, Set<string>>();
    for (const st of doc.Statement ?? []) {
      if (st.Effect !== 'Allow' || typeof st.Principal !== 'object') continue;
      for (const svc of ([] as string[]).concat(st.Principal.Service ?? [])) {
        const set = granted.get(svc) ?? new Set<string>();
        ([] as string[]).concat(st.Action ?? []).forEach((a) => set.add(a));
        granted.set(svc, set);
      }
    }
    return ['sso.amazonaws.com', 'identitystore.amazonaws.com'].every((svc) => {
      const a = granted.get(svc);
      return a && (a.has('kms:*') || (a.has('kms:Decrypt') && a.has('kms:DescribeKey')));
    });
  } catch {
    return false;
  }
}

/** Policies compare equal when they are the same JSON, whatever the key order or spacing. */
export function samePolicy(a: string | undefined, b: string | undefined): boolean {
  const norm = (p: string | undefined): string => {
    const sort = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sort)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
            )
          : v;
    try {
      return JSON.stringify(sort(JSON.parse(p ?? 'null')));
    } catch {
      return p ?? '';
    }
  };
  return norm(a) === norm(b);
}

type Statement = { Effect?: string; Principal?: unknown; Action?: string | string[]; Condition?: unknown };
const statementsOf = (policy: string): Statement[] => {
  try {
    const doc = JSON.parse(policy) as { Statement?: Statement | Statement[] };
    return Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  } catch {
    return [];
  }
};
const principals = (p: unknown): string[] =>
  typeof p === 'string'
    ? [p]
    : Object.entries((p ?? {}) as Record<string, string | string[]>).flatMap(([kind, v]) =>
        (Array.isArray(v) ? v : [v]).map((x) => `${kind}:${x}`),
      );
const actions = (a: string | string[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []);

/**
 * What `policy` allows beyond `expected`: each (principal, action) pair of an Allow statement that no
 * statement of the expected policy allows with the same conditions. Empty when it grants nothing more.
 */
export function extraGrants(policy: string | undefined, expected: string): string[] {
  if (!policy) return [];
  const allowed = new Set(
    statementsOf(expected).flatMap((st) =>
      principals(st.Principal).flatMap((p) =>
        actions(st.Action).map((a) => `${p} ${a} ${JSON.stringify(st.Condition ?? {})}`),
      ),
    ),
  );
  const extra = new Set<string>();
  for (const st of statementsOf(policy)) {
    if (st.Effect !== 'Allow') continue;
    for (const p of principals(st.Principal))
      for (const a of actions(st.Action))
        if (!allowed.has(`${p} ${a} ${JSON.stringify(st.Condition ?? {})}`))
          extra.add(`${p} → ${a}${st.Condition ? ' (other conditions)' : ''}`);
  }
  return [...extra];
}

/** What a key's policy grants beyond the Identity Center policy of its account (and of the organization it names). */
export function grantsBeyondIdc(policy: string | undefined, accountId: string, opts: KeyPolicyOptions = {}): string[] {
  const orgId = /"aws:(?:PrincipalOrgID|SourceOrgID)"\s*:\s*"(o-[a-z0-9]+)"/.exec(policy ?? '')?.[1];
  return extraGrants(policy, identityCenterKeyPolicy(accountId, orgId, opts));
}
