import { readOnce } from './aws/clients';
import { SecretsManager } from './aws/sdk';

/**
 * Credentials from AWS Secrets Manager (SLACK_SECRET_ARN): a JSON secret with SLACK_BOT_TOKEN,
 * SLACK_SIGNING_SECRET, for Socket Mode SLACK_APP_TOKEN, and the IdP adapter's OKTA_PRIVATE_KEY or
 * ENTRA_CLIENT_SECRET. Read once at start; with a secret configured, the same values in plain text
 * in the environment are refused.
 */
export const SECRET_KEYS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'OKTA_PRIVATE_KEY',
  'ENTRA_CLIENT_SECRET',
] as const;

/** A Secrets Manager secret ARN; group 1 is its Region. */
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/;

export async function withSecrets(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const arn = env.SLACK_SECRET_ARN;
  if (!arn) return env;
  const m = SECRET_ARN.exec(arn);
  if (!m) throw new Error(`SLACK_SECRET_ARN: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:…)`);
  const plain = SECRET_KEYS.filter((k) => env[k]);
  if (plain.length)
    throw new Error(
      `${plain.join(', ')}: set in plain text although SLACK_SECRET_ARN is set; remove ${plain.length > 1 ? 'them' : 'it'} from the environment and keep the value in the secret`,
    );
  const text = await readOnce(
    new SecretsManager.SecretsManagerClient({ region: m[1] }),
    async (c) => (await c.send(new SecretsManager.GetSecretValueCommand({ SecretId: arn }))).SecretString,
    (why) =>
      `SLACK_SECRET_ARN: the secret could not be read (${why}); check the ARN and that the bot's role may call secretsmanager:GetSecretValue on it`,
  );
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(
      'SLACK_SECRET_ARN: the secret is not JSON; store {"SLACK_BOT_TOKEN":"xoxb-…","SLACK_SIGNING_SECRET":"…"} (and SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const picked = Object.fromEntries(
    SECRET_KEYS.filter((k) => typeof values[k] === 'string' && values[k]).map((k) => [k, values[k] as string]),
  );
  if (!picked.SLACK_BOT_TOKEN)
    throw new Error('SLACK_SECRET_ARN: the secret has no SLACK_BOT_TOKEN; put the bot token (xoxb-…) in it');
  return { ...env, ...picked };
}
