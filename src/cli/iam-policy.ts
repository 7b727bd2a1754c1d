import { parseArgs } from 'node:util';
import { readConfigFile } from '../config-file';
import { fleetIamPolicies } from '../fleet-iam-policy';
import { EXAMPLE_SETTINGS, botIamPolicy, type PolicySettings } from '../iam-policy';

const USAGE = `npm run iam-policy -- --account 111122223333 --primary-region us-east-1 --regions eu-central-1,eu-west-1
    [--table idc-bot] [--alias alias/identity-center] [--instance-arn arn:aws:sso:::instance/ssoins-…]
    [--table-region eu-central-1] [--no-create-table] [--example]
Defaults come from the bot's settings: IDC_HOME_REGION, IDC_ALLOWED_REGIONS, DYNAMODB_TABLE, IDC_KEY_ALIAS, IDC_INSTANCE_ARN.

Several instances (idc-bot.yml): the bot's own role, and each instance's role with its trust policy:
npm run iam-policy -- --config idc-bot.yml --bot-role arn:aws:iam::999988887777:role/idc-bot [--table idc-bot] [--no-create-table]
(--config defaults to IDC_CONFIG.)`;

const OPTIONS = {
  account: { type: 'string' },
  'primary-region': { type: 'string' },
  regions: { type: 'string' },
  table: { type: 'string' },
  alias: { type: 'string' },
  'instance-arn': { type: 'string' },
  'table-region': { type: 'string' },
  'no-create-table': { type: 'boolean' },
  example: { type: 'boolean' },
  config: { type: 'string' },
  'bot-role': { type: 'string' },
} as const;

/** `--config` (or IDC_CONFIG): a fleet's policies, from its file; else the one role's policy. */
export function policiesFrom(argv: string[], env: NodeJS.ProcessEnv): unknown {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  const file = values.example ? undefined : (values.config ?? env.IDC_CONFIG);
  if (!file) return botIamPolicy(settingsFrom(argv, env));
  return fleetIamPolicies(readConfigFile(file), {
    roleArn: values['bot-role'] ?? '',
    table: values.table ?? env.DYNAMODB_TABLE ?? 'idc-bot',
    createTable: !values['no-create-table'],
  });
}

/** Builds the settings from the command line, then the bot's environment; throws with the fix. */
export function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): PolicySettings {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  if (values.example) return EXAMPLE_SETTINGS;
  const accountId = values.account ?? '';
  const primaryRegion = values['primary-region'] ?? env.IDC_HOME_REGION ?? '';
  const regions = (values.regions ?? env.IDC_ALLOWED_REGIONS ?? '').split(',').filter(Boolean);
  const problems = [
    !/^\d{12}$/.test(accountId) && '--account: the 12-digit ID of the management account',
    !/^[a-z]{2}(-[a-z]+)+-\d$/.test(primaryRegion) && '--primary-region (or IDC_HOME_REGION): e.g. us-east-1',
    !regions.length && '--regions (or IDC_ALLOWED_REGIONS): the Regions the bot may add, comma-separated',
  ].filter((p): p is string => Boolean(p));
  if (problems.length) throw new Error(`Missing or invalid:\n  - ${problems.join('\n  - ')}\n\n${USAGE}`);
  return {
    accountId,
    primaryRegion,
    allowedRegions: regions.filter((r) => r !== primaryRegion),
    table: values.table ?? env.DYNAMODB_TABLE ?? 'idc-bot',
    keyAlias: values.alias ?? env.IDC_KEY_ALIAS ?? 'alias/identity-center',
    instanceArn: values['instance-arn'] ?? env.IDC_INSTANCE_ARN,
    tableRegion: values['table-region'],
    createTable: !values['no-create-table'],
  };
}

if (require.main === module) {
  try {
    process.stdout.write(`${JSON.stringify(policiesFrom(process.argv.slice(2), process.env), null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
