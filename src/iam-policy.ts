/**
 * The bot role's IAM policy, generated for given settings: the one source for `docs/iam-policy.json`,
 * `npm run iam-policy` and the deployment stack. Each statement is scoped as tightly as IAM allows
 * for what the steps call (test/integration/iam-policy.test.ts evaluates it against every call).
 */

export interface PolicySettings {
  /** The management account (where Identity Center and the key live). */
  accountId: string;
  /** Identity Center's primary Region. */
  primaryRegion: string;
  /** Regions that may be added (IDC_ALLOWED_REGIONS); the primary need not be listed. */
  allowedRegions: string[];
  /** DYNAMODB_TABLE */
  table: string;
  /** IDC_KEY_ALIAS */
  keyAlias: string;
  /** The instance ARN, when known (else any instance whose primary Region is `primaryRegion`). */
  instanceArn?: string;
  /** The Region of the bot's table ('*' = any). */
  tableRegion?: string;
  /** Whether the bot may create its table on first start (false when a stack creates it). */
  createTable?: boolean;
  partition?: string;
}

type Condition = Record<string, Record<string, string | string[]>>;
export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Condition;
}
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

/** The tags the bot puts on keys it creates; keys without `CreatedBy=idc-bot` are never changed. */
export const CREATED_BY = { key: 'CreatedBy', value: 'idc-bot' } as const;
export const RUN_TAG = 'idc-bot:run';

export function botIamPolicy(s: PolicySettings): PolicyDocument {
  return { Version: '2012-10-17', Statement: [...instanceStatements(s), ...tableStatements(s)] };
}

