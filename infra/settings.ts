import { z } from 'zod';
import { Field } from '../src/config-file';

// The same check per kind of setting as the bot's environment and idc-bot.yml (src/config-file.ts).
const { Region, Channel } = Field;
const jsonOr = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

/** One instance's settings: in the config file when there is one. */
const INSTANCE_KEYS = [
  'homeRegion',
  'allowedRegions',
  'channel',
  'notifyChannel',
  'roles',
  'instanceArn',
  'idcRoleArn',
  'idcRoleExternalId',
  'delegatedAdminAccount',
  'keyAlias',
] as const;
const REQUIRED: readonly string[] = ['homeRegion', 'allowedRegions', 'channel', 'roles'];

/** The deployment's settings, from CDK context (`-c name=value` or cdk.context.json); validated before synth. */
export const BotSettingsSchema = z
  .object({
    runtime: z.enum(['lambda', 'container']).default('lambda'),
    /** The container's way to Slack: Socket Mode (no inbound port) or HTTP behind a load balancer. */
    containerTransport: z.enum(['socket', 'http']).default('socket'),
    /** HTTP container: the bot's public host name (Slack's request URL), and its ACM certificate in the stack's Region. */
    domainName: z
      .string()
      .regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a host name such as idc-bot.example.com')
      .optional(),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, 'must be an ACM certificate ARN')
      .optional(),
    /**
     * The configuration file (idc-bot.yml: several instances, README "Configuration file"), checked at
     * synth and stored in an SSM parameter the bot reads as it starts; instead of the single-instance
     * settings below (homeRegion … keyAlias).
     */
    config: z
      .string()
      .regex(/\.ya?ml$/, 'must be the path of a YAML file such as idc-bot.yml')
      .optional(),
    homeRegion: Region.describe("Identity Center's primary Region (IDC_HOME_REGION)").optional(),
    allowedRegions: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(Region).min(1))
      .describe('Regions the bot may add (IDC_ALLOWED_REGIONS), comma-separated')
      .optional(),
    channel: Channel.optional(),
    notifyChannel: Channel.optional(),
    roles: jsonOr(Field.Roles).describe('IDC_ROLES as JSON').optional(),
    viewerRole: z.string().optional(),
    instanceArn: Field.InstanceArn.optional(),
    idcRoleArn: Field.RoleArn.optional(),
    idcRoleExternalId: Field.ExternalId.optional(),
    /** The organization's delegated administrator account: it administers the key too (IDC_DELEGATED_ADMIN_ACCOUNT). */
    delegatedAdminAccount: Field.AccountId.optional(),
    keyAlias: Field.KeyAlias.optional(),
    tableName: z.string().default('idc-bot'),
    reservedConcurrency: z.coerce.number().int().min(1).max(100).default(5),
    alarmEmail: z.string().email().optional(),
  })
  .superRefine((s, ctx) => {
    for (const key of INSTANCE_KEYS) {
      if (s.config && s[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `the config file says this per instance; drop -c ${key}`,
        });
      if (!s.config && REQUIRED.includes(key) && s[key] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'required (or -c config=idc-bot.yml for several instances)',
        });
    }
  })
  .refine((s) => s.runtime !== 'container' || s.containerTransport !== 'http' || (s.domainName && s.certificateArn), {
    path: ['certificateArn'],
    message:
      'containerTransport=http needs domainName and certificateArn (Slack only calls HTTPS URLs): -c domainName=idc-bot.example.com -c certificateArn=arn:aws:acm:…',
  });
export type BotSettings = z.infer<typeof BotSettingsSchema>;

/** Reads the settings from a context getter; throws with every bad value and its fix. */
export function settingsFromContext(get: (key: string) => unknown): BotSettings {
  const keys = Object.keys(BotSettingsSchema.shape);
  const raw = Object.fromEntries(keys.map((k) => [k, get(k)]).filter(([, v]) => v !== undefined));
  const parsed = BotSettingsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '?'}: ${i.message}`);
  throw new Error(
    `Deployment settings are invalid:\n${lines.join('\n')}\nPass them as -c name=value (README "Deploy to AWS"): -c config=idc-bot.yml for several instances, or for one, e.g. -c homeRegion=us-east-1 -c allowedRegions=eu-central-1 -c channel=C0123ABCD -c roles='{"identity-admins":["U012ABC"],"requesters":["S034DEF"]}'`,
  );
}
