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
    .filter((i) => !i.allowedRegions)
    .map(
      (i) => `instance "${i.name}": allowedRegions: the Regions the bot may add there (they scope kms:ReplicateKey)`,
    );
  if (!Field.RoleArn.safeParse(bot.roleArn).success)
    problems.push('--bot-role: the ARN of the role the bot itself runs as');
  if (problems.length) throw new Error(`Missing or invalid:\n  - ${problems.join('\n  - ')}`);
  const assume = {
    Sid: 'AssumeEachInstanceRole',
    Effect: 'Allow' as const,
    Action: ['sts:AssumeRole'],
    Resource: instances.flatMap((i) => i.roleArn ?? []),
  };
  return {
    bot: {
      roleArn: bot.roleArn,
      policy: policy([...tableStatements({ ...bot, ...partsOf(bot.roleArn) }), assume]),
    },
    instances: Object.fromEntries(
      instances.map((i) => {
        const roleArn = i.roleArn ?? bot.roleArn;
        const statements = instanceStatements({
          ...partsOf(roleArn),
          primaryRegion: i.homeRegion,
          allowedRegions: (i.allowedRegions ?? '').split(',').filter((r) => r !== i.homeRegion),
          keyAlias: i.keyAlias,
          instanceArn: i.instanceArn,
        });
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
