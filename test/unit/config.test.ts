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
      /OKTA_APP_ID: required when IDC_IDP=okta[\s\S]*OKTA_CLIENT_ID: required[\s\S]*OKTA_PRIVATE_KEY: required/,
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
