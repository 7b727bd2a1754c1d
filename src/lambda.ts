import { AwsLambdaReceiver } from '@slack/bolt';
import pino from 'pino';
import { loadConfig } from './config';
import { createBot } from './main';
import { boltLogger } from './slack/app';

/**
 * AWS Lambda entry point. Wire two triggers to it:
 * - API Gateway / a function URL on `POST /slack/events` (Slack's requests, signature-checked);
 * - an EventBridge schedule (every minute): it advances the workflows that are due and posts the
 *   Slack messages they owe, and returns only when that work is done.
 * A Slack request returns as soon as Bolt has its ack; work it started in the background may be
 * frozen with the process, and the next scheduled invocation resumes it from DynamoDB (every step is
 * leased and idempotent, so nothing runs twice).
 */
type LambdaEvent = {
  source?: string;
  'detail-type'?: string;
  body?: string | null;
  headers?: Record<string, string | undefined>;
};

let ready: ReturnType<typeof init> | undefined;
let caughtUp = false;

async function init() {
  const config = loadConfig();
  if (config.mode !== 'production')
    throw new Error(
      'The Lambda handler needs SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and IDC_CHANNEL (it does not run the sandbox)',
    );
  const log = pino({ level: config.LOG_LEVEL });
  const receiver = new AwsLambdaReceiver({
    signingSecret: config.SLACK_SIGNING_SECRET as string,
    logger: boltLogger(log),
    // The signature goes on to the replay check (src/slack/app.ts).
    customPropertiesExtractor: (event: LambdaEvent) => ({
      slackSignature: String(event.headers?.['x-slack-signature'] ?? event.headers?.['X-Slack-Signature'] ?? ''),
    }),
  });
  const bot = await createBot(config, { log, receiver });
  return { bot, slack: receiver.toHandler() };
}

export async function handler(event: LambdaEvent, context: unknown): Promise<unknown> {
  const { bot, slack } = await (ready ??= init().catch((err: unknown) => {
    ready = undefined; // let the next invocation try again
    throw err;
  }));
  if (event.source === 'aws.events' || event['detail-type'] === 'Scheduled Event') {
    if (!caughtUp) {
      caughtUp = true; // once per cold start: live messages a frozen or crashed instance did not post
      await bot.catchUp().catch(() => undefined);
    }
    const advanced = await bot.engine.tick();
    await bot.watcher.check().catch(() => undefined); // runs only when the watch interval has passed
    await bot.engine.idle();
    await bot.flush();
    return { advanced };
  }
  return slack(event as never, context);
}
