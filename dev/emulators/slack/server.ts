import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

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
  /** Workspace members users.info knows (others answer user_not_found). */
  users?: Record<string, SlackUser>;
  /** App-level token (xapp-…) that apps.connections.open accepts, for Socket Mode. */
  appToken?: string;
  /** Length of a rate-limit window in ms (Slack: 60,000; tests shrink it). */
  rateWindowMs?: number;
  /** Calls per window by method; chat.postMessage is per channel. Defaults follow Slack's tiers. */
  rateLimits?: Record<string, number>;
}

export interface SlackUser {
  name: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  /** guest accounts (multi-channel and single-channel) */
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
}

/** Where a request says it comes from (defaults: the emulated workspace and app). */
export interface Origin {
  teamId?: string;
  userTeamId?: string;
  enterpriseId?: string;
  appId?: string;
}

/** Slack's documented tiers per method: calls per minute (chat.postMessage: per channel, 1/s). */
export const SLACK_RATE_LIMITS: Record<string, number> = {
  'auth.test': 600,
  'bots.info': 100,
  'chat.postMessage': 60,
  'chat.update': 50,
  'chat.postEphemeral': 100,
  'views.open': 100,
  'views.update': 100,
  'views.publish': 100,
  'users.info': 100,
  'usergroups.users.list': 20,
  'apps.connections.open': 100,
};

export interface OpenView {
  id: string;
  user: string;
  view: Record<string, unknown>;
  /** closed after a submission the app accepted */
  closed: boolean;
  /** field errors the app answered with (response_action: errors) */
  errors?: Record<string, string>;
  /** views.update calls on it */
  updates?: number;
}

/**
 * Plays Slack's side: serves the Web API methods the bot calls (form-encoded, Bearer token, ok:false
 * errors, Block Kit limits) and sends signed slash commands and block_actions to the bot.
 */
