import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  ts: string;
  channel: string;
  user: string;
  text: string;
  blocks?: Record<string, unknown>[];
  thread_ts?: string;
  edits: number;
}

export interface SlackEmulatorOptions {
  token: string;
  signingSecret: string;
  /** Where the bot listens for Slack's requests (e.g. http://127.0.0.1:3000/slack/events). */
  botUrl?: string;
  usergroups?: Record<string, string[]>;
}

/**
 * Plays Slack's side: serves the Web API methods the bot calls (form-encoded, Bearer token, ok:false
 * errors, Block Kit limits) and sends signed slash commands and block_actions to the bot.
 */
export async function startSlackEmulator(opts: SlackEmulatorOptions) {
  const messages: SlackMessage[] = [];
  const ephemerals: { channel: string; user: string; text: string }[] = [];
  const responses: { url: string; body: Record<string, unknown> }[] = [];
  const calls: string[] = [];
  let seq = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;

  const methods: Record<string, (p: Record<string, string>) => Record<string, unknown>> = {
    'auth.test': () => ({ ok: true, url: 'https://emulated.slack.com/', team: 'Emulated', user: 'idc-bot', team_id: 'T0EMU', user_id: 'UBOT', bot_id: 'BBOT' }),
    'chat.postMessage': (p) => {
      const err = checkBlocks(p);
      if (err) return { ok: false, error: err };
      if (!p.channel) return { ok: false, error: 'channel_not_found' };
      if (p.thread_ts && !messages.some((m) => m.ts === p.thread_ts && m.channel === p.channel)) return { ok: false, error: 'thread_not_found' };
      const m: SlackMessage = { ts: nextTs(), channel: p.channel, user: 'UBOT', text: p.text ?? '', blocks: p.blocks ? (JSON.parse(p.blocks) as SlackMessage['blocks']) : undefined, thread_ts: p.thread_ts, edits: 0 };
      messages.push(m);
      return { ok: true, channel: m.channel, ts: m.ts, message: { type: 'message', text: m.text, user: 'UBOT', bot_id: 'BBOT', ts: m.ts, blocks: m.blocks } };
    },
    'chat.update': (p) => {
      const err = checkBlocks(p);
      if (err) return { ok: false, error: err };
      const m = messages.find((x) => x.channel === p.channel && x.ts === p.ts);
      if (!m) return { ok: false, error: 'message_not_found' };
      Object.assign(m, { text: p.text ?? m.text, blocks: p.blocks ? JSON.parse(p.blocks) : m.blocks, edits: m.edits + 1 });
      return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
    },
    'chat.postEphemeral': (p) => {
      if (!p.channel || !p.user) return { ok: false, error: 'invalid_arguments' };
      ephemerals.push({ channel: p.channel, user: p.user, text: p.text ?? '' });
      return { ok: true, message_ts: nextTs() };
    },
    'usergroups.users.list': (p) => (opts.usergroups?.[p.usergroup ?? ''] ? { ok: true, users: opts.usergroups[p.usergroup ?? ''] } : { ok: false, error: 'no_such_subteam' }),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (req.url?.startsWith('/response/')) {
        responses.push({ url: req.url, body: JSON.parse(raw || '{}') as Record<string, unknown> });
        return json(200, { ok: true });
      }
      const method = /^\/api\/([\w.]+)$/.exec(req.url ?? '')?.[1];
      if (!method) return json(404, { ok: false, error: 'unknown_method' });
      calls.push(method);
      const params = Object.fromEntries(new URLSearchParams(raw)) as Record<string, string>;
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '') || params.token;
      if (!token) return json(200, { ok: false, error: 'not_authed' });
      if (token !== opts.token) return json(200, { ok: false, error: 'invalid_auth' });
      const handler = methods[method];
      json(200, handler ? handler(params) : { ok: false, error: 'unknown_method' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Signs `body` exactly as Slack does and POSTs it to the bot; answers in time or fails like Slack. */
  async function deliver(body: string, sign = true, timestamp = Math.floor(Date.now() / 1000)) {
    if (!opts.botUrl) throw new Error('botUrl is not set');
    const sig = `v0=${createHmac('sha256', opts.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const started = Date.now();
    const res = await fetch(opts.botUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign ? sig : 'v0=' + '0'.repeat(64) },
      body,
      signal: AbortSignal.timeout(3000),
    });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - started, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  return {
    url,
    apiUrl: `${url}/api/`,
    messages,
    ephemerals,
    responses,
    calls,
    setBotUrl: (u: string) => (opts.botUrl = u),
    /** A slash command from `user` in `channel`. */
    command(user: string, text: string, channel = 'C0IDC', extra: { sign?: boolean; timestamp?: number } = {}) {
      const id = randomBytes(6).toString('hex');
      const form = new URLSearchParams({ token: 'legacy', team_id: 'T0EMU', team_domain: 'emu', channel_id: channel, channel_name: 'idc', user_id: user, user_name: user.toLowerCase(), command: '/idc', text, api_app_id: 'A0EMU', is_enterprise_install: 'false', response_url: `${url}/response/${id}`, trigger_id: `${Date.now()}.${seq}.${id}` });
      return deliver(form.toString(), extra.sign ?? true, extra.timestamp);
    },
    /** A button click on a message, as block_actions. */
    click(user: string, message: SlackMessage, actionId: string) {
      const button = (message.blocks ?? []).flatMap((b) => ((b.elements as Record<string, unknown>[]) ?? [])).find((e) => e.action_id === actionId);
      if (!button) throw new Error(`no ${actionId} button on message ${message.ts}`);
      return this.clickValue(user, message, actionId, String(button.value));
    },
    clickValue(user: string, message: SlackMessage, actionId: string, value: string) {
      const payload = {
        type: 'block_actions',
        user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0EMU' },
        api_app_id: 'A0EMU',
        token: 'legacy',
        container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
        trigger_id: `${Date.now()}.1.${randomBytes(4).toString('hex')}`,
        team: { id: 'T0EMU', domain: 'emu' },
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: message.channel, name: 'idc' },
        message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
        response_url: `${url}/response/${randomBytes(4).toString('hex')}`,
        actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` }],
      };
      return deliver(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Block Kit limits that Slack enforces on messages. */
function checkBlocks(p: Record<string, string>): string | undefined {
  if (!p.blocks) return p.text ? undefined : 'no_text';
  let blocks: { type?: string; text?: { text?: string } }[];
  try {
    blocks = JSON.parse(p.blocks) as typeof blocks;
  } catch {
    return 'invalid_blocks_format';
  }
  if (!Array.isArray(blocks) || blocks.length > 50) return 'invalid_blocks';
  if (blocks.some((b) => !b.type || (b.type === 'section' && (b.text?.text?.length ?? 0) > 3000))) return 'invalid_blocks';
  return undefined;
}

export type SlackEmulator = Awaited<ReturnType<typeof startSlackEmulator>>;
