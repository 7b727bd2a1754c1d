import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { World } from '../emulators/aws/world';
import type { OktaEmulator } from '../emulators/idp/okta';
import type { SlackEmulator } from '../emulators/slack/server';

/** The page's files: beside this module when run from src/, or in src/ when run from dist/. */
const UI_DIR = [join(__dirname, 'ui'), join(__dirname, '../../../dev/sandbox/ui')].find((d) => existsSync(d)) as string;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** One emulated AWS Organization: its instance's world, its channels, its Identity Center app in Okta. */
export interface PageOrg {
  name: string;
  channels: string[];
  world: World;
  idpApp: string;
}

export interface PageWorld {
  slack: SlackEmulator;
  clock: { now(): number; speed: number; setSpeed(speed: number): void };
  people: Record<string, { name: string; real_name: string; role: string }>;
  channels: Record<string, string>;
  okta: OktaEmulator;
  /** The first is shown where a channel is no instance's (the Home tab). */
  orgs: PageOrg[];
}

/** The organization a channel belongs to (the panels and the fault buttons act on it). */
const orgOf = (w: PageWorld, channel: unknown): PageOrg =>
  w.orgs.find((o) => o.channels.includes(String(channel))) ?? (w.orgs[0] as PageOrg);

/**
 * The sandbox page: a Slack-like channel view over the Slack emulator (messages, threads, ephemerals,
 * modals, a user switcher), controls for the AWS emulator (faults, speed) and the IdP's ACS URLs. Listens at once, so a
 * busy port is reported before anything else starts; `attach` connects it when the rest is up.
 */
export async function startSandboxPage(port: number) {
  let world: PageWorld | undefined;
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => send(res, 500, { error: String((err as Error).message ?? err) }));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      if (!/^[a-z-]+\.(html|js|css)$/.test(file) || !existsSync(join(UI_DIR, file)))
        return send(res, 404, { error: 'not found' });
      res.writeHead(200, {
        'content-type': TYPES[file.slice(file.lastIndexOf('.'))] as string,
        'cache-control': 'no-store',
      });
      return void res.end(readFileSync(join(UI_DIR, file)));
    }
    if (!world) return send(res, 503, { error: 'The sandbox is still starting' });
    const w = world;
    if (req.method === 'GET' && url.pathname === '/api/state')
      return send(res, 200, state(w, url.searchParams.get('user') ?? '', orgOf(w, url.searchParams.get('channel'))));
    const body = JSON.parse((await read(req)) || '{}') as Record<string, unknown>;
    const user = String(body.user ?? '');
    const org = orgOf(w, body.channel);
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    switch (url.pathname) {
      case '/api/command': {
        const text = String(body.text ?? '').trim();
        const channel = String(body.channel ?? 'C0IDC');
        const m = /^\/idc(?:\s+([\s\S]*))?$/.exec(text);
        if (!m) {
          if (text.startsWith('/'))
            w.slack.ephemerals.push({
              channel,
              user,
              text: `${text.split(/\s/)[0]} is not a valid command. This workspace has /idc.`,
              at: Date.now(),
            });
          else if (text) w.slack.messages.push({ ts: `${Date.now() / 1000}`, channel, user, text, edits: 0 });
          return send(res, 200, { ok: true });
        }
        const r = await w.slack.command(user, m[1] ?? '', channel);
        return send(res, 200, { ok: r.status === 200, ms: r.ms });
      }
      case '/api/click': {
        const message = w.slack.message(String(body.channel), String(body.ts));
        if (!message) return send(res, 404, { error: 'no such message' });
        const r = await w.slack.clickValue(user, message, String(body.actionId), String(body.value));
        return send(res, 200, { ok: r.status === 200 });
      }
      case '/api/submit': {
        const r = await w.slack.submitView(
          user,
          String(body.viewId),
          body.values as Parameters<SlackEmulator['submitView']>[2],
        );
        return send(res, 200, { ok: r.status === 200 });
      }
      case '/api/home': {
        const r = await w.slack.homeOpened(user);
        return send(res, 200, { ok: r.status === 200 });
      }
      case '/api/click-home': {
        const r = await w.slack.clickHome(user, String(body.actionId), String(body.value));
        return send(res, 200, { ok: r.status === 200 });
      }
      case '/api/sign-in': {
        // The stand-in IdP window: the person signs in (or is refused) for a sign-in check's code.
        const done = w.orgs.some((o) => o.world.completeSignIn(String(body.userCode), user, body.deny === true));
        return send(res, done ? 200 : 404, done ? { ok: true } : { error: 'no sign-in waits for that code' });
      }
      case '/api/close':
        w.slack.closeView(String(body.viewId));
        return send(res, 200, { ok: true });
      case '/api/faults': {
        const f = org.world.faults;
        if (body.clear) Object.assign(f, { fail: [], outage: new Set(), deny: new Set(), latencyMs: 0 });
        if (typeof body.throttle === 'number')
          f.fail.push({ action: '*', remaining: body.throttle, type: 'ThrottlingException', status: 400 });
        if (typeof body.outage === 'string') f.outage.add(body.outage);
        if (typeof body.restore === 'string') f.outage.delete(body.restore);
        return send(res, 200, { ok: true });
      }
      case '/api/idp': {
        // An admin swaps the app for the single-ACS-URL kind (or back).
        w.okta.setSingleAcs(org.idpApp, body.single === true);
        return send(res, 200, { ok: true });
      }
      case '/api/speed': {
        const speed = Number(body.speed);
        if (!(speed > 0 && speed <= 3600)) return send(res, 400, { error: 'speed must be between 0 and 3600' });
        w.clock.setSpeed(speed);
        return send(res, 200, { ok: true });
      }
      default:
        return send(res, 404, { error: 'unknown route' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} is already in use. Stop what uses it, or pick another port: PORT=${port + 1} npm start`,
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    attach(w: PageWorld) {
      world = w;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * What the page shows to `user`: every channel message, their own ephemerals and modals, and the
 * AWS and IdP of `org` (the instance of the channel in view) at a glance.
 */
function state(w: PageWorld, user: string, org: PageOrg) {
  const world = org.world;
  for (const o of w.orgs) o.world.settle();
  return {
    people: w.people,
    channels: w.channels,
    messages: w.slack.messages,
    ephemerals: w.slack.ephemerals.filter((e) => e.user === user),
    views: w.slack.views.filter((v) => v.user === user && !v.closed),
    home: w.slack.home(user)?.view,
    aws: {
      instance: org.name,
      account: world.accountId,
      primaryRegion: world.instance.primaryRegion,
      regions: [...world.instance.regions.values()].map((r) => ({ name: r.name, status: r.status })),
      encryption: { keyType: world.instance.encryption.keyType, status: world.instance.encryption.status },
      keys: [...world.keys.values()].map((k) => ({
        region: k.region,
        keyId: k.keyId,
        state: k.state,
        role: k.role ?? 'SINGLE',
      })),
      faults: { throttling: world.faults.fail.reduce((n, f) => n + f.remaining, 0), outage: [...world.faults.outage] },
      mutations: world.mutations(),
    },
    idp: {
      name: 'Okta',
      acsUrls: w.okta.acsUrls(org.idpApp),
      single: w.okta.single(org.idpApp),
    },
    clock: { now: w.clock.now(), speed: w.clock.speed },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
