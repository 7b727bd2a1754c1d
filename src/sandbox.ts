import type pino from 'pino';
import { loadConfig, type Config } from './config';
import { startDynamoLocal, freePort } from './dev/dynamo-local';
import { startAwsEmulator } from './emulators/aws/server';
import { startSlackEmulator } from './emulators/slack/server';
import { startBot } from './main';

/**
 * The local sandbox: DynamoDB Local, the AWS emulator (an organization instance in us-east-1 with
 * an AWS owned key and a few hundred users), the Slack emulator, and the real bot wired to them.
 */
export async function startSandbox(base: Config, log: pino.Logger): Promise<void> {
  const children: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    const dynamo = await startDynamoLocal();
    children.push(dynamo);
    const aws = await startAwsEmulator({ users: 300, groups: 40, timeScale: Number(process.env.SANDBOX_TIME_SCALE ?? 0.5) });
    children.push({ stop: aws.close });
    const token = 'xoxb-sandbox-token';
    const signingSecret = 'sandbox-signing-secret';
    const slack = await startSlackEmulator({ token, signingSecret });
    children.push({ stop: slack.close });
    Object.assign(process.env, aws.env, { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_REGION: 'us-east-1' });
    const port = base.PORT === 3000 ? await freePortOr(3000) : base.PORT;
    const config = loadConfig({
      ...process.env,
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      IDC_CHANNEL: 'C0IDC',
      IDC_HOME_REGION: 'us-east-1',
      PORT: String(port),
      IDC_ROLES: JSON.stringify({ 'identity-admins': ['UALICE', 'UBOB', 'UREQ'], requesters: ['UREQ', 'UALICE'] }),
    });
    const bot = await startBot(config, { dynamoEndpoint: dynamo.endpoint, log });
    children.push(bot);
    slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
    log.info({ slack: slack.url, aws: aws.url, dynamo: dynamo.endpoint, bot: `http://127.0.0.1:${port}/slack/events` }, 'Sandbox ready');
    process.stdout.write(`\nSandbox ready. Slack emulator: ${slack.url}  (the browser channel view is not built yet; see README)\n`);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'Sandbox failed to start');
    await stopAll();
    process.exit(1);
  }
}

async function freePortOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => void freePort().then(resolve));
    srv.listen(preferred, '127.0.0.1', () => srv.close(() => resolve(preferred)));
  });
}
