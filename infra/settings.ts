import { z } from 'zod';

const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a Region name such as us-east-1');
const Channel = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID such as C0123ABCD (not a #name)');
const jsonOr = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

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
    homeRegion: Region.describe("Identity Center's primary Region (IDC_HOME_REGION)"),
    allowedRegions: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(Region).min(1))
      .describe('Regions the bot may add (IDC_ALLOWED_REGIONS), comma-separated'),
    channel: Channel,
    notifyChannel: Channel.optional(),
    roles: jsonOr(z.record(z.string(), z.array(z.string()).min(1))).describe('IDC_ROLES as JSON'),
    viewerRole: z.string().optional(),
    instanceArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/)
      .optional(),
    idcRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/)
      .optional(),
    idcRoleExternalId: z.string().optional(),
    /** The organization's delegated administrator account: it administers the key too (IDC_DELEGATED_ADMIN_ACCOUNT). */
    delegatedAdminAccount: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    keyAlias: z
      .string()
      .regex(/^alias\/[a-zA-Z0-9/_-]+$/)
      .default('alias/identity-center'),
    tableName: z.string().default('idc-bot'),
    reservedConcurrency: z.coerce.number().int().min(1).max(100).default(5),
    alarmEmail: z.string().email().optional(),
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
    `Deployment settings are invalid:\n${lines.join('\n')}\nPass them as -c name=value (README "Deploy to AWS"), e.g. -c homeRegion=us-east-1 -c allowedRegions=eu-central-1 -c channel=C0123ABCD -c roles='{"identity-admins":["U012ABC"],"requesters":["S034DEF"]}'`,
  );
}
