// The emulators in their own process, so the benchmark's load generator measures only the apps.
import { startAwsEmulator } from '../emulators/aws/server';
import { startSlackEmulator } from '../emulators/slack/server';
import { SENDERS } from './senders';

async function main(): Promise<void> {
  const aws = await startAwsEmulator({ users: 300, groups: 40 });
  const slack = await startSlackEmulator({
    token: String(process.env.SLACK_BOT_TOKEN),
    signingSecret: String(process.env.SLACK_SIGNING_SECRET),
    users: { UREQ: { name: 'rea' }, UANA: { name: 'ana' }, ...SENDERS },
  });
  process.stdout.write(
    `${JSON.stringify({ awsEnv: aws.env, awsUrl: aws.url, slackApiUrl: slack.apiUrl, slackUrl: slack.url })}\n`,
  );
}

void main();
