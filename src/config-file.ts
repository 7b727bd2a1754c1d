import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { z } from 'zod';
import { REGION_PATTERN } from './engine/inputs';

/**
 * The configuration file (IDC_CONFIG, e.g. idc-bot.yml): several Identity Center instances (one per
 * AWS Organization), each with its account's role, primary Region, Regions, key alias, channels and
 * roles; defaults at the top. Secrets never go here (they stay in the environment or the secret).
 * `docs/idc-bot.schema.json` is generated from this schema for editors (npm run config-schema).
 */
/** One check per kind of setting, shared by the file and the environment variables (src/config.ts). */
export const Field = {
  Region: z.string().regex(REGION_PATTERN, 'must be a Region name such as us-east-1'),
  Channel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID such as C0123ABCD (not a #name)'),
  RoleArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/.+/,
      'must be an IAM role ARN such as arn:aws:iam::111122223333:role/idc-bot',
    ),
  ExternalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 characters: letters, digits and +=,.@:/-'),
  KeyAlias: z.string().regex(/^alias\/[a-zA-Z0-9/_-]+$/, 'must look like alias/identity-center'),
  InstanceArn: z
    .string()
    .regex(
      /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
      'must be an instance ARN such as arn:aws:sso:::instance/ssoins-1234567890abcdef',
    ),
  AccountId: z
    .string()
    .regex(/^\d{12}$/, "must be the 12-digit ID of the organization's delegated administrator account"),
  /** Role name → Slack user IDs (U…/W…), user group IDs (S…) or "*". */
  Roles: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, 'role names are kebab-case, e.g. identity-admins'),
      z
        .array(
          z
            .string()
            .regex(
              /^(\*|[UWS][A-Z0-9]{2,})$/,
              'members are Slack user IDs (U…/W…), user group IDs (S…) or "*" for everyone',
            ),
        )
        .min(1, 'name at least one member'),
    )
    .describe(
      'Role name → Slack user IDs, user group IDs or "*"; workflows name the roles (identity-admins, requesters)',
    ),
};
const { Region, Channel } = Field;

const Shared = {
  roleArn: Field.RoleArn.describe(
    "The role in the instance's management account the bot assumes (STS AssumeRole)",
  ).optional(),
  externalId: Field.ExternalId.describe("The external ID the role's trust policy requires").optional(),
  keyAlias: Field.KeyAlias.describe(
    'Alias of the multi-Region customer managed key the bot creates or reuses',
  ).optional(),
  allowedRegions: z
    .array(Region)
    .min(1)
    .describe('Regions that may be added (all known Regions when absent)')
    .optional(),
  notifyChannel: Channel.describe("Where the watcher's alerts and failover announcements go").optional(),
  roles: Field.Roles.optional(),
};

const Instance = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a short kebab-case name such as prod (it is typed in --instance)'),
    primaryRegion: Region.describe("The instance's primary Region"),
    instanceArn: Field.InstanceArn.optional(),
    delegatedAdminAccount: Field.AccountId.optional(),
    channel: Channel.describe('The channel whose commands act on this instance (its workflows post there)'),
    idpApp: z
      .string()
      .regex(/^[\w-]{4,64}$/, "must be an app's id: Okta's 0oa… or the Entra app registration's Object ID")
      .describe(
        "With IDC_IDP: this instance's Identity Center app in the IdP (each instance has its own SAML app): the Okta app id, or the Entra app registration's Object ID",
      )
      .optional(),
    ...Shared,
  })
  .strict();

export const ConfigFileSchema = z
  .object({
    $schema: z.string().optional(),
    defaults: z.object(Shared).strict().describe('What every instance gets unless it says otherwise').optional(),
    instances: z.array(Instance).min(1, 'list at least one instance'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.instances.forEach((inst, i) => {
      if (seen.has(inst.name))
        ctx.addIssue({ code: 'custom', path: ['instances', i, 'name'], message: `"${inst.name}" is used twice` });
      seen.add(inst.name);
      if (!inst.roles && !file.defaults?.roles)
        ctx.addIssue({
          code: 'custom',
          path: ['instances', i, 'roles'],
          message: 'no roles: give the instance roles, or put them under defaults.roles',
        });
    });
  });

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** One Identity Center instance the bot serves, with the defaults applied. */
export interface InstanceConfig {
  name: string;
  homeRegion: string;
  instanceArn?: string;
  roleArn?: string;
  externalId?: string;
  keyAlias: string;
  /** Comma-separated (as the workflow input carries it). */
  allowedRegions?: string;
  delegatedAdminAccount?: string;
  channel: string;
  notifyChannel?: string;
  roles: Record<string, string[]>;
  /** The instance's app in the IdP (IDC_IDP): from the file's `idpApp`, or OKTA_APP_ID / ENTRA_APP_OBJECT_ID. */
  idpApp?: string;
}

const where = (path: PropertyKey[]) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '') ||
  '(top level)';

/** The file's text; `setting` names where its path came from, for the error. */
export function readConfigText(path: string, setting = 'IDC_CONFIG'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** Reads and checks the file; throws one error naming the file, each bad path and its fix. */
export const readConfigFile = (path: string): InstanceConfig[] => parseConfigFile(readConfigText(path), path);

/** Checks the file's text (`source`: where it came from, for errors: a path or an SSM parameter). */
export function parseConfigFile(text: string, source: string): InstanceConfig[] {
  let data: unknown;
  try {
    data = load(text, { filename: source });
  } catch (err) {
    throw new Error(`${source} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = ConfigFileSchema.safeParse(data, { jitless: true }); // parsed once: no compiled fast path
  if (!parsed.success)
    throw new Error(
      `${source} is invalid:\n${parsed.error.issues.map((i) => `  - ${where(i.path)}: ${i.message}`).join('\n')}\nSee "Configuration file" in README.md (docs/idc-bot.schema.json for editors).`,
    );
  const { defaults = {}, instances } = parsed.data;
  return instances.map((i) => {
    const allowed = i.allowedRegions ?? defaults.allowedRegions;
    const roleArn = i.roleArn ?? defaults.roleArn;
    const externalId = i.externalId ?? defaults.externalId;
    const notifyChannel = i.notifyChannel ?? defaults.notifyChannel;
    return {
      name: i.name,
      homeRegion: i.primaryRegion,
      ...(i.instanceArn ? { instanceArn: i.instanceArn } : {}),
      ...(roleArn ? { roleArn } : {}),
      ...(externalId ? { externalId } : {}),
      keyAlias: i.keyAlias ?? defaults.keyAlias ?? 'alias/identity-center',
      ...(allowed ? { allowedRegions: allowed.join(',') } : {}),
      ...(i.delegatedAdminAccount ? { delegatedAdminAccount: i.delegatedAdminAccount } : {}),
      channel: i.channel,
      ...(notifyChannel ? { notifyChannel } : {}),
      roles: (i.roles ?? defaults.roles) as Record<string, string[]>,
      ...(i.idpApp ? { idpApp: i.idpApp } : {}),
    };
  });
}

/** The JSON Schema of the file, for editors (written to docs/idc-bot.schema.json). */
export const configFileJsonSchema = () =>
  z.toJSONSchema(ConfigFileSchema, { target: 'draft-2020-12', unrepresentable: 'any' });
