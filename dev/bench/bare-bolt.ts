// The floor for the benchmark: a minimal Bolt app that acks an empty /idc, nothing else.
import { App, LogLevel } from '@slack/bolt';

async function main(): Promise<void> {
  const app = new App({
    token: process.env.SLACK_BOT_TOKEN,
    signingSecret: process.env.SLACK_SIGNING_SECRET as string,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  });
  app.command('/idc', async ({ ack }) => ack());
  await app.start(Number(process.env.PORT));
  process.stdout.write('READY\n');
}

void main();
