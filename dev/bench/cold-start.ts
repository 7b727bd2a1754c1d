// One Lambda cold start, in a fresh process: load the bundle (argv[2]), initialise, answer the first
// signed slash command (a Function URL event). Prints `COLD <ms from require to the answer> <status>`.
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';

async function main(): Promise<void> {
  const body = new URLSearchParams({
    team_id: 'T0EMU',
    channel_id: 'C0IDC',
    user_id: 'UREQ',
    command: '/idc',
    text: 'help',
    api_app_id: 'A0EMU',
    response_url: 'http://127.0.0.1:9/response',
    trigger_id: `${Date.now()}.1.cold`,
  }).toString();
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', process.env.SLACK_SIGNING_SECRET as string)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': `v0=${signature}`,
  };
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle, loaded as Lambda loads it
  const { handler } = require(process.argv[2] as string) as {
    handler: (e: unknown, c: unknown) => Promise<{ statusCode: number }>;
  };
  const res = await handler(
    {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/slack/events',
      rawQueryString: '',
      headers,
      body,
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/slack/events' } },
    },
    {},
  );
  process.stdout.write(`COLD ${(performance.now() - t0).toFixed(1)} ${res.statusCode}\n`);
  process.exit(0);
}

void main();