export async function startSlackEmulator(opts: SlackEmulatorOptions) {
  const messages: SlackMessage[] = [];
  const outside = new Set<string>();
  /** Files uploaded with files.uploadV2 (completed), and those whose bytes are awaited. */
  const uploads: {
    id: string;
    title: string;
    filename: string;
    content: string;
    channel?: string;
    comment?: string;
  }[] = [];
  const pendingUploads = new Map<string, { filename: string; length: number; content?: string }>();
  const baseUrl = () => `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const ephemerals: { channel: string; user: string; text: string; at: number }[] = [];
  const responses: { url: string; body: Record<string, unknown> }[] = [];
  /** Who each response_url and trigger_id was issued to (Slack shows responses to that person only). */
  const owners = new Map<string, { user: string; channel: string }>();
  const calls: string[] = [];
  /** Every 429 the emulator answered, by method. */
  const limited: string[] = [];
  const views: OpenView[] = [];
  /** Each person's Home tab as last published. */
  const homes = new Map<string, { id: string; view: Record<string, unknown>; publishes: number }>();
  const triggers = new Map<string, { at: number; used: boolean; user: string }>();
  let seq = 0;
  const fault = { failing: 0 };
  const windowMs = opts.rateWindowMs ?? 60_000;
  const limits = { ...SLACK_RATE_LIMITS, ...opts.rateLimits };
  const recent = new Map<string, number[]>();
  /** Seconds until the next call is allowed, or 0 when under the limit. */
  const rateLimited = (method: string, p: Record<string, string>): number => {
    const limit = limits[method];
    if (!limit) return 0;
    const key = method === 'chat.postMessage' ? `${method}/${p.channel}` : method;
    const now = Date.now();
    const times = (recent.get(key) ?? []).filter((t) => now - t < windowMs);
    recent.set(key, times);
    if (times.length >= limit) return Math.max(1, Math.ceil((windowMs - (now - (times[0] as number))) / 1000));
    times.push(now);
    return 0;
  };
  const newTrigger = (user: string) => {
    const id = `${Date.now()}.${++seq}.${randomBytes(16).toString('hex')}`;
    triggers.set(id, { at: Date.now(), used: false, user });
    return id;
  };
  const newResponseUrl = (user: string, channel: string) => {
    const id = randomBytes(8).toString('hex');
    owners.set(id, { user, channel });
    return `${url}/response/${id}`;
  };
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;

  const methods: Record<string, (p: Record<string, string>) => Record<string, unknown>> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://emulated.slack.com/',
      team: 'Emulated',
      user: 'idc-bot',
      team_id: 'T0EMU',
      user_id: 'UBOT',
      bot_id: 'BBOT',
    }),
    // auth.test may not say the app id; bots.info does (scope users:read).
    'bots.info': (p) =>
      p.bot === 'BBOT'
        ? { ok: true, bot: { id: 'BBOT', app_id: 'A0EMU', name: 'idc-bot', deleted: false } }
        : { ok: false, error: 'bot_not_found' },
    'chat.postMessage': (p) => {
      const err = checkBlocks(p);
      if (err) return { ok: false, error: err };
      if (!p.channel) return { ok: false, error: 'channel_not_found' };
      if (outside.has(p.channel)) return { ok: false, error: 'not_in_channel' };
      if (p.thread_ts && !messages.some((m) => m.ts === p.thread_ts && m.channel === p.channel))
        return { ok: false, error: 'thread_not_found' };
      const m: SlackMessage = {
        ts: nextTs(),
        channel: p.channel,
        user: 'UBOT',
        text: p.text ?? '',
        blocks: p.blocks ? (JSON.parse(p.blocks) as SlackMessage['blocks']) : undefined,
        thread_ts: p.thread_ts,
        edits: 0,
      };
      messages.push(m);
      return {
        ok: true,
        channel: m.channel,
        ts: m.ts,
        message: { type: 'message', text: m.text, user: 'UBOT', bot_id: 'BBOT', ts: m.ts, blocks: m.blocks },
      };
    },
    'chat.update': (p) => {
      const err = checkBlocks(p);
      if (err) return { ok: false, error: err };
      const m = messages.find((x) => x.channel === p.channel && x.ts === p.ts);
      if (!m) return { ok: false, error: 'message_not_found' };
      Object.assign(m, {
        text: p.text ?? m.text,
        blocks: p.blocks ? JSON.parse(p.blocks) : m.blocks,
        edits: m.edits + 1,
      });
      return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
    },
    'chat.postEphemeral': (p) => {
      if (!p.channel || !p.user) return { ok: false, error: 'invalid_arguments' };
      ephemerals.push({ channel: p.channel, user: p.user, text: p.text ?? '', at: Date.now() });
      return { ok: true, message_ts: nextTs() };
    },
    'views.open': (p) => {
      const t = triggers.get(p.trigger_id ?? '');
      if (!t) return { ok: false, error: 'invalid_trigger_id' };
      if (t.used) return { ok: false, error: 'exchanged_trigger_id' };
      if (Date.now() - t.at > 3000) return { ok: false, error: 'expired_trigger_id' };
      const parsed = parseView(p.view);
      if ('error' in parsed) return parsed.error;
      const view = parsed.view;
      t.used = true;
      const v: OpenView = { id: `V${randomBytes(5).toString('hex').toUpperCase()}`, user: t.user, view, closed: false };
      views.push(v);
      return {
        ok: true,
        view: {
          id: v.id,
          team_id: 'T0EMU',
          ...view,
          state: { values: {} },
          hash: `${Date.now()}.${v.id}`,
          root_view_id: v.id,
          previous_view_id: null,
          app_id: 'A0EMU',
          bot_id: 'BBOT',
        },
      };
    },
    'views.update': (p) => {
      const v = views.find((x) => x.id === p.view_id);
      if (!v) return { ok: false, error: 'not_found' };
      const parsed = parseView(p.view);
      if ('error' in parsed) return parsed.error;
      const view = parsed.view;
      v.view = view;
      v.updates = (v.updates ?? 0) + 1;
      return { ok: true, view: { id: v.id, ...view, state: { values: {} }, hash: `${Date.now()}.${v.id}` } };
    },
    // The Home tab: one view per person, replaced on each publish.
    'views.publish': (p) => {
      if (!p.user_id) return { ok: false, error: 'invalid_arguments' };
      let view: Record<string, unknown>;
      try {
        view = JSON.parse(p.view ?? '') as Record<string, unknown>;
      } catch {
        return { ok: false, error: 'invalid_arguments' };
      }
      const blocks = view.blocks as unknown[] | undefined;
      if (view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
      if (!Array.isArray(blocks) || blocks.length > 100) return { ok: false, error: 'invalid_blocks' };
      const id = homes.get(p.user_id)?.id ?? `VH${randomBytes(4).toString('hex').toUpperCase()}`;
      homes.set(p.user_id, { id, view, publishes: (homes.get(p.user_id)?.publishes ?? 0) + 1 });
      return { ok: true, view: { id, ...view, hash: `${Date.now()}.${id}` } };
    },
    'users.info': (p) => {
      const u = opts.users?.[p.user ?? ''];
      if (!u) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: p.user,
          team_id: 'T0EMU',
          tz: 'Europe/Berlin',
          tz_label: 'Central European Time',
          tz_offset: 3600,
          is_admin: false,
          is_owner: false,
          is_bot: false,
          is_app_user: false,
          deleted: false,
          is_restricted: false,
          is_ultra_restricted: false,
          updated: 1_700_000_000,
          ...u,
          profile: { display_name: u.name, real_name: u.real_name ?? u.name },
        },
      };
    },
    // A direct message channel with one person (im:write).
    'conversations.open': (p) =>
      p.users && !p.users.includes(',')
        ? { ok: true, channel: { id: `D${p.users}` } }
        : { ok: false, error: 'not_allowed' },
    // files.uploadV2 as Slack documents it: get an upload URL, POST the bytes there, complete the upload.
    'files.getUploadURLExternal': (p) => {
      if (!p.filename || !p.length) return { ok: false, error: 'invalid_arguments' };
      const id = `F${(uploads.length + pendingUploads.size + 1).toString().padStart(8, '0')}`;
      pendingUploads.set(id, { filename: p.filename, length: Number(p.length) });
      return { ok: true, upload_url: `${baseUrl()}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (p) => {
      const files = JSON.parse(p.files ?? '[]') as { id: string; title?: string }[];
      for (const f of files) {
        const pending = pendingUploads.get(f.id);
        if (!pending?.content) return { ok: false, error: 'file_not_found' };
        uploads.push({
          id: f.id,
          title: f.title ?? pending.filename,
          filename: pending.filename,
          content: pending.content,
          channel: p.channel_id,
          comment: p.initial_comment,
        });
        pendingUploads.delete(f.id);
      }
      return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
    },
    'usergroups.users.list': (p) =>
      opts.usergroups?.[p.usergroup ?? '']
        ? { ok: true, users: opts.usergroups[p.usergroup ?? ''] }
        : { ok: false, error: 'no_such_subteam' },
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
      if (req.url?.startsWith('/upload/')) {
        const pending = pendingUploads.get(req.url.slice('/upload/'.length));
        if (!pending) return json(404, { ok: false, error: 'file_not_found' });
        // Slack takes the bytes raw or as a multipart form (what @slack/web-api sends: one file part).
        const first = raw.slice(0, raw.indexOf('\r\n'));
        const multipart =
          /multipart\/form-data/.test(String(req.headers['content-type'] ?? '')) && first.startsWith('--');
        const part = multipart ? raw.split(first).find((p) => /filename=/.test(p)) : undefined;
        pending.content = part ? part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '') : raw;
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(`OK - ${Buffer.byteLength(raw)}`);
      }
      // Not Slack's: what a benchmark in another process may ask (answers that came through response_url,
      // by the start of their URL's last part).
      if (req.url?.startsWith('/__emulator/responses?')) {
        const prefix = `/response/${new URLSearchParams(req.url.split('?')[1]).get('prefix') ?? ''}`;
        return json(200, { count: responses.filter((r) => r.url.startsWith(prefix)).length });
      }
      if (req.url?.startsWith('/response/')) {
        const body = JSON.parse(raw || '{}') as Record<string, unknown>;
        responses.push({ url: req.url, body });
        const owner = owners.get(req.url.slice('/response/'.length));
        if (owner && typeof body.text === 'string') ephemerals.push({ ...owner, text: body.text, at: Date.now() });
        return json(200, { ok: true });
      }
      const method = /^\/api\/([\w.]+)$/.exec(req.url ?? '')?.[1];
      if (!method) return json(404, { ok: false, error: 'unknown_method' });
      calls.push(method);
      const params = Object.fromEntries(new URLSearchParams(raw)) as Record<string, string>;
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '') || params.token;
      if (!token) return json(200, { ok: false, error: 'not_authed' });
      const expected = method === 'apps.connections.open' ? opts.appToken : opts.token;
      if (token !== expected)
        return json(200, {
          ok: false,
          error:
            method === 'apps.connections.open' && token.startsWith('xoxb-') ? 'not_allowed_token_type' : 'invalid_auth',
        });
      const wait = rateLimited(method, params);
      if (wait) {
        limited.push(method);
        res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(wait) });
        return res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      }
      if (fault.failing > 0) {
        fault.failing--;
        res.writeHead(503, { 'content-type': 'text/plain' });
        return res.end('Service Unavailable');
      }
      const handler = methods[method];
      json(200, handler ? handler(params) : { ok: false, error: 'unknown_method' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Socket Mode: apps.connections.open hands out a one-time WebSocket URL; Slack sends envelopes and
  // waits up to 3 s for the app to ack each one with its envelope_id.
  const wss = new WebSocketServer({ noServer: true });
  const tickets = new Set<string>();
  let socket: WebSocket | undefined;
  const pending = new Map<string, (payload: unknown) => void>();
  methods['apps.connections.open'] = () => {
    const ticket = randomBytes(8).toString('hex');
    tickets.add(ticket);
    return { ok: true, url: `${url.replace('http', 'ws')}/link/?ticket=${ticket}` };
  };
  server.on('upgrade', (req, sock, head) => {
    const ticket = new URL(req.url ?? '', url).searchParams.get('ticket') ?? '';
    if (!tickets.delete(ticket)) return sock.destroy();
    wss.handleUpgrade(req, sock, head, (ws) => {
      socket = ws;
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          debug_info: { host: 'emulated', approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0EMU' },
        }),
      );
      const ping = setInterval(() => ws.ping(), 10_000);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (msg.envelope_id) pending.get(msg.envelope_id)?.(msg.payload);
      });
      ws.on('close', () => {
        clearInterval(ping);
        if (socket === ws) socket = undefined;
      });
    });
  });
  /** Sends an envelope over the app's socket and waits for its ack, like Slack (3 s). */
  async function overSocket(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>) {
    const ws = socket;
    if (!ws) throw new Error('no Socket Mode connection');
    const envelope_id = randomBytes(8).toString('hex');
    const started = Date.now();
    const acked = new Promise<unknown>((resolve, reject) => {
      pending.set(envelope_id, resolve);
      setTimeout(() => reject(new Error('no ack within 3 s')), 3000).unref();
    }).finally(() => pending.delete(envelope_id));
    ws.send(
      JSON.stringify({
        envelope_id,
        type,
        payload,
        accepts_response_payload: type === 'slash_commands',
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    const body = await acked;
    const text = body === undefined ? '' : JSON.stringify(body);
    return {
      status: 200,
      text,
      ms: Date.now() - started,
      json: () => (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  }

  /** The headers Slack sends with a request body: its timestamp and v0 HMAC-SHA256 signature. */
  const signedHeaders = (body: string, timestamp = Math.floor(Date.now() / 1000)) =>
    slackSignedHeaders(opts.signingSecret, body, timestamp);

  /** A slash command's form body, with Slack's fields. */
  function commandForm(user: string, text: string, channel: string, origin: Origin = {}): string {
    return new URLSearchParams({
      token: 'legacy',
      team_id: origin.teamId ?? 'T0EMU',
      ...(origin.enterpriseId ? { enterprise_id: origin.enterpriseId } : {}),
      team_domain: 'emu',
      channel_id: channel,
      channel_name: 'idc',
      user_id: user,
      user_name: user.toLowerCase(),
      command: '/idc',
      text,
      api_app_id: origin.appId ?? 'A0EMU',
      is_enterprise_install: 'false',
      response_url: newResponseUrl(user, channel),
      trigger_id: newTrigger(user),
    }).toString();
  }

  /** Delivers a payload as Slack does (signed HTTP POST, or an envelope over Socket Mode); fails after 3 s like Slack. */
  async function deliver(body: string, sign = true, timestamp = Math.floor(Date.now() / 1000)) {
    const json = body.startsWith('{');
    if (socket && json) return overSocket('events_api', JSON.parse(body) as Record<string, unknown>);
    if (socket) {
      const form = new URLSearchParams(body);
      const payload = form.get('payload');
      return overSocket(
        payload ? 'interactive' : 'slash_commands',
        payload ? (JSON.parse(payload) as Record<string, unknown>) : Object.fromEntries(form),
      );
    }
    if (!opts.botUrl) throw new Error('botUrl is not set');
    const headers = signedHeaders(body, timestamp);
    if (json) headers['content-type'] = 'application/json';
    if (!sign) headers['x-slack-signature'] = `v0=${'0'.repeat(64)}`;
    const started = Date.now();
    const res = await fetch(opts.botUrl, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(3000),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      ms: Date.now() - started,
      json: () => JSON.parse(text) as Record<string, unknown>,
    };
  }

  return {
    url,
    apiUrl: `${url}/api/`,
    messages,
    /** Channels the bot is not a member of: posting there answers not_in_channel. */
    outside,
    uploads,
    ephemerals,
    responses,
    calls,
    setBotUrl: (u: string) => (opts.botUrl = u),
    /** A slash command from `user` in `channel`. */
    async command(
      user: string,
      text: string,
      channel = 'C0IDC',
      extra: { sign?: boolean; timestamp?: number; origin?: Origin } = {},
    ) {
      const res = await deliver(commandForm(user, text, channel, extra.origin), extra.sign ?? true, extra.timestamp);
      // Slack shows the ack's text to the person who typed the command, and to no one else.
      if (res.status === 200 && res.text.startsWith('{')) {
        const body = res.json();
        if (typeof body.text === 'string') ephemerals.push({ channel, user, text: body.text, at: Date.now() });
      } else if (res.status !== 200) {
        ephemerals.push({
          channel,
          user,
          text: `/idc failed with the error "dispatch_failed" (HTTP ${res.status})`,
          at: Date.now(),
        });
      }
      return res;
    },
    commandForm,
    signedHeaders,
    /** Delivers any body (e.g. a malformed payload) as Slack would, signed unless told otherwise. */
    post: (body: string, opts: { sign?: boolean; timestamp?: number } = {}) =>
      deliver(body, opts.sign ?? true, opts.timestamp),
    /** Changes a method's limit (calls per window), e.g. to provoke 429s. */
    setRateLimit(method: string, perWindow: number) {
      limits[method] = perWindow;
    },
    /** A button click on a message, as block_actions. */
    click(user: string, message: SlackMessage, actionId: string, origin: Origin = {}) {
      const button = (message.blocks ?? [])
        .flatMap((b) => (b.elements as Record<string, unknown>[]) ?? [])
        .find((e) => e.action_id === actionId);
      if (!button) throw new Error(`no ${actionId} button on message ${message.ts}`);
      return this.clickValue(user, message, actionId, String(button.value), origin);
    },
    clickValue(user: string, message: SlackMessage, actionId: string, value: string, origin: Origin = {}) {
      const payload = {
        type: 'block_actions',
        user: {
          id: user,
          username: user.toLowerCase(),
          name: user.toLowerCase(),
          team_id: origin.userTeamId ?? 'T0EMU',
        },
        api_app_id: origin.appId ?? 'A0EMU',
        token: 'legacy',
        container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
        trigger_id: newTrigger(user),
        team: { id: origin.teamId ?? 'T0EMU', domain: 'emu' },
        enterprise: origin.enterpriseId ? { id: origin.enterpriseId, name: 'Grid' } : null,
        is_enterprise_install: false,
        channel: { id: message.channel, name: 'idc' },
        message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
        response_url: newResponseUrl(user, message.channel),
        actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` }],
      };
      return deliver(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    /** Submits an open modal with `values` ({block_id: {action_id: value}}), as view_submission. */
    async submitView(user: string, viewId: string, values: Record<string, Record<string, string | FieldState>>) {
      const v = views.find((x) => x.id === viewId && !x.closed);
      if (!v) throw new Error(`no open view ${viewId}`);
      const state = {
        values: Object.fromEntries(
          Object.entries(values).map(([block, actions]) => [
            block,
            Object.fromEntries(
              Object.entries(actions).map(([action, value]) => [
                action,
                typeof value === 'string' ? { type: 'plain_text_input', value } : value,
              ]),
            ),
          ]),
        ),
      };
      const payload = {
        type: 'view_submission',
        team: { id: 'T0EMU', domain: 'emu' },
        user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0EMU' },
        api_app_id: 'A0EMU',
        token: 'legacy',
        trigger_id: newTrigger(user),
        view: {
          id: v.id,
          team_id: 'T0EMU',
          type: 'modal',
          private_metadata: '',
          callback_id: '',
          external_id: '',
          ...v.view,
          state,
          hash: `${Date.now()}.${v.id}`,
          root_view_id: v.id,
          previous_view_id: null,
          app_id: 'A0EMU',
          app_installed_team_id: 'T0EMU',
          bot_id: 'BBOT',
          clear_on_close: false,
          notify_on_close: false,
        },
        response_urls: [],
        is_enterprise_install: false,
        enterprise: null,
      };
      const res = await deliver(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
      const ack = res.text ? res.json() : {};
      if (res.status === 200 && ack.response_action === 'errors') v.errors = ack.errors as Record<string, string>;
      else if (res.status === 200) Object.assign(v, { closed: true, errors: undefined });
      return res;
    },
    /** The person opens the app's Home tab: Slack sends app_home_opened (Events API, JSON, signed). */
    homeOpened(user: string) {
      const home = homes.get(user);
      const body = {
        token: 'legacy',
        team_id: 'T0EMU',
        api_app_id: 'A0EMU',
        event: {
          type: 'app_home_opened',
          user,
          channel: `D${user}`,
          tab: 'home',
          event_ts: `${Date.now() / 1000}`,
          ...(home ? { view: { id: home.id, ...home.view } } : {}),
        },
        type: 'event_callback',
        event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: 'T0EMU', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      };
      return deliver(JSON.stringify(body));
    },
    /** A person's Home tab as last published. */
    home: (user: string) => homes.get(user),
    /** A button click on the person's Home tab, as block_actions from a view (`send`: a forged value instead). */
    clickHome(user: string, actionId: string, value?: string, send?: string) {
      const home = homes.get(user);
      if (!home) throw new Error(`no Home tab published for ${user}`);
      const button = ((home.view.blocks as Record<string, unknown>[]) ?? [])
        .flatMap((b) => (b.elements as Record<string, unknown>[]) ?? [])
        .find((e) => e.action_id === actionId && (value === undefined || e.value === value));
      if (!button && send === undefined) throw new Error(`no ${actionId} button on ${user}'s Home tab`);
      const payload = {
        type: 'block_actions',
        user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0EMU' },
        api_app_id: 'A0EMU',
        token: 'legacy',
        container: { type: 'view', view_id: home.id },
        trigger_id: newTrigger(user),
        team: { id: 'T0EMU', domain: 'emu' },
        enterprise: null,
        is_enterprise_install: false,
        view: { id: home.id, team_id: 'T0EMU', ...home.view, state: { values: {} }, app_id: 'A0EMU', bot_id: 'BBOT' },
        actions: [
          {
            type: 'button',
            action_id: actionId,
            block_id: 'b',
            value: send ?? String(button?.value),
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      };
      return deliver(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    /** The person closed the modal without submitting. */
    closeView(viewId: string) {
      const v = views.find((x) => x.id === viewId);
      if (v) v.closed = true;
    },
    /** A message by id. */
    message: (channel: string, ts: string) => messages.find((m) => m.channel === channel && m.ts === ts),
    views,
    limited,
    /** Fail the next `n` Web API calls with HTTP 503 (a Slack outage). */
    failNext(n: number) {
      fault.failing = n;
    },
    get socketConnected() {
      return socket !== undefined;
    },
    close: async () => {
      socket?.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A modal view as the bot sent it, or Slack's answer to a malformed one. */
function parseView(text: string | undefined): { view: Record<string, unknown> } | { error: Record<string, unknown> } {
  let view: Record<string, unknown>;
  try {
    view = JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    return { error: { ok: false, error: 'invalid_arguments' } };
  }
  const problem = checkView(view);
  return problem
    ? { error: { ok: false, error: 'invalid_arguments', response_metadata: { messages: [`[ERROR] ${problem}`] } } }
    : { view };
}

/** The modal rules Slack enforces that the bot could break. */
function checkView(view: Record<string, unknown>): string | undefined {
  const title = (view.title as { text?: string } | undefined)?.text ?? '';
  const blocks = (view.blocks as { type?: string }[] | undefined) ?? [];
  if (view.type !== 'modal') return 'view.type must be modal [json-pointer:/view/type]';
  if (!title || title.length > 24) return 'title must be 1 to 24 characters [json-pointer:/view/title/text]';
  if (!Array.isArray(blocks) || blocks.length > 100)
    return 'no more than 100 items allowed [json-pointer:/view/blocks]';
  if (blocks.some((b) => b.type === 'input') && !view.submit)
    return 'a view with input blocks must have submit [json-pointer:/view/submit]';
  if (String(view.private_metadata ?? '').length > 3000)
    return 'private_metadata must be at most 3000 characters [json-pointer:/view/private_metadata]';
  return undefined;
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
  if (blocks.some((b) => !b.type || (b.type === 'section' && (b.text?.text?.length ?? 0) > 3000)))
    return 'invalid_blocks';
  return undefined;
}

/** A submitted field's state as Slack sends it (select, checkboxes, number input…). */
export interface FieldState {
  type: string;
  value?: string;
  selected_option?: { text: { type: 'plain_text'; text: string }; value: string };
  selected_options?: { text: { type: 'plain_text'; text: string }; value: string }[];
}

export type SlackEmulator = Awaited<ReturnType<typeof startSlackEmulator>>;

/** The headers Slack sends with a form body: its timestamp and the v0 HMAC-SHA256 signature. */
export function slackSignedHeaders(
  signingSecret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const sig = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sig,
  };
}
