import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { startSlackEmulator, type SlackEmulator } from '../../dev/emulators/slack/server';

let aws: AwsEmulator;
let slack: SlackEmulator;
let handler: typeof import('../../src/lambda').handler;

beforeAll(async () => {
  aws = await startAwsEmulator({ users: 20, groups: 4 });
  slack = await startSlackEmulator({
    token: 'xoxb-lambda-token',
    signingSecret: 'lambda-signing-secret',
    users: { UREQ: { name: 'rea' } },
  });
  Object.assign(process.env, aws.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: process.env.TEST_DYNAMO_ENDPOINT,
    DYNAMODB_TABLE: `lambda-${Date.now()}`,
    SLACK_BOT_TOKEN: 'xoxb-lambda-token',
    SLACK_SIGNING_SECRET: 'lambda-signing-secret',
    SLACK_API_URL: slack.apiUrl,
    IDC_CHANNEL: 'C0IDC',
    IDC_HOME_REGION: 'us-east-1',
    IDC_ROLES: JSON.stringify({ 'identity-admins': ['UREQ'], requesters: ['UREQ'] }),
    AWS_LAMBDA_FUNCTION_NAME: 'idc-bot',
    LOG_LEVEL: 'silent',
  });
  ({ handler } = await import('../../src/lambda'));
  // The function's asynchronous invocations of itself land here, as Lambda would run them.
  aws.functions.set('idc-bot', (payload) => handler(payload as never, {}));
});

afterAll(async () => {
  for (const k of [
    'SLACK_BOT_TOKEN',
    'SLACK_SIGNING_SECRET',
    'SLACK_API_URL',
    'IDC_CHANNEL',
    'AWS_ENDPOINT_URL_DYNAMODB',
    'DYNAMODB_TABLE',
  ])
    delete process.env[k];
  await slack.close();
  await aws.close();
});

/** An API Gateway HTTP API (payload 2.0) event carrying a request exactly as Slack sends it. */
function apiGatewayEvent(body: string, headers: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers,
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/slack/events' } },
  };
}

describe('Lambda handler (AwsLambdaReceiver)', () => {
  it('answers a signed slash command, refuses a bad signature, and advances workflows on a schedule', async () => {
    const form = slack.commandForm('UREQ', 'help', 'C0IDC');
    const ok = (await handler(apiGatewayEvent(form, slack.signedHeaders(form)), {})) as {
      statusCode: number;
      body: string;
    };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).text).toContain('/idc add-region <region> [reason]');

    const forged = (await handler(
      apiGatewayEvent(form, { ...slack.signedHeaders(form), 'x-slack-signature': `v0=${'0'.repeat(64)}` }),
      {},
    )) as { statusCode: number };
    expect(forged.statusCode).toBe(401);

    const start = slack.commandForm('UREQ', 'verify us-east-1', 'C0IDC');
    const started = (await handler(apiGatewayEvent(start, slack.signedHeaders(start)), {})) as { statusCode: number };
    expect(started.statusCode).toBe(200);
    const scheduled = (await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' } as never, {})) as {
      advanced: number;
    };
    expect(scheduled.advanced).toBeGreaterThanOrEqual(0);
    // The scheduled invocation returned only after the live message was posted.
    expect(slack.messages.some((m) => m.channel === 'C0IDC' && /Verify/.test(m.text))).toBe(true);
  });

  it('treats any invocation that is not an HTTP request as the scheduled tick ({} from EventBridge Scheduler)', async () => {
    expect(await handler({} as never, {})).toEqual({ advanced: expect.any(Number) });
    expect(await handler(null, {})).toEqual({ advanced: expect.any(Number) });
  });

  it('refuses replays (across header case too), signatures with extra parts and future timestamps with 401', async () => {
    const form = slack.commandForm('UREQ', 'help', 'C0IDC');
    const headers = slack.signedHeaders(form);
    const send = async (h: Record<string, string>) =>
      ((await handler(apiGatewayEvent(form, h), {})) as { statusCode: number }).statusCode;
    expect(await send(headers)).toBe(200);
    expect(await send(headers)).toBe(401); // the identical request again
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await send(upper)).toBe(401); // re-cased names, as API Gateway REST keeps them
    const fresh = slack.commandForm('UREQ', 'help', 'C0IDC');
    const freshHeaders = slack.signedHeaders(fresh);
    const tail = { ...freshHeaders, 'x-slack-signature': `${freshHeaders['x-slack-signature']}=1` };
    expect(((await handler(apiGatewayEvent(fresh, tail), {})) as { statusCode: number }).statusCode).toBe(401);
    const future = slack.commandForm('UREQ', 'help', 'C0IDC');
    const ts = Math.floor(Date.now() / 1000) + 600;
    const futureHeaders = slack.signedHeaders(future, ts);
    expect(((await handler(apiGatewayEvent(future, futureHeaders), {})) as { statusCode: number }).statusCode).toBe(
      401,
    );
  });

  it('acks every command within a second while each AWS call takes 2 s: the slow part runs in another invocation', async () => {
    aws.world.faults.latencyMs = 2_000;
    try {
      for (const text of ['plan eu-central-1', 'status', 'drill eu-west-1']) {
        const form = slack.commandForm('UREQ', text, 'C0IDC');
        const started = Date.now();
        const res = (await handler(apiGatewayEvent(form, slack.signedHeaders(form)), {})) as {
          statusCode: number;
          body: string;
        };
        expect(res.statusCode).toBe(200);
        expect(Date.now() - started).toBeLessThan(1_000); // the ack did not wait for AWS
        // status is answered in the ack itself when the watcher's picture is at hand; the rest hand over
        expect(JSON.parse(res.body).text).toMatch(text === 'status' ? /Working on|Last check/ : /Working on/);
      }
      const jobs = aws.invocations
        .filter((i) => i.type === 'Event')
        .map((i) => (i.payload as { idcJob: { text: string } }).idcJob.text);
      expect(jobs).toEqual(expect.arrayContaining(['plan eu-central-1', 'drill eu-west-1']));
      // The answers arrive later, through response_url, from the other invocations.
      for (const answer of [/Adding eu-central-1 would|Preflight/, /DR drill of eu-west-1/]) {
        for (let i = 0; i < 300 && !slack.responses.some((r) => answer.test(String(r.body.text))); i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(slack.responses.some((r) => answer.test(String(r.body.text)))).toBe(true);
      }
    } finally {
      aws.world.faults.latencyMs = 0;
    }
  }, 60_000);

  it('runs a handed-over job once, however often Lambda delivers it', async () => {
    const job = {
      type: 'command',
      text: 'workflows',
      user: 'UREQ',
      triggerId: 'T-dup-1',
      responseUrl: `${slack.apiUrl.replace(/\/api\/?$/, '')}/nowhere`,
      channel: 'C0IDC',
    };
    expect(await handler({ idcJob: job } as never, {})).toEqual({ done: 'command' });
    expect(await handler({ idcJob: job } as never, {})).toEqual({ duplicate: true });
  });
});
