import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { load as parse } from 'js-yaml';
import { configFileJsonSchema } from '../../src/config-file';
import { loadConfig, secretsOf } from '../../src/config';
import { createBot, tableFailure } from '../../src/main';

describe('configuration', () => {
  it('runs the sandbox with no settings', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('sandbox');
    expect(c.DYNAMODB_TABLE).toBe('idc-bot');
  });

  it('lists every bad variable with its fix, and never echoes a secret', () => {
    let message = '';
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'xoxp-secret-user-token',
        IDC_CHANNEL: '#ops',
        IDC_ROLES: '{"admins":["alice"]}',
        PORT: 'eighty',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('SLACK_BOT_TOKEN: must be a bot token starting with xoxb-');
    expect(message).toContain('IDC_CHANNEL: must be a channel ID such as C0123ABCD');
    expect(message).toContain('IDC_ROLES.admins.0: members are Slack user IDs');
    expect(message).toContain('PORT:');
    expect(message).not.toContain('xoxp-secret-user-token');
  });

  it('requires the signing secret and the channel in production', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set[\s\S]*IDC_CHANNEL: required/,
    );
  });

  const PROD = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-123', IDC_CHANNEL: 'C0123ABCD' };

  it('refuses to start production without explicit roles (no "everyone may approve" default)', () => {
    expect(() => loadConfig(PROD)).toThrow(/IDC_ROLES: required when SLACK_BOT_TOKEN is set/);
    expect(loadConfig({ ...PROD, IDC_ROLES: '{"identity-admins":["U012ABC"],"requesters":["*"]}' }).mode).toBe(
      'production',
    );
  });

  it('asks for everything an IdP adapter needs (IDC_IDP), and keeps its credentials out of logs', () => {
    expect(() => loadConfig({ IDC_IDP: 'okta', OKTA_ORG_URL: 'https://example.okta.com' })).toThrow(
      /OKTA_CLIENT_ID: required when IDC_IDP=okta[\s\S]*OKTA_PRIVATE_KEY: required[\s\S]*OKTA_APP_ID: required/,
    );
    expect(() => loadConfig({ IDC_IDP: 'ping' })).toThrow(/IDC_IDP: must be okta or entra/);
    // The bot's IdP credentials never travel over plain HTTP (except to this machine: the emulators).
    expect(() => loadConfig({ OKTA_ORG_URL: 'http://example.okta.com' })).toThrow(
      /OKTA_ORG_URL: must be an https:\/\/ URL such as https:\/\/example\.okta\.com/,
    );
    expect(() => loadConfig({ ENTRA_LOGIN_URL: 'http://login.example' })).toThrow(/ENTRA_LOGIN_URL: must be an https/);
    expect(loadConfig({ OKTA_ORG_URL: 'http://127.0.0.1:4010' }).OKTA_ORG_URL).toBe('http://127.0.0.1:4010');
    const c = loadConfig({
      IDC_IDP: 'entra',
      ENTRA_TENANT_ID: 'contoso.onmicrosoft.com',
      ENTRA_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
      ENTRA_CLIENT_SECRET: 'entra-secret-value',
      ENTRA_APP_OBJECT_ID: '66666666-7777-8888-9999-000000000000',
    });
    expect(secretsOf(c)).toContain('entra-secret-value');
  });

  it('refuses to start production when an approver role is "*"', async () => {
    const config = loadConfig({
      ...PROD,
      IDC_ROLES: '{"identity-admins":["*"],"requesters":["U012ABC"]}',
      AWS_REGION: 'us-east-1',
    });
    await expect(createBot(config)).rejects.toThrow(/gives everyone \("\*"\) the approver role identity-admins/);
  });
});

