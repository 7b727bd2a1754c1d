import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';
import { startSlackEmulator, type SlackEmulator } from '../../dev/emulators/slack/server';
import { createDynamoClient } from '../../src/aws/clients';
import { ensureTable } from '../../src/store';
import { freshBundle, synthesizedLambdaEnv } from '../support/deployment';

let aws: AwsEmulator;
let slack: SlackEmulator;
type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let handler: Handler;
let bundle: string;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:IdcBot/slack-Ab12Cd';
const saved = { ...process.env };

/**
 * The function as deployed: the esbuild bundle `npm run bundle` makes (not the TypeScript sources),
 * with the environment the stack gives it in eu-central-1 for an instance whose primary is
 * us-east-1, its Slack credentials in Secrets Manager; invoked with Function URL events.
 */
beforeAll(async () => {
  aws = await startAwsEmulator({ users: 20, groups: 4 });
  aws.world.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: Date.now() });
  slack = await startSlackEmulator({
    token: 'xoxb-lambda-token',
    signingSecret: 'lambda-signing-secret',
    users: { UREQ: { name: 'rea' } },
  });
  aws.world.secrets.set(
    SECRET_ARN,
    JSON.stringify({ SLACK_BOT_TOKEN: 'xoxb-lambda-token', SLACK_SIGNING_SECRET: 'lambda-signing-secret' }),
  );
  bundle = await freshBundle();
  const stackEnv = synthesizedLambdaEnv(
    bundle,
    {
      homeRegion: 'us-east-1',
      allowedRegions: 'eu-central-1,eu-west-1',
      channel: 'C0IDC',
      roles: JSON.stringify({ 'identity-admins': ['UREQ'], requesters: ['UREQ'] }),
    },
    'eu-central-1',
    { SlackCredentials: SECRET_ARN },
  );
  for (const k of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']) delete process.env[k];
  Object.assign(process.env, stackEnv, aws.env, {
    // What Lambda sets, and where the emulators are.
    AWS_REGION: 'eu-central-1',
    AWS_LAMBDA_FUNCTION_NAME: 'IdcBot-bot',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_ENDPOINT_URL_DYNAMODB: process.env.TEST_DYNAMO_ENDPOINT,
    DYNAMODB_TABLE: `lambda-${Date.now()}`,
    SLACK_API_URL: slack.apiUrl,
    LOG_LEVEL: 'silent',
  });
  // The stack makes the table (the function does not check it): made here with the function's own
  // credentials and Region, which DynamoDB Local keeps its databases by.
  const db = createDynamoClient({ region: 'eu-central-1', endpoint: process.env.TEST_DYNAMO_ENDPOINT });
  await ensureTable(db, process.env.DYNAMODB_TABLE as string);
  db.destroy();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the uploaded artefact, loaded as Lambda loads it
  ({ handler } = require(join(bundle, 'index.js')) as { handler: Handler });
  // The function's asynchronous invocations of itself land here, as Lambda would run them.
  aws.functions.set('IdcBot-bot', (payload) => handler(payload, {}));
}, 60_000);

afterAll(async () => {
  process.env = saved;
  rmSync(bundle, { recursive: true, force: true });
  await slack.close();
  await aws.close();
});

