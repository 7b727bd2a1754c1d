import { botIamPolicy, type Statement } from './iam-policy';

/** What one Identity Center instance of a fleet (idc-bot.yml) needs, for `fleetIamPolicies`. */
export interface FleetInstance {
  name: string;
  homeRegion: string;
  roleArn?: string;
  externalId?: string;
  instanceArn?: string;
  keyAlias: string;
  /** Comma-separated. */
  allowedRegions?: string;
}

const isTableStatement = (st: Statement) => st.Sid.startsWith('BotTable');

/**
 * The policies of a fleet: the bot's own role (its table, and `sts:AssumeRole` on each instance's
 * role, nothing else), and for each instance the role in its management account (what the steps
 * call there, without the table) with its trust policy (the bot's role, with the external ID). An
 * instance without a role is in the bot's own account: its policy goes on the bot's role.
 */
export function fleetIamPolicies(
  instances: FleetInstance[],
  bot: { roleArn: string; table: string; tableRegion?: string; createTable?: boolean },
) {
  const problems = instances
    .filter((i) => i.roleArn !== undefined && !ROLE_ARN.test(i.roleArn))
    .map(
      (i) => `instance "${i.name}": roleArn: the role in its management account (arn:aws:iam::<account>:role/<name>)`,
    );
  for (const i of instances.filter((i) => !i.allowedRegions))
    problems.push(
      `instance "${i.name}": allowedRegions: the Regions the bot may add there (they scope kms:ReplicateKey)`,
    );
  if (!ROLE_ARN.test(bot.roleArn)) problems.push('--bot-role: the ARN of the role the bot itself runs as');
  if (problems.length) throw new Error(`Missing or invalid:\n  - ${problems.join('\n  - ')}`);
  const [, partition, botAccount] = ROLE_ARN.exec(bot.roleArn) as RegExpExecArray;
  const own = botIamPolicy({
    accountId: botAccount as string,
    partition,
    primaryRegion: instances[0]?.homeRegion ?? 'us-east-1',
    allowedRegions: [],
    keyAlias: 'alias/unused',
    ...bot,
  }).Statement.filter(isTableStatement);
  return {
    bot: {
      roleArn: bot.roleArn,
      policy: {
        Version: '2012-10-17' as const,
        Statement: [
          ...own,
          {
            Sid: 'AssumeEachInstanceRole',
            Effect: 'Allow' as const,
            Action: ['sts:AssumeRole'],
            Resource: instances.flatMap((i) => i.roleArn ?? []),
          },
        ],
      },
    },
    instances: Object.fromEntries(
      instances.map((i) => {
        const roleArn = i.roleArn ?? bot.roleArn;
        const [, p, account] = ROLE_ARN.exec(roleArn) as RegExpExecArray;
        const policy = botIamPolicy({
          accountId: account as string,
          partition: p,
          primaryRegion: i.homeRegion,
          allowedRegions: (i.allowedRegions ?? '').split(',').filter((r) => r && r !== i.homeRegion),
          table: 'none',
          keyAlias: i.keyAlias,
          instanceArn: i.instanceArn,
          createTable: false,
        });
        const trust = {
          Version: '2012-10-17' as const,
          Statement: [
            {
              Effect: 'Allow' as const,
              Principal: { AWS: bot.roleArn },
              Action: 'sts:AssumeRole',
              ...(i.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': i.externalId } } } : {}),
            },
          ],
        };
        return [
          i.name,
          {
            roleArn,
            policy: { ...policy, Statement: policy.Statement.filter((st) => !isTableStatement(st)) },
            ...(i.roleArn ? { trustPolicy: trust } : {}),
          },
        ];
      }),
    ),
  };
}

const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/[\w+=,.@/-]+$/;
