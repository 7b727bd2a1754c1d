import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { policiesFrom, settingsFrom } from '../../src/cli/iam-policy';
import { fleetIamPolicies } from '../../src/fleet-iam-policy';
import { EXAMPLE_SETTINGS, botIamPolicy } from '../../src/iam-policy';
import { identityCenterKeyPolicy } from '../../src/steps';

const PREFIX: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-sso-admin': 'sso',
  'client-kms': 'kms',
  'client-identitystore': 'identitystore',
  'client-organizations': 'organizations',
  'client-service-quotas': 'servicequotas',
  'client-account': 'account',
  'client-sts': 'sts',
};

/** IAM checks a transaction per item: the actions its items use. */
const TRANSACTION: Record<string, string[]> = {
  'dynamodb:TransactWriteItems': [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
};

/** The SDK packages loaded on first use (src/aws/sdk.ts), by the name the code calls them through. */
const NAMESPACES = new Map(
  [
    ...readFileSync(join(__dirname, '../../src/aws/sdk.ts'), 'utf8').matchAll(
      /export const (\w+) = onFirstUse\(\s*\(\) => require\('@aws-sdk\/(client-[a-z-]+)'\)/g,
    ),
  ].map((m) => [m[1] as string, m[2] as string]),
);

/**
 * Every AWS action the code can call, in the steps, the store and the health reader:
 * `new XCommand(` and `paginateListX(` of an imported client, or `new KMS.XCommand(` and
 * `SSOAdmin.paginateListX(` of one loaded on first use.
 */
function actionsCalled(): Set<string> {
  const actions = new Set<string>();
  const add = (file: string, pkg: string, call: string) => {
    const prefix = PREFIX[pkg];
    if (!prefix) throw new Error(`${file} calls @aws-sdk/${pkg}: add its IAM prefix to this test`);
    for (const a of TRANSACTION[`${prefix}:${call}`] ?? [`${prefix}:${call}`]) actions.add(a);
  };
  const files = ['steps', 'store', 'health'].flatMap((d) =>
    readdirSync(join(__dirname, '../../src', d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [join(__dirname, '../../src', d), f] as const),
  );
  for (const [dir, file] of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/import \{([^}]+)\} from '@aws-sdk\/(client-[a-z-]+)'/g)) {
      for (const name of (m[1] as string).split(',').map((s) => s.trim().replace(/^type /, ''))) {
        const cmd = /^(\w+)Command$/.exec(name)?.[1];
        const page = /^paginate(\w+)$/.exec(name)?.[1];
        if ((cmd || page) && text.includes(cmd ? `new ${name}(` : `${name}(`))
          add(file, m[2] as string, (cmd ?? page) as string);
      }
    }
    for (const m of text.matchAll(/\b(\w+)\.(?:(\w+)Command\(|paginate(\w+)\()/g)) {
      const pkg = NAMESPACES.get(m[1] as string);
      if (pkg) add(file, pkg, (m[2] ?? m[3]) as string);
    }
  }
  return actions;
}

describe('the IAM policy (src/iam-policy.ts) and docs/iam-policy.json', () => {
  const policy = botIamPolicy(EXAMPLE_SETTINGS);
  const granted = new Set(
    policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action)),
  );

  it('docs/iam-policy.json is the generated policy (regenerate: npm run -s iam-policy -- --example)', () => {
    expect(JSON.parse(readFileSync(join(__dirname, '../../docs/iam-policy.json'), 'utf8'))).toEqual(policy);
  });

  it('grants every AWS action the code calls', () => {
    const called = actionsCalled();
    expect(called.size).toBeGreaterThan(15);
    expect([...called].filter((a) => !granted.has(a)).sort()).toEqual([]);
  });

  it('never grants deleting or disabling keys beyond replica deletion, nor sso:* wildcards', () => {
    expect([...granted].filter((a) => /\*|DisableKey|DeleteInstance|UpdatePrimaryRegion/.test(a))).toEqual([]);
  });

  it('is generated for the given settings, and names what is missing', () => {
    const text = JSON.stringify(
      botIamPolicy(
        settingsFrom(
          ['--account', '444455556666', '--regions', 'eu-west-1', '--table', 'ops-idc', '--alias', 'alias/idc'],
          { IDC_HOME_REGION: 'us-west-2' },
        ),
      ),
    );
    expect(text).toContain('arn:aws:dynamodb:*:444455556666:table/ops-idc');
    expect(text).toContain('arn:aws:kms:us-west-2:444455556666:alias/idc');
    expect(text).toContain('"kms:ReplicaRegion":["eu-west-1"]');
    expect(() => settingsFrom(['--regions', 'eu-west-1'], {})).toThrow(
      /--account: the 12-digit ID[\s\S]*--primary-region/,
    );
    expect(() => settingsFrom(['--acount', '1'], {})).toThrow(/Unknown option '--acount'/);
  });
});