/** What the steps call in the management account: Identity Center, Identity Store, KMS, the preflight's reads. */
export function instanceStatements(s: Omit<PolicySettings, 'table' | 'tableRegion' | 'createTable'>): Statement[] {
  const p = s.partition ?? 'aws';
  const acct = s.accountId;
  const regions = [...new Set([s.primaryRegion, ...s.allowedRegions])];
  const keysIn = (rs: string[]) => rs.map((r) => `arn:${p}:kms:${r}:${acct}:key/*`);
  const alias = s.keyAlias.startsWith('alias/') ? s.keyAlias : `alias/${s.keyAlias}`;
  const ownKeys = { StringEquals: { [`aws:ResourceTag/${CREATED_BY.key}`]: CREATED_BY.value } };
  return [
    {
      Sid: 'IdcChangeRegionsAndEncryption',
      Effect: 'Allow',
      Action: ['sso:AddRegion', 'sso:RemoveRegion', 'sso:UpdateInstance'],
      Resource: s.instanceArn ?? `arn:${p}:sso:::instance/*`,
      Condition: { StringEquals: { 'sso:PrimaryRegion': s.primaryRegion, 'aws:RequestedRegion': s.primaryRegion } },
    },
    {
      Sid: 'IdcReads',
      Effect: 'Allow',
      Action: [
        'sso:ListInstances',
        'sso:DescribeInstance',
        'sso:GetSharedSsoConfiguration',
        'sso:ListDirectoryAssociations',
        'sso:DescribeRegion',
        'sso:ListRegions',
      ],
      Resource: '*',
    },
    {
      Sid: 'IdentityStoreDependentRegionActions',
      Effect: 'Allow',
      Action: [
        'identitystore:AddRegion',
        'identitystore:RemoveRegion',
        'identitystore:DescribeRegion',
        'identitystore:ListRegions',
        'identitystore:UpdateIdentityStore',
      ],
      Resource: '*',
    },
    {
      Sid: 'IdentityStoreReads',
      Effect: 'Allow',
      Action: [
        'identitystore:ListUsers',
        'identitystore:ListGroups',
        'sso-directory:ListUsers',
        'sso-directory:SearchUsers',
        'sso-directory:ListGroups',
        'sso-directory:SearchGroups',
      ],
      Resource: '*',
    },
    {
      Sid: 'PreflightReads',
      Effect: 'Allow',
      Action: [
        'organizations:DescribeOrganization',
        'account:GetRegionOptStatus',
        'account:ListRegions',
        'servicequotas:GetServiceQuota',
        'sts:GetCallerIdentity',
      ],
      Resource: '*',
    },
    {
      Sid: 'KmsUseThroughIdentityCenter',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKey'],
      Resource: keysIn(regions),
      Condition: { StringLike: { 'kms:ViaService': ['sso.*.amazonaws.com', 'identitystore.*.amazonaws.com'] } },
    },
    {
      Sid: 'KmsInspect',
      Effect: 'Allow',
      Action: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
      Resource: keysIn(regions),
    },
    { Sid: 'KmsList', Effect: 'Allow', Action: ['kms:ListAliases', 'kms:ListKeys'], Resource: '*' },
    {
      // Both the primary (CreateKey) and each replica (the CreateKey that ReplicateKey implies, in the replica's Region).
      Sid: 'KmsCreateMultiRegionSymmetricKeysOnly',
      Effect: 'Allow',
      Action: ['kms:CreateKey'],
      Resource: '*',
      Condition: {
        Bool: { 'kms:MultiRegion': 'true' },
        StringEquals: {
          'aws:RequestedRegion': regions,
          'kms:KeySpec': 'SYMMETRIC_DEFAULT',
          'kms:KeyUsage': 'ENCRYPT_DECRYPT',
          'kms:KeyOrigin': 'AWS_KMS',
          [`aws:RequestTag/${CREATED_BY.key}`]: CREATED_BY.value,
        },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [CREATED_BY.key, RUN_TAG] },
      },
    },
    {
      // KMS checks the tags of a key being created as kms:TagResource on every key of the Region; only the
      // bot's own tags, with its own value, may be written.
      Sid: 'KmsTagOnlyWithTheBotsTags',
      Effect: 'Allow',
      Action: ['kms:TagResource'],
      Resource: keysIn(regions),
      Condition: {
        StringEquals: { [`aws:RequestTag/${CREATED_BY.key}`]: CREATED_BY.value },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [CREATED_BY.key, RUN_TAG] },
      },
    },
    {
      Sid: 'KmsReplicatePrimaryToApprovedRegions',
      Effect: 'Allow',
      Action: ['kms:ReplicateKey'],
      Resource: keysIn([s.primaryRegion]),
      Condition: {
        StringEquals: { 'kms:ReplicaRegion': s.allowedRegions, 'kms:MultiRegionKeyType': 'PRIMARY' },
      },
    },
    {
      Sid: 'KmsManageOnlyKeysTheBotCreated',
      Effect: 'Allow',
      Action: ['kms:PutKeyPolicy', 'kms:EnableKeyRotation', 'kms:CreateAlias'],
      Resource: keysIn(regions),
      Condition: { ...ownKeys, Bool: { 'kms:MultiRegion': 'true' } },
    },
    {
      Sid: 'KmsTheBotsAliasOnly',
      Effect: 'Allow',
      Action: ['kms:CreateAlias'],
      Resource: regions.map((r) => `arn:${p}:kms:${r}:${acct}:${alias}`),
    },
    {
      Sid: 'KmsDeleteOnlyReplicasTheBotCreated',
      Effect: 'Allow',
      Action: ['kms:ScheduleKeyDeletion'],
      Resource: keysIn(s.allowedRegions),
      Condition: {
        StringEquals: { ...ownKeys.StringEquals, 'kms:MultiRegionKeyType': 'REPLICA' },
        NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '7' },
      },
    },
    {
      Sid: 'KmsNeverBypassTheLockoutCheck',
      Effect: 'Deny',
      Action: ['kms:CreateKey', 'kms:PutKeyPolicy'],
      Resource: '*',
      Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
    },
    {
      Sid: 'KmsMultiRegionServiceLinkedRole',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: `arn:${p}:iam::${acct}:role/aws-service-role/mrk.kms.amazonaws.com/AWSServiceRoleForKeyManagementServiceMultiRegionKeys`,
      Condition: { StringEquals: { 'iam:AWSServiceName': 'mrk.kms.amazonaws.com' } },
    },
  ];
}

/** The bot's own table: item reads and writes, queries on its indexes; creating it only if it may. */
export function tableStatements(
  s: Pick<PolicySettings, 'accountId' | 'table' | 'tableRegion' | 'createTable' | 'partition'>,
): Statement[] {
  const tableArn = `arn:${s.partition ?? 'aws'}:dynamodb:${s.tableRegion ?? '*'}:${s.accountId}:table/${s.table}`;
  return [
    {
      Sid: 'BotTable',
      Effect: 'Allow',
      Action: [
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:Query',
      ],
      Resource: [tableArn, `${tableArn}/index/*`],
    },
    ...(s.createTable !== false
      ? [
          {
            Sid: 'BotTableCreateOnFirstStart',
            Effect: 'Allow' as const,
            Action: ['dynamodb:CreateTable', 'dynamodb:UpdateTimeToLive'],
            Resource: tableArn,
          },
        ]
      : []),
  ];
}

/** The settings `docs/iam-policy.json` is generated with (placeholders a reader replaces, or regenerates). */
export const EXAMPLE_SETTINGS: PolicySettings = {
  accountId: '111122223333',
  primaryRegion: 'us-east-1',
  allowedRegions: ['eu-central-1', 'eu-west-1', 'us-west-2'],
  table: 'idc-bot',
  keyAlias: 'alias/identity-center',
  instanceArn: 'arn:aws:sso:::instance/ssoins-EXAMPLE',
};
