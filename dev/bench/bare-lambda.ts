// The floor for the Lambda cold start: a minimal Bolt app on AwsLambdaReceiver that acks an empty /idc.
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';

const receiver = new AwsLambdaReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET as string,
  logLevel: LogLevel.ERROR,
});
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/idc', async ({ ack }) => ack());
const handle = receiver.toHandler();

export const handler = (event: unknown, context: unknown) => handle(event as never, context);