describe('the policies of a fleet (npm run iam-policy -- --config idc-bot.yml --bot-role …)', () => {
  const BOT = 'arn:aws:iam::999988887777:role/idc-bot';
  type Doc = { Statement: { Sid?: string; Action: string[] | string; Resource?: unknown; Condition?: unknown }[] };
  const fleet = policiesFrom(['--config', join(__dirname, '../../idc-bot.example.yml'), '--bot-role', BOT], {}) as {
    bot: { policy: Doc };
    instances: Record<string, { roleArn: string; policy: Doc; trustPolicy?: Doc }>;
  };

  it("gives the bot's role its table and AssumeRole on each instance's role, and nothing in Identity Center or KMS", () => {
    const actions = fleet.bot.policy.Statement.flatMap((st) => st.Action);
    expect(actions.filter((a) => !a.startsWith('dynamodb:'))).toEqual(['sts:AssumeRole']);
    const assume = fleet.bot.policy.Statement.find((st) => st.Sid === 'AssumeEachInstanceRole');
    expect(assume?.Resource).toEqual(Object.values(fleet.instances).map((i) => i.roleArn));
  });

  it("gives each instance's role its own account's Identity Center and KMS actions, no table, and trusts only the bot with the external ID", () => {
    for (const inst of Object.values(fleet.instances)) {
      const account = /::(\d{12}):/.exec(inst.roleArn)?.[1] as string;
      const text = JSON.stringify(inst.policy);
      expect(text).not.toContain('dynamodb:');
      expect(text).toMatch(new RegExp(`arn:aws:kms:[a-z0-9-]+:${account}:key/\\*`));
      expect(text).not.toMatch(/arn:aws:kms:[a-z0-9-]+:(?!\d{12})|999988887777/);
      expect(inst.trustPolicy?.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { AWS: BOT },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': expect.any(String) } },
        },
      ]);
    }
  });

  it("puts an instance without a role (the bot's own account) on the bot's role, and names what is missing", () => {
    const own = fleetIamPolicies(
      [{ name: 'own', homeRegion: 'us-east-1', keyAlias: 'alias/idc', allowedRegions: 'eu-west-1' }],
      {
        roleArn: BOT,
        table: 'idc-bot',
      },
    );
    expect(own.instances.own).toMatchObject({ roleArn: BOT });
    expect(own.instances.own).not.toHaveProperty('trustPolicy');
    // No role to assume: no AssumeRole statement (IAM refuses one with no resource).
    expect(own.bot.policy.Statement.map((st) => st.Sid)).not.toContain('AssumeEachInstanceRole');
    expect(() => policiesFrom(['--config', join(__dirname, '../../idc-bot.example.yml')], {})).toThrow(
      /--bot-role: the ARN of the role the bot itself runs as/,
    );
    expect(() =>
      fleetIamPolicies([{ name: 'x', homeRegion: 'us-east-1', keyAlias: 'alias/idc' }], { roleArn: BOT, table: 't' }),
    ).toThrow('instance "x": allowedRegions: the Regions the bot may add there');
  });
});

describe('docs/key-policy.json', () => {
  it('is the key policy the bot writes, with placeholders for the accounts and the organization', () => {
    expect(JSON.parse(readFileSync(join(__dirname, '../../docs/key-policy.json'), 'utf8'))).toEqual(
      JSON.parse(
        identityCenterKeyPolicy('MANAGEMENT_ACCOUNT_ID', 'o-ORGANIZATION_ID', {
          delegatedAdminAccountId: 'DELEGATED_ADMIN_ACCOUNT_ID',
        }),
      ),
    );
  });
});