/** A Lambda Function URL event (payload 2.0) carrying a request exactly as Slack sends it. */
function apiGatewayEvent(body: string, headers: Record<string, string>, base64 = false) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: { ...headers, host: 'abc123.lambda-url.eu-central-1.on.aws', 'user-agent': 'Slackbot 1.0' },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-central-1.on.aws',
      http: {
        method: 'POST',
        path: '/slack/events',
        protocol: 'HTTP/1.1',
        sourceIp: '54.0.0.1',
        userAgent: 'Slackbot 1.0',
      },
      requestId: `req-${Date.now()}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

describe('the Lambda bundle (AwsLambdaReceiver), as the stack deploys it', () => {
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
    // The start itself runs in the other invocation (asynchronous); the schedule comes after it.
    for (let i = 0; i < 200 && !slack.responses.some((r) => /Started workflow/.test(String(r.body.text))); i++)
      await new Promise((r) => setTimeout(r, 25));
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

  it('a request replayed to another instance of the function is acked there and hands nothing over', async () => {
    // A second instance: the same bundle loaded afresh (its own memory), as Lambda runs a second container.
    let other: Handler = handler;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second copy of the artefact
      other = (require(join(bundle, 'index.js')) as { handler: Handler }).handler;
    });
    expect(other).not.toBe(handler);
    const form = slack.commandForm('UREQ', 'workflows', 'C0IDC');
    const headers = slack.signedHeaders(form);
    const handedOver = () => aws.invocations.filter((i) => i.type === 'Event').length;
    const before = handedOver();
    expect(((await handler(apiGatewayEvent(form, headers), {})) as { statusCode: number }).statusCode).toBe(200);
    expect(handedOver()).toBe(before + 1);
    const replayed = (await other(apiGatewayEvent(form, headers), {})) as { statusCode: number; body: string };
    expect(replayed.statusCode).toBe(200); // it cannot know yet: the table answers when the slow part asks
    expect(handedOver()).toBe(before + 1); // …and the table said no: nothing handed over
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

  it('answers status and a drill of eu-central-1 while us-east-1, the primary, is down (the bot is not deployed there)', async () => {
    aws.world.faults.outage.add('us-east-1');
    const seen = slack.responses.length;
    try {
      // `watch now` checks at once (`status` may answer from the last check, saying when that was).
      for (const text of ['drill eu-central-1', 'watch now']) {
        const form = slack.commandForm('UREQ', text, 'C0IDC');
        // Function URLs may hand a form body over base64-encoded.
        const res = (await handler(apiGatewayEvent(form, slack.signedHeaders(form), true), {})) as {
          statusCode: number;
        };
        expect(res.statusCode).toBe(200);
      }
      const answer = async (pattern: RegExp) => {
        for (let i = 0; i < 300; i++) {
          const r = slack.responses.slice(seen).find((x) => pattern.test(String(x.body.text)));
          if (r) return String(r.body.text);
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`no answer matching ${pattern}: ${JSON.stringify(slack.responses.slice(seen))}`);
      };
      expect(await answer(/DR drill of eu-central-1/)).toMatch(/✅ eu-central-1 can serve sign-in on its own/);
      expect(await answer(/Problems/)).toMatch(
        /Identity Center did not answer in us-east-1[\s\S]*additional Regions may still serve sign-in/,
      );
    } finally {
      aws.world.faults.outage.delete('us-east-1');
    }
  }, 60_000);

  it('proves a person can sign in through eu-central-1 with us-east-1 down: the link only to them, the result to the channel', async () => {
    aws.world.faults.outage.add('us-east-1');
    const answer = async (seen: number, pattern: RegExp) => {
      for (let i = 0; i < 300; i++) {
        const r = slack.responses.slice(seen).find((x) => pattern.test(String(x.body.text)));
        if (r) return String(r.body.text);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no answer matching ${pattern}: ${JSON.stringify(slack.responses.slice(seen))}`);
    };
    const callsBefore = aws.world.calls.length;
    const messagesBefore = slack.messages.length;
    try {
      for (const deny of [false, true]) {
        const seen = slack.responses.length;
        const form = slack.commandForm('UREQ', 'drill eu-central-1 --sign-in', 'C0IDC');
        const res = (await handler(apiGatewayEvent(form, slack.signedHeaders(form)), {})) as { statusCode: number };
        expect(res.statusCode).toBe(200);
        // The link and the code go to the person only (the command's response_url), never to the channel.
        const prompt = await answer(seen, /sign-in link/);
        expect(prompt).toContain('https://device.sso.eu-central-1.amazonaws.com/?user_code=');
        const code = /code \*([0-9A-F]{4}-[0-9A-F]{4})\*/.exec(prompt)?.[1] as string;
        // The person signs in with the IdP (or the IdP refuses them).
        expect(aws.world.completeSignIn(code, 'UREQ', deny)).toBe(true);
        const result = await answer(seen, /^(✅|❌).*through \*eu-central-1\*/);
        if (!deny)
          expect(result).toMatch(
            /^✅ <@UREQ> signed in through \*eu-central-1\* on its own endpoints in \d+ s and sees 3 account/,
          );
        else expect(result).toMatch(/^❌ Sign-in through \*eu-central-1\* failed at \*denied\*[\s\S]*ACS URL/);
        for (let i = 0; i < 100 && !slack.messages.slice(messagesBefore).some((m) => m.text === result); i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(slack.messages.slice(messagesBefore).map((m) => m.text)).toContain(result);
        expect(JSON.stringify(slack.messages)).not.toContain(code);
      }
      // Only eu-central-1 was asked (OIDC and the portal answer there; the primary is down), and no token left the bot.
      const regions = new Set(aws.world.calls.slice(callsBefore).map((c) => c.region || 'unsigned'));
      expect([...regions].filter((r) => r === 'us-east-1')).toEqual([]);
      const tokens = [...aws.world.signIn.tokens.keys()];
      expect(tokens.length).toBeGreaterThan(0);
      const seenBySlack = JSON.stringify([slack.messages, slack.responses, slack.ephemerals]);
      for (const t of tokens) expect(seenBySlack).not.toContain(t);
    } finally {
      aws.world.faults.outage.delete('us-east-1');
    }
  }, 60_000);

  it('answers an interaction (an Approve click) within the ack; the decision is made in another invocation', async () => {
    const seen = { responses: slack.responses.length, ephemerals: slack.ephemerals.length };
    const payload = {
      type: 'block_actions',
      user: { id: 'UREQ', username: 'rea', name: 'rea', team_id: 'T0EMU' },
      api_app_id: 'A0EMU',
      token: 'legacy',
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0IDC', is_ephemeral: false },
      trigger_id: `${Date.now()}.1.click`,
      team: { id: 'T0EMU', domain: 'emu' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: 'C0IDC', name: 'idc' },
      message: { type: 'message', ts: '1700000000.000100', text: 'x', blocks: [] },
      response_url: `${slack.apiUrl.replace(/\/api\/?$/, '')}/response/lambda-click`,
      actions: [
        {
          type: 'button',
          action_id: 'run.approve',
          block_id: 'gate:approve',
          value: JSON.stringify({ runId: '20261126-abcdef', stepId: 'approve', planHash: 'ffffffffffff' }),
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const started = Date.now();
    const res = (await handler(apiGatewayEvent(body, slack.signedHeaders(body)), {})) as { statusCode: number };
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    // The clicker is told why nothing happened (the button names no workflow of that message), through Slack.
    for (let i = 0; i < 200; i++) {
      if (slack.responses.length > seen.responses || slack.ephemerals.length > seen.ephemerals) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const told = [
      ...slack.responses.slice(seen.responses).map((r) => String(r.body.text)),
      ...slack.ephemerals.slice(seen.ephemerals).map((e) => e.text),
    ];
    expect(told).toEqual(['This button does not belong to a workflow message; nothing was changed.']);
  });

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
