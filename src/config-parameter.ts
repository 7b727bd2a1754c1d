import { createHash } from 'node:crypto';
import { readOnce } from './aws/clients';
import { SSM } from './aws/sdk';
import { loadConfig, SSM_CONFIG, type Config } from './config';
import { withSecrets } from './secrets';

/*
 * The deployed bot's configuration file in an SSM parameter: `IDC_CONFIG=ssm:<name or ARN>`. The
 * stack stores the file it checked at synth there and pins its SHA-256 in `IDC_CONFIG_SHA256`, so a
 * process runs the configuration that was deployed, and a parameter edited outside the deploy (who
 * may approve, which roles are assumed) is refused rather than used.
 */

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The parameter's text, or undefined when IDC_CONFIG is not an SSM parameter. */
export async function configParameter(env: NodeJS.ProcessEnv): Promise<{ source: string; text: string } | undefined> {
  const m = SSM_CONFIG.exec(env.IDC_CONFIG ?? '');
  if (!m) return undefined;
  const name = m[1] as string;
  const region = m[2] ?? env.AWS_REGION;
  if (!region) throw new Error('IDC_CONFIG: set AWS_REGION, or name the parameter by its ARN');
  const text = await readOnce(
    new SSM.SSMClient({ region }),
    async (c) => (await c.send(new SSM.GetParameterCommand({ Name: name }))).Parameter?.Value,
    (why) =>
      `IDC_CONFIG: the parameter ${name} could not be read (${why}); check its name and that the bot's role may call ssm:GetParameter on it`,
  );
  const pinned = env.IDC_CONFIG_SHA256;
  if (pinned && sha256(text ?? '') !== pinned)
    throw new Error(
      `IDC_CONFIG: the parameter ${name} is not the configuration that was deployed (its SHA-256 differs from IDC_CONFIG_SHA256); change idc-bot.yml and run cdk deploy again rather than editing the parameter`,
    );
  return { source: `SSM parameter ${name}`, text: text ?? '' };
}

/**
 * The configuration as a process starts: Slack credentials from their secret and the file from its
 * parameter, both read at once (neither needs the other: a cold start waits for one round trip).
 */
export async function configAtStart(env: NodeJS.ProcessEnv): Promise<Config> {
  const [resolved, file] = await Promise.all([withSecrets(env), configParameter(env)]);
  return loadConfig(resolved, file);
}
