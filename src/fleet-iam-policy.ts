import { Field } from './config-file';
import { instanceStatements, tableStatements, type PolicyDocument } from './iam-policy';

/** What one Identity Center instance of a fleet (idc-bot.yml, already checked) needs, for `fleetIamPolicies`. */
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

/** The partition and account of a role ARN. */
const partsOf = (roleArn: string) => {
  const [, partition, , , account] = roleArn.split(':');
  return { partition, accountId: account as string };
};

const policy = (Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '2012-10-17', Statement });

/** What the steps call for one instance, in the given account. */
const statementsOf = (i: FleetInstance, account: { accountId: string; partition?: string }) =>
  instanceStatements({
    ...account,
    primaryRegion: i.homeRegion,
    allowedRegions: (i.allowedRegions ?? '').split(',').filter((r) => r && r !== i.homeRegion),
    keyAlias: i.keyAlias,
    instanceArn: i.instanceArn,
  });

const assumeRoles = (instances: FleetInstance[]) => {
  const roles = instances.flatMap((i) => i.roleArn ?? []);
  return roles.length
    ? [{ Sid: 'AssumeEachInstanceRole', Effect: 'Allow' as const, Action: ['sts:AssumeRole'], Resource: roles }]
    : [];
};

const withoutRegions = (instances: FleetInstance[]) =>
  instances
    .filter((i) => !i.allowedRegions)
    .map(
      (i) => `instance "${i.name}": allowedRegions: the Regions the bot may add there (they scope kms:ReplicateKey)`,
    );

/**
 * The policy of the bot's own role as the stack deploys it: what the steps call for each instance
 * without a role of its own (in the bot's account; Sids suffixed by instance when there are several,
 * as IAM wants them unique), its table, and `sts:AssumeRole` on exactly the other instances' roles.
 */
export function deployedBotPolicy(
  instances: FleetInstance[],
  bot: { accountId: string; partition?: string; table: string; tableRegion: string },
): PolicyDocument {
  const problems = withoutRegions(instances);
  if (problems.length) throw new Error(`Missing in the configuration:\n  - ${problems.join('\n  - ')}`);
  const own = instances.filter((i) => !i.roleArn);
  const suffix = (name: string) =>
    own.length > 1 ? name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()) : '';
  return policy([
    ...own.flatMap((i) => statementsOf(i, bot).map((st) => ({ ...st, Sid: `${st.Sid}${suffix(i.name)}` }))),
    ...tableStatements({ ...bot, createTable: false }),
    ...assumeRoles(instances),
  ]);
}

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
  const problems = withoutRegions(instances);
  if (!Field.RoleArn.safeParse(bot.roleArn).success)
    problems.push('--bot-role: the ARN of the role the bot itself runs as');
  if (problems.length) throw new Error(`Missing or invalid:\n  - ${problems.join('\n  - ')}`);
  return {
    bot: {
      roleArn: bot.roleArn,
      policy: policy([...tableStatements({ ...bot, ...partsOf(bot.roleArn) }), ...assumeRoles(instances)]),
    },
    instances: Object.fromEntries(
      instances.map((i) => {
        const roleArn = i.roleArn ?? bot.roleArn;
        const statements = statementsOf(i, partsOf(roleArn));
        const trust = {
          Effect: 'Allow' as const,
          Principal: { AWS: bot.roleArn },
          Action: 'sts:AssumeRole',
          ...(i.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': i.externalId } } } : {}),
        };
        return [
          i.name,
          {
            roleArn,
            policy: policy(statements),
            ...(i.roleArn ? { trustPolicy: { Version: '2012-10-17', Statement: [trust] } } : {}),
          },
        ];
      }),
    ),
  };
}
