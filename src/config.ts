import { z } from 'zod';
import { REGION_PATTERN } from './engine/inputs';
import { Field, parseConfigFile, readConfigFile, type InstanceConfig } from './config-file';
import { SECRET_ARN } from './secrets';

const REGION = REGION_PATTERN.source.slice(1, -1);

/** IDC_CONFIG naming an SSM parameter (src/config-parameter.ts reads it): its name or ARN, and the ARN's Region. */
export const SSM_CONFIG = /^ssm:(arn:aws[a-z-]*:ssm:([a-z0-9-]+):\d{12}:parameter\/.+|[\w.\-/]+)$/;

/** IDC_ROLES: the file's roles, as JSON text. */
const Roles = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'is not JSON; write e.g. {"identity-admins":["U012ABC","S034DEF"],"requesters":["*"]}',
      });
      return z.NEVER;
    }
  })
  .pipe(Field.Roles);

/**
 * An IdP endpoint: HTTPS, since the bot sends a signed assertion or a client secret there (plain
 * HTTP only to this machine, for the emulators).
 */
const IdpUrl = (example: string) =>
  z
    .string()
    .url(`must be a URL such as ${example}`)
    .refine((u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    }, `must be an https:// URL such as ${example} (the bot sends its IdP credentials there)`);

const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Every environment variable the bot reads, with its meaning (the README table is made from this). */
export const EnvSchema = z.object({
  SLACK_BOT_TOKEN: optional(z.string().regex(/^xoxb-/, 'must be a bot token starting with xoxb-')),
  SLACK_SIGNING_SECRET: optional(
    z.string().min(8, 'looks too short; copy it from Basic Information → App Credentials'),
  ),
  SLACK_APP_TOKEN: optional(
    z.string().regex(/^xapp-/, 'must be an app-level token starting with xapp- (only for Socket Mode)'),
  ),
  SLACK_SECRET_ARN: optional(
    z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:…)'),
  ),
  SLACK_API_URL: optional(z.string().url('must be a URL such as https://slack.com/api/')),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  IDC_CONFIG: optional(
    z
      .string()
      .refine(
        (v) => /\.ya?ml$/.test(v) || SSM_CONFIG.test(v),
        'must be the path of a YAML file such as idc-bot.yml, or ssm:<parameter name or ARN> (the deployed stack)',
      ),
  ),
  IDC_CONFIG_SHA256: optional(
    z.string().regex(/^[0-9a-f]{64}$/, "must be the SHA-256 (hex) of IDC_CONFIG's text, as the stack sets it"),
  ),
  IDC_CHANNEL: optional(Field.Channel),
  IDC_NOTIFY_CHANNEL: optional(Field.Channel),
  IDC_ROLES: Roles.default({ 'identity-admins': ['*'], requesters: ['*'] } as never),
  IDC_REQUESTER_ROLE: z.string().default('requesters'),
  IDC_VIEWER_ROLE: optional(z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a role name from IDC_ROLES, e.g. viewers')),
  IDC_NOTIFY_APPROVERS: z.enum(['thread', 'dm'], { message: 'must be thread or dm' }).default('thread'),
  IDC_REQUIRE_REASON: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  IDC_TICKET_PATTERN: optional(
    z.string().transform((text, ctx) => {
      try {
        return new RegExp(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a regular expression; write e.g. ^CHG[0-9]+$' });
        return z.NEVER;
      }
    }),
  ),
  IDC_COMMANDS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(20),
  IDC_HOME_REGION: optional(Field.Region),
  IDC_INSTANCE_ARN: optional(Field.InstanceArn),
  IDC_ROLE_ARN: optional(Field.RoleArn),
  IDC_ROLE_EXTERNAL_ID: optional(Field.ExternalId),
  IDC_DELEGATED_ADMIN_ACCOUNT: optional(Field.AccountId),
  IDC_KEY_ALIAS: Field.KeyAlias.default('alias/identity-center'),
  IDC_ALLOWED_REGIONS: optional(
    z.string().regex(new RegExp(`^${REGION}(,${REGION})*$`), 'must be a comma-separated list of Region names'),
  ),
  DYNAMODB_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name')
    .default('idc-bot'),
  DYNAMODB_CREATE_TABLE: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  IDC_WATCH_INTERVAL: z
    .string()
    .regex(/^(0|\d+(ms|s|m|h|d))$/, 'must be a duration such as 5m (0 turns the watcher off)')
    .default('5m'),
  IDC_WATCH_STUCK_AFTER: z
    .string()
    .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 3h')
    .default('3h'),
  IDC_TICK_MS: z.coerce.number().int().min(50).default(1000),
  IDC_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The IdP adapter (opt-in): the bot then registers each Region's ACS URL itself, behind an approval.
  IDC_IDP: optional(z.enum(['okta', 'entra'], { message: 'must be okta or entra (unset: a person updates the IdP)' })),
  OKTA_ORG_URL: optional(IdpUrl('https://example.okta.com (your Okta org)')),
  OKTA_APP_ID: optional(z.string().regex(/^[\w-]{4,64}$/, "must be the Identity Center app's id in Okta (0oa…)")),
  OKTA_CLIENT_ID: optional(z.string().regex(/^[\w-]{4,64}$/, "must be the API service app's client id")),
  OKTA_KEY_ID: optional(z.string().max(200)),
  OKTA_PRIVATE_KEY: optional(z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key (PKCS#8)' })),
  ENTRA_TENANT_ID: optional(z.string().regex(/^[\w.-]{3,100}$/, 'must be the directory (tenant) ID')),
  ENTRA_CLIENT_ID: optional(z.string().regex(/^[0-9a-f-]{36}$/i, "must be the bot's app registration's client ID")),
  ENTRA_CLIENT_SECRET: optional(z.string().min(8)),
  ENTRA_APP_OBJECT_ID: optional(
    z.string().regex(/^[0-9a-f-]{36}$/i, "must be the Identity Center app registration's Object ID"),
  ),
  ENTRA_LOGIN_URL: optional(IdpUrl('https://login.microsoftonline.us')),
  ENTRA_GRAPH_URL: optional(IdpUrl('https://graph.microsoft.us/v1.0')),
});

/** What each IdP adapter needs (IDC_IDP); the app is the instance's (`idpApp` in the file). */
const IDP_NEEDS = {
  okta: ['OKTA_ORG_URL', 'OKTA_CLIENT_ID', 'OKTA_PRIVATE_KEY'],
  entra: ['ENTRA_TENANT_ID', 'ENTRA_CLIENT_ID', 'ENTRA_CLIENT_SECRET'],
} as const;
const IDP_APP = { okta: 'OKTA_APP_ID', entra: 'ENTRA_APP_OBJECT_ID' } as const;

export type Env = z.infer<typeof EnvSchema>;
export type Roles = Record<string, string[]>;

export interface Config extends Env {
  mode: 'production' | 'sandbox';
  modeReason: string;
  /** The Identity Center instances served: from IDC_CONFIG's file, or one ("default") from the environment. */
  instances: readonly InstanceConfig[];
}

/** What the file says per instance: set in the environment as well, they would be ambiguous. */
export const FILE_OWNS = [
  'IDC_HOME_REGION',
  'IDC_INSTANCE_ARN',
  'IDC_ROLE_ARN',
  'IDC_ROLE_EXTERNAL_ID',
  'IDC_DELEGATED_ADMIN_ACCOUNT',
  'IDC_KEY_ALIAS',
  'IDC_ALLOWED_REGIONS',
  'IDC_CHANNEL',
  'IDC_NOTIFY_CHANNEL',
  'IDC_ROLES',
  'OKTA_APP_ID',
  'ENTRA_APP_OBJECT_ID',
] as const;

/** The single instance of a configuration made of environment variables only. */
function instanceFromEnv(e: Env, env: NodeJS.ProcessEnv): InstanceConfig {
  return {
    name: 'default',
    homeRegion: e.IDC_HOME_REGION ?? env.AWS_REGION ?? 'us-east-1',
    ...(e.IDC_INSTANCE_ARN ? { instanceArn: e.IDC_INSTANCE_ARN } : {}),
    ...(e.IDC_ROLE_ARN ? { roleArn: e.IDC_ROLE_ARN } : {}),
    ...(e.IDC_ROLE_EXTERNAL_ID ? { externalId: e.IDC_ROLE_EXTERNAL_ID } : {}),
    keyAlias: e.IDC_KEY_ALIAS,
    ...(e.IDC_ALLOWED_REGIONS ? { allowedRegions: e.IDC_ALLOWED_REGIONS } : {}),
    ...(e.IDC_DELEGATED_ADMIN_ACCOUNT ? { delegatedAdminAccount: e.IDC_DELEGATED_ADMIN_ACCOUNT } : {}),
    channel: e.IDC_CHANNEL ?? '',
    ...(e.IDC_NOTIFY_CHANNEL ? { notifyChannel: e.IDC_NOTIFY_CHANNEL } : {}),
    roles: e.IDC_ROLES,
    ...(e.IDC_IDP && e[IDP_APP[e.IDC_IDP]] ? { idpApp: e[IDP_APP[e.IDC_IDP]] } : {}),
  };
}

/**
 * Parses the environment once; throws one error listing every bad variable and its fix. `file`: the
 * configuration file's text when IDC_CONFIG names an SSM parameter (`configAtStart` fetches it).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file?: { source: string; text: string }): Config {
  const parsed = EnvSchema.safeParse(env, { jitless: true }); // parsed once: no compiled fast path (about 5 ms)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  - ${String(i.path[0] ?? '?')}${i.path.length > 1 ? `.${i.path.slice(1).join('.')}` : ''}: ${i.message}`,
    );
    throw new Error(`Configuration is invalid:\n${lines.join('\n')}\nSee the configuration table in README.md.`);
  }
  const e = parsed.data;
  const idpMissing: string[] = e.IDC_IDP ? IDP_NEEDS[e.IDC_IDP].filter((k) => !e[k]) : [];
  if (e.IDC_IDP && !e.IDC_CONFIG && !e[IDP_APP[e.IDC_IDP]]) idpMissing.push(IDP_APP[e.IDC_IDP]);
  if (idpMissing.length)
    throw new Error(
      `Configuration is invalid:\n${idpMissing.map((m) => `  - ${m}: required when IDC_IDP=${e.IDC_IDP} (README "The IdP side")`).join('\n')}\nSee the configuration table in README.md.`,
    );
  const production = Boolean(e.SLACK_BOT_TOKEN);
  if (e.IDC_CONFIG) {
    const both = FILE_OWNS.filter((k) => env[k]);
    if (both.length)
      throw new Error(
        `Configuration is invalid:\n${both.map((k) => `  - ${k}: IDC_CONFIG names a file, which says this per instance; remove ${k} from the environment (or IDC_CONFIG)`).join('\n')}\nSee the configuration table in README.md.`,
      );
  }
  if (e.IDC_CONFIG && SSM_CONFIG.test(e.IDC_CONFIG) && !file)
    throw new Error(
      `IDC_CONFIG: ${e.IDC_CONFIG} is an SSM parameter, which the bot reads as it starts (npm run start:prod, the Lambda handler); here, name a file`,
    );
  const instances = file
    ? parseConfigFile(file.text, file.source)
    : e.IDC_CONFIG
      ? readConfigFile(e.IDC_CONFIG)
      : [instanceFromEnv(e, env)];
  // Each instance has its own Identity Center app in the IdP: one app for all would get every
  // instance's ACS URLs, and the others none.
  const appless = e.IDC_IDP ? instances.filter((i) => !i.idpApp) : [];
  if (appless.length)
    throw new Error(
      `Configuration is invalid:\n${appless.map((i) => `  - instance "${i.name}": idpApp: required when IDC_IDP=${e.IDC_IDP} (this instance's Identity Center app in ${e.IDC_IDP === 'okta' ? 'Okta: its app id, 0oa…' : "Entra: its app registration's Object ID"})`).join('\n')}\nSee "Configuration file" in README.md.`,
    );
  if (production) {
    const needed: ('SLACK_SIGNING_SECRET' | 'IDC_CHANNEL')[] = e.IDC_CONFIG
      ? ['SLACK_SIGNING_SECRET']
      : ['SLACK_SIGNING_SECRET', 'IDC_CHANNEL'];
    const missing: string[] = needed.filter((k) => !e[k] && !(k === 'SLACK_SIGNING_SECRET' && e.SLACK_APP_TOKEN));
    // Fail closed: production never falls back to "everyone may start and approve".
    if (!env.IDC_ROLES && !e.IDC_CONFIG) missing.push('IDC_ROLES');
    if (missing.length) {
      const why = (m: string) =>
        m === 'IDC_ROLES'
          ? 'required when SLACK_BOT_TOKEN is set: name who may request and who may approve, e.g. {"identity-admins":["U012ABC","S034DEF"],"requesters":["S056GHI"]}'
          : 'required when SLACK_BOT_TOKEN is set';
      throw new Error(
        `Configuration is invalid:\n${missing.map((m) => `  - ${m}: ${why(m)}`).join('\n')}\nSee the configuration table in README.md.`,
      );
    }
  }
  return Object.freeze({
    ...e,
    instances,
    mode: production ? 'production' : 'sandbox',
    modeReason: production
      ? 'SLACK_BOT_TOKEN is set'
      : 'SLACK_BOT_TOKEN is not set, so everything runs locally against the emulators',
  });
}

/** Secret values, for redaction in logs and messages. */
export function secretsOf(config: Env): string[] {
  return [
    config.SLACK_BOT_TOKEN,
    config.SLACK_SIGNING_SECRET,
    config.SLACK_APP_TOKEN,
    config.OKTA_PRIVATE_KEY,
    config.ENTRA_CLIENT_SECRET,
  ].filter((s): s is string => Boolean(s));
}