describe('first-start failures', () => {
  it('name the real cause of a failed table check first, and what to do', () => {
    const noCreds = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(tableFailure('idc-bot', noCreds)).toBe(
      'DynamoDB table idc-bot could not be checked or created: no AWS credentials were found: give the bot a role (an instance profile, task or function role), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
    const denied = Object.assign(new Error('User: x is not authorized to perform: dynamodb:DescribeTable'), {
      name: 'AccessDeniedException',
    });
    expect(tableFailure('idc-bot', denied)).toContain('access denied');
    expect(tableFailure('idc-bot', new Error('getaddrinfo ENOTFOUND'))).toContain(
      'Error: getaddrinfo ENOTFOUND; check DYNAMODB_TABLE',
    );
  });
});

describe('the configuration file (IDC_CONFIG)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idc-config-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const example = join(__dirname, '../../idc-bot.example.yml');

  it('reads instances with the defaults applied; production needs no IDC_CHANNEL or IDC_ROLES then', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-123', IDC_CONFIG: example });
    expect(config.instances.map((i) => [i.name, i.homeRegion, i.channel, i.keyAlias, i.allowedRegions])).toEqual([
      ['prod', 'us-east-1', 'C0PRODIDC', 'alias/identity-center', 'eu-central-1,us-west-2'],
      ['nonprod', 'eu-west-1', 'C0NONPRODIDC', 'alias/identity-center', 'eu-central-1'],
    ]);
    expect(config.instances[0]?.roles['identity-admins']).toEqual(['S0IDADMINS']);
    expect(config.instances[1]?.roles['identity-admins']).toEqual(['U0ALICE', 'U0BOB']);
  });

  it('without a file, the environment makes one instance, "default", as before', () => {
    const config = loadConfig({ IDC_HOME_REGION: 'eu-west-1', IDC_CHANNEL: 'C0IDC', IDC_KEY_ALIAS: 'alias/idc' });
    expect(config.instances).toEqual([
      expect.objectContaining({ name: 'default', homeRegion: 'eu-west-1', channel: 'C0IDC', keyAlias: 'alias/idc' }),
    ]);
  });

  it('names the file, the path and the fix for each mistake', () => {
    const bad = file(
      'bad.yml',
      `instances:
  - name: prod
    primaryRegion: us-east-9x
    channel: "#idc"
    roles: { identity-admins: [alice] }
  - name: prod
    primaryRegion: us-east-1
    channel: C0X1
    colour: blue
`,
    );
    expect(() => loadConfig({ IDC_CONFIG: bad })).toThrow(
      new RegExp(
        [
          `${bad.replace(/[.]/g, '\\.')} is invalid:`,
          '  - instances\\[0\\]\\.primaryRegion: must be a Region name such as us-east-1',
          '  - instances\\[0\\]\\.channel: must be a channel ID such as C0123ABCD \\(not a #name\\)',
          '  - instances\\[0\\]\\.roles\\.identity-admins\\[0\\]: members are Slack user IDs',
          '  - instances\\[1\\]: Unrecognized key: "colour"',
        ].join('[\\s\\S]*'),
      ),
    );
    const dup = file(
      'dup.yml',
      'instances:\n  - { name: a, primaryRegion: us-east-1, channel: C0A1 }\n  - { name: a, primaryRegion: us-east-1, channel: C0A2, roles: { requesters: ["*"] } }\n',
    );
    expect(() => loadConfig({ IDC_CONFIG: dup })).toThrow(
      /instances\[0\]\.roles: no roles: give the instance roles, or put them under defaults\.roles[\s\S]*instances\[1\]\.name: "a" is used twice/,
    );
    expect(() => loadConfig({ IDC_CONFIG: file('yaml.yml', 'instances: [\n') })).toThrow(/yaml\.yml is not valid YAML/);
    expect(() => loadConfig({ IDC_CONFIG: join(dir, 'missing.yml') })).toThrow(
      /IDC_CONFIG: cannot read .*missing\.yml \(ENOENT\)/,
    );
  });

  it('an SSM parameter (the deployed stack) is read as the bot starts, and named in its errors', () => {
    expect(() => loadConfig({ IDC_CONFIG: 'ssm:/idc-bot/config' })).toThrow(
      /IDC_CONFIG: ssm:\/idc-bot\/config is an SSM parameter, which the bot reads as it starts/,
    );
    expect(() => loadConfig({ IDC_CONFIG: 'idc-bot.json' })).toThrow(/IDC_CONFIG: must be the path of a YAML file/);
    expect(() => loadConfig({ IDC_CONFIG: 'ssm:idc bot' })).toThrow(
      /IDC_CONFIG: must be .* or ssm:<parameter name or ARN>/,
    );
    expect(() => loadConfig({ IDC_CONFIG: 'ssm:idc-bot-config' })).toThrow(/is an SSM parameter/);
    expect(() => loadConfig({ IDC_CONFIG: 'ssm:/p', IDC_CONFIG_SHA256: 'abc' })).toThrow(
      /IDC_CONFIG_SHA256: must be the SHA-256/,
    );
    const source = { source: 'SSM parameter /idc-bot/config', text: 'instances: []\n' };
    expect(() => loadConfig({ IDC_CONFIG: 'ssm:/idc-bot/config' }, source)).toThrow(
      /SSM parameter \/idc-bot\/config is invalid:\n {2}- instances: list at least one instance/,
    );
  });

  it("each instance names its own Identity Center app in the IdP (one app would get every instance's ACS URLs)", () => {
    const okta = {
      IDC_IDP: 'okta',
      OKTA_ORG_URL: 'https://example.okta.com',
      OKTA_CLIENT_ID: '0oabot',
      OKTA_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----',
    };
    const fleet = (prodApp: string) =>
      file(
        'idp.yml',
        `defaults: { roles: { requesters: ["*"] } }
instances:
  - { name: prod, primaryRegion: us-east-1, channel: C0A1${prodApp} }
  - { name: nonprod, primaryRegion: eu-west-1, channel: C0A2, idpApp: 0oanonprod }
`,
      );
    expect(() => loadConfig({ ...okta, IDC_CONFIG: fleet('') })).toThrow(
      /instance "prod": idpApp: required when IDC_IDP=okta \(this instance's Identity Center app in Okta/,
    );
    const config = loadConfig({ ...okta, IDC_CONFIG: fleet(', idpApp: 0oaprod') });
    expect(config.instances.map((i) => i.idpApp)).toEqual(['0oaprod', '0oanonprod']);
    expect(() => loadConfig({ ...okta, IDC_CONFIG: fleet(', idpApp: 0oaprod'), OKTA_APP_ID: '0oaprod' })).toThrow(
      /OKTA_APP_ID: IDC_CONFIG names a file, which says this per instance/,
    );
    // One instance from the environment: its app is OKTA_APP_ID.
    expect(loadConfig({ ...okta, OKTA_APP_ID: '0oaone' }).instances[0]?.idpApp).toBe('0oaone');
  });

  it('refuses per-instance settings in the environment as well as in the file', () => {
    expect(() => loadConfig({ IDC_CONFIG: example, IDC_CHANNEL: 'C0IDC', IDC_ROLES: '{"requesters":["*"]}' })).toThrow(
      /IDC_CHANNEL: IDC_CONFIG names a file, which says this per instance; remove IDC_CHANNEL[\s\S]*IDC_ROLES:/,
    );
  });

  it('the JSON Schema for editors is the one the zod schema makes, and the example passes it', () => {
    const checkedIn = JSON.parse(readFileSync(join(__dirname, '../../docs/idc-bot.schema.json'), 'utf8'));
    expect(checkedIn).toEqual(configFileJsonSchema()); // npm run config-schema writes it
    const ajv = new Ajv2020({ allErrors: true });
    const validate = ajv.compile(checkedIn);
    expect(validate(parse(readFileSync(example, 'utf8')))).toBe(true);
    expect(validate({ instances: [{ name: 'x', primaryRegion: 'us-east-1' }] })).toBe(false); // no channel
  });
});
