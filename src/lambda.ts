import './zod-english'; // first: before anything loads zod
import { AwsLambdaReceiver, isValidSlackRequest } from './slack/bolt';
import { secretsOf } from './config';
import { createLogger } from './log';
import { configAtStart } from './config-parameter';
import { createBot } from './main';
import { createAsyncInvoker } from './aws/clients';
import { boltLogger, seenHere, refusal, sharedCheck, signatureHeaders, type Dispatch, type SlowJob } from './slack/app';

/**
 * AWS Lambda entry point. Wire two triggers to it:
 * - API Gateway / a function URL on `POST /slack/events` (Slack's requests, signature-checked);
 * - an EventBridge schedule (every minute): it advances the workflows that are due and posts the
 *   Slack messages they owe, and returns only when that work is done. Any invocation that is not an
 *   HTTP request (EventBridge Scheduler may send `{}`) is this scheduled tick.
 * A Slack request returns as soon as Bolt has its ack; work it started in the background may be
 * frozen with the process, and the next scheduled invocation resumes it from DynamoDB (every step is
 * leased and fenced, and a process never re-claims a step it is still running).
 */
type LambdaEvent = {
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined>;
  requestContext?: unknown;
  /** A request's slow part, handed over by an earlier invocation (see `defer`). */
  idcJob?: SlowJob;
};

let ready: ReturnType<typeof init> | undefined;
let caughtUp = false;
/** Signatures this instance has seen (a replay to it is refused at once, before Bolt). */
const seen = seenHere();
/** Each request's shared replay check, handed to Bolt as `context.firstDelivery` (see refuseReplays). */
const checks = new WeakMap<object, () => Promise<boolean>>();

async function init() {
  const config = await configAtStart(process.env);
  if (config.mode !== 'production')
    throw new Error(
      'The Lambda handler needs SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, IDC_CHANNEL and IDC_ROLES (it does not run the sandbox)',
    );
  const log = createLogger(config.LOG_LEVEL, secretsOf(config));
  const signingSecret = config.SLACK_SIGNING_SECRET as string;
  // The form, future-timestamp and replay checks run in the handler (below), so they can answer 401;
  // the shared one is made only when a slow part is about to act.
  const receiver = new AwsLambdaReceiver({
    signingSecret,
    logger: boltLogger(log),
    customPropertiesExtractor: (event) => ({ firstDelivery: checks.get(event) }),
  });
  // Bolt's Lambda receiver answers Slack only when the listener returns, so a listener's slow part
  // goes to another invocation of this function (asynchronous invoke): the ack never waits for AWS.
  const invoke = createAsyncInvoker(process.env.AWS_REGION ?? 'us-east-1', process.env.AWS_LAMBDA_FUNCTION_NAME ?? '');
  const defer: Dispatch = (job) => invoke({ idcJob: job });
  const bot = await createBot(config, { log, receiver, defer });
  return { bot, signingSecret, slack: receiver.toHandler() };
}

const isHttp = (event: LambdaEvent | null | undefined): event is LambdaEvent =>
  typeof event === 'object' && event !== null && (typeof event.body === 'string' || event.requestContext !== undefined);

export async function handler(event: LambdaEvent | null | undefined, context: unknown): Promise<unknown> {
  const { bot, signingSecret, slack } = await (ready ??= init().catch((err: unknown) => {
    ready = undefined; // let the next invocation try again
    throw err;
  }));
  if (event?.idcJob) {
    // Lambda may deliver an asynchronous invocation more than once: each job runs once per trigger id.
    const job = event.idcJob;
    if (!(await bot.replays.firstTime(`job:${job.type}:${job.triggerId}`, Date.now() + 6 * 3_600_000)))
      return { duplicate: true };
    await bot.runJob(job);
    await bot.engine.idle();
    await bot.flush();
    return { done: job.type };
  }
  if (!isHttp(event)) {
    if (!caughtUp) {
      caughtUp = true; // once per cold start: live messages a frozen or crashed instance did not post
      await bot.catchUp().catch(() => undefined);
    }
    const advanced = await bot.engine.tick();
    // Each instance's watcher, side by side (one slow or failing instance holds back none of the others);
    // each runs only when its interval has passed.
    await Promise.all(bot.watchers.map((w) => w.check().catch(() => undefined)));
    await bot.engine.idle();
    await bot.flush();
    return { advanced };
  }
  const { slackSignature, slackTimestamp } = signatureHeaders(event.headers);
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString() : (event.body ?? '');
  const signed = isValidSlackRequest({
    signingSecret,
    body,
    headers: { 'x-slack-signature': slackSignature, 'x-slack-request-timestamp': Number(slackTimestamp) },
  });
  // A forged request is Bolt's to refuse (401); a validly signed one may still be malformed, from the
  // future or a replay (to this instance now; to another one when its slow part asks the table).
  const why = signed ? refusal(seen, slackSignature, slackTimestamp) : undefined;
  if (why) {
    bot.log.warn({ audit: 'request_refused', reason: why }, `request refused: ${why}`);
    return { statusCode: 401, body: '' };
  }
  if (signed) checks.set(event, sharedCheck(bot.replays, slackSignature, bot.log));
  return slack(event as never, context);
}
