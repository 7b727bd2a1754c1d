import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { requestId, SERVICES } from './services';
import { AwsError, createWorld, MUTATING, type World, type WorldOptions } from './world';

const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;

/** Which IAM action a request is (for deny faults and the IAM-policy test). */
const actionName = (service: string, op: string) => `${SERVICES[service]?.signingName}:${op}`;

function send(res: ServerResponse, status: number, body: unknown, id: string, contentType: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'x-amzn-requestid': id,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: AwsError, id: string, contentType: string): void {
  res.setHeader('x-amzn-errortype', err.type);
  send(res, err.status, { __type: err.type, message: err.message, ...err.extra }, id, contentType);
}

/** Handles one AWS JSON 1.1 request against `world` (`session`: the AssumeRole session that signed it). */
export async function handle(
  world: World,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  session?: string,
): Promise<void> {
  const id = requestId();
  const target = String(req.headers['x-amz-target'] ?? '');
  const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
  const rest = target ? undefined : Object.entries(SERVICES).find(([, s]) => s.routes?.[route]);
  const [service = '', op = ''] = rest ? [rest[0], rest[1].routes?.[route]] : target.split('.');
  const svc = SERVICES[service];
  const contentType = rest ? 'application/json' : 'application/x-amz-json-1.1';
  const scope = CREDENTIAL_SCOPE.exec(String(req.headers.authorization ?? ''));
  if (!scope && !svc?.unsigned)
    return sendError(
      res,
      new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403),
      id,
      contentType,
    );
  // Unsigned calls (OIDC, the portal) carry no Region: their handlers find it in what they name.
  const region = scope?.[1] ?? '';
  if (!svc || !svc.handlers[op])
    return sendError(
      res,
      new AwsError('UnknownOperationException', `Unknown operation ${target || route}`),
      id,
      contentType,
    );
  if (scope && scope[2] !== svc.signingName)
    return sendError(
      res,
      new AwsError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${svc.signingName}'.`,
        403,
      ),
      id,
      contentType,
    );
  if (req.method !== 'GET' && !String(req.headers['content-type'] ?? '').startsWith(contentType))
    return sendError(res, new AwsError('SerializationException', `Expected ${contentType}`), id, contentType);
  if (world.faults.latencyMs) await new Promise((r) => setTimeout(r, world.faults.latencyMs));
  const userAgent = String(req.headers['user-agent'] ?? '');
  const record = (ok: boolean) =>
    world.calls.push({ action: op, region, ok, at: world.now(), userAgent, ...(session ? { session } : {}) });
  try {
    if (world.faults.outage.has(region))
      throw new AwsError('InternalServerException', `Service unavailable in ${region}`, 503);
    const action = actionName(service, op);
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      // REST GETs: the query string and the portal's bearer token header are the input.
      if (req.method === 'GET')
        body = {
          ...Object.fromEntries(new URLSearchParams((req.url ?? '').split('?')[1] ?? '')),
          bearer: req.headers['x-amz-sso_bearer_token'],
        };
    } catch {
      throw new AwsError('SerializationException', 'Request body is not valid JSON');
    }
    const denial = scope && world.authorize && (await world.authorize({ action, region, body }));
    if (denial)
      throw new AwsError(
        'AccessDeniedException',
        `User: arn:aws:sts::${world.accountId}:assumed-role/idc-bot/session is not authorized to perform: ${denial}`,
      );
    if (world.faults.deny.has(action)) {
      throw new AwsError(
        'AccessDeniedException',
        `User: arn:aws:sts::${world.accountId}:assumed-role/idc-bot/session is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
      );
    }
    if (world.faults.failRate > 0 && world.random() < world.faults.failRate) {
      world.rateFaults = (world.rateFaults ?? 0) + 1;
      throw world.rateFaults % 2
        ? new AwsError('ThrottlingException', 'Rate exceeded')
        : new AwsError('InternalServerException', 'Injected internal error', 500);
    }
    const fault = world.faults.fail.find(
      (f) => (f.action === op || f.action === '*') && f.remaining > 0 && (!f.region || f.region === region),
    );
    if (fault) {
      fault.remaining--;
      throw new AwsError(
        fault.type,
        fault.type === 'ThrottlingException' ? 'Rate exceeded' : `Injected ${fault.type}`,
        fault.status,
      );
    }
    world.settle();
    const out = (svc.handlers[op] as (w: World, r: string, b: Record<string, unknown>) => unknown)(world, region, body);
    record(true);
    // The change is made; the answer is late (a caller that dies now never learns it happened).
    if (world.faults.responseDelayMs && MUTATING.has(op))
      await new Promise((r) => setTimeout(r, world.faults.responseDelayMs));
    send(res, 200, out ?? {}, id, contentType);
  } catch (err) {
    record(false);
    sendError(
      res,
      err instanceof AwsError ? err : new AwsError('InternalServerException', String(err), 500),
      id,
      contentType,
    );
  }
}

export interface AwsEmulator {
  world: World;
  /** AssumeRole sessions by access key id (their account and session name). */
  sessions: Map<string, { accountId: string; roleName: string; sessionName: string }>;
  addAccount(o: WorldOptions & { accountId: string; roleName?: string; externalId?: string }): World;
  url: string;
  server: Server;
  /** The AWS_ENDPOINT_URL_* variables that point the SDK here. */
  env: Record<string, string>;
  /** Lambda functions by name, for Invoke (a test registers the handler it drives). */
  functions: Map<string, (payload: unknown) => Promise<unknown>>;
  /** Every Invoke received. */
  invocations: { name: string; type: string; payload: unknown }[];
  close(): Promise<void>;
}

/**
 * Starts the AWS emulator: SSO Admin, KMS, Identity Store, Organizations and Service Quotas over
 * the JSON 1.1 protocol and Account over REST JSON, the Region
 * read from the SigV4 credential scope, and `/__emulator/*` routes for faults and inspection.
 */
export async function startAwsEmulator(
  opts: WorldOptions & { port?: number; host?: string } = {},
): Promise<AwsEmulator> {
  const world = createWorld(opts);
  /** Other AWS accounts (other organizations), each its own world, reached by assuming its role. */
  const accounts = new Map<string, { world: World; roleName: string; externalId?: string }>();
  /** Temporary credentials handed out by AssumeRole: access key id → account and session. */
  const sessions = new Map<string, { accountId: string; roleName: string; sessionName: string }>();
  /** The world a signed request acts in: its access key's account, or the default one. */
  const worldOf = (req: IncomingMessage): World => {
    const session = sessions.get(akidOf(req));
    return (session && accounts.get(session.accountId)?.world) ?? world;
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/__emulator/')) return admin(world, req.url, raw, res);
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        return stsQuery(worldOf(req), raw, res, { accounts, sessions, akid: akidOf(req) });
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      if (invoke && req.method === 'POST')
        return invokeFunction(decodeURIComponent(invoke[1] as string), req, res, raw);
      handle(worldOf(req), req, res, raw, sessions.get(akidOf(req))?.sessionName).catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  /**
   * Lambda's Invoke (REST JSON, `POST /2015-03-31/functions/{name}/invocations`): `Event` answers
   * 202 at once and runs the function later, as Lambda's asynchronous invocation does;
   * `RequestResponse` answers with what it returns. Functions are registered by the test.
   */
  const functions = new Map<string, (payload: unknown) => Promise<unknown>>();
  const invocations: { name: string; type: string; payload: unknown }[] = [];
  function invokeFunction(name: string, req: IncomingMessage, res: ServerResponse, raw: string) {
    const fn = functions.get(name);
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (!fn)
      return reply(
        404,
        { Type: 'User', message: `Function not found: ${name}` },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    let payload: unknown;
    try {
      payload = raw ? JSON.parse(raw) : {};
    } catch {
      return reply(
        400,
        { Type: 'User', message: 'Could not parse request body into json' },
        { 'x-amzn-errortype': 'InvalidRequestContentException' },
      );
    }
    invocations.push({ name, type, payload });
    if (type === 'Event') {
      reply(202, undefined);
      setImmediate(() => void fn(payload).catch(() => undefined));
      return;
    }
    fn(payload).then(
      (out) => reply(200, out, { 'x-amz-executed-version': '$LATEST' }),
      (err: unknown) => reply(200, { errorMessage: String(err) }, { 'x-amz-function-error': 'Unhandled' }),
    );
  }
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    world,
    url,
    server,
    functions,
    invocations,
    sessions,
    /**
     * Another AWS account with its own organization instance (a second organization), reached by
     * STS AssumeRole of `arn:aws:iam::<accountId>:role/<roleName>` (with `externalId` when given).
     */
    addAccount(o: WorldOptions & { accountId: string; roleName?: string; externalId?: string }): World {
      const w = createWorld({ ...opts, ...o });
      accounts.set(o.accountId, { world: w, roleName: o.roleName ?? 'idc-bot', externalId: o.externalId });
      return w;
    },
    env: {
      AWS_ENDPOINT_URL_LAMBDA: url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_ENDPOINT_URL_SSM: url,
      AWS_ENDPOINT_URL_STS: url,
      AWS_ENDPOINT_URL_SSO_ADMIN: url,
      AWS_ENDPOINT_URL_KMS: url,
      AWS_ENDPOINT_URL_IDENTITYSTORE: url,
      AWS_ENDPOINT_URL_ORGANIZATIONS: url,
      AWS_ENDPOINT_URL_SERVICE_QUOTAS: url,
      AWS_ENDPOINT_URL_ACCOUNT: url,
      AWS_ENDPOINT_URL_SSO_OIDC: url,
      AWS_ENDPOINT_URL_SSO: url,
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Test and sandbox controls: GET state, POST faults ({fail|deny|outage|latencyMs|timeScale}). */
function admin(world: World, url: string, raw: string, res: ServerResponse): void {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  world.settle();
  if (url === '/__emulator/state') {
    return json(200, {
      instance: { ...world.instance, regions: [...world.instance.regions.values()] },
      keys: [...world.keys.values()].map((k) => ({ keyId: k.keyId, region: k.region, state: k.state, role: k.role })),
      mutations: world.mutations(),
      calls: world.calls.length,
      faults: { ...world.faults, deny: [...world.faults.deny], outage: [...world.faults.outage] },
      timeScale: world.timeScale,
    });
  }
  if (url === '/__emulator/faults') {
    try {
      const f = JSON.parse(raw || '{}') as {
        fail?: { action: string; times: number; type?: string; status?: number };
        deny?: string[];
        outage?: string[];
        latencyMs?: number;
        failRate?: number;
        timeScale?: number;
        clear?: boolean;
      };
      if (f.clear)
        Object.assign(world.faults, { fail: [], deny: new Set(), outage: new Set(), latencyMs: 0, failRate: 0 });
      if (f.fail)
        world.faults.fail.push({
          action: f.fail.action,
          remaining: f.fail.times,
          type: f.fail.type ?? 'ThrottlingException',
          status: f.fail.status ?? 400,
        });
      if (f.deny) world.faults.deny = new Set(f.deny);
      if (f.outage) world.faults.outage = new Set(f.outage);
      if (f.latencyMs !== undefined) world.faults.latencyMs = f.latencyMs;
      if (f.failRate !== undefined) world.faults.failRate = f.failRate;
      if (f.timeScale !== undefined) world.timeScale = f.timeScale;
      return json(200, { ok: true });
    } catch (err) {
      return json(400, { ok: false, error: String(err) });
    }
  }
  json(404, { ok: false, error: 'unknown emulator route' });
}

/**
 * STS over the query protocol (form-encoded `Action=…`, XML answers): GetCallerIdentity, with the
 * world's caller account; other actions answer InvalidAction.
 */
const akidOf = (req: IncomingMessage) =>
  /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';

/**
 * STS over the query protocol: GetCallerIdentity, and AssumeRole into another account the emulator
 * holds (its role's trust: the external ID must match), with STS's XML answers and errors.
 */
function stsQuery(
  world: World,
  raw: string,
  res: ServerResponse,
  ctx: {
    accounts: Map<string, { world: World; roleName: string; externalId?: string }>;
    sessions: Map<string, { accountId: string; roleName: string; sessionName: string }>;
    akid: string;
  },
): void {
  const form = new URLSearchParams(raw);
  const action = form.get('Action');
  const rid = randomUUID();
  const xml = (status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': rid });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  };
  const fail = (status: number, code: string, message: string) =>
    xml(
      status,
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${rid}</RequestId></ErrorResponse>`,
    );
  const session = ctx.sessions.get(ctx.akid);
  if (action === 'GetCallerIdentity') {
    const account = session?.accountId ?? world.callerAccountId;
    const who = session ? `${session.roleName}/${session.sessionName}` : 'idc-bot/idc-bot';
    return xml(
      200,
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::${account}:assumed-role/${who}</Arn><UserId>AROAEXAMPLE:idc-bot</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${rid}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }
  if (action !== 'AssumeRole') return fail(400, 'InvalidAction', `Could not find operation ${action ?? ''}`);
  const roleArn = form.get('RoleArn') ?? '';
  const sessionName = form.get('RoleSessionName') ?? '';
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
    return fail(
      400,
      'ValidationError',
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
  const target = m ? ctx.accounts.get(m[1] as string) : undefined;
  const denied = () =>
    fail(
      403,
      'AccessDenied',
      `User: arn:aws:sts::${world.callerAccountId}:assumed-role/idc-bot/idc-bot is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  if (!m || !target || target.roleName !== m[2] || (target.externalId ?? null) !== (form.get('ExternalId') ?? null))
    return denied();
  const akid = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
  ctx.sessions.set(akid, { accountId: m[1] as string, roleName: target.roleName, sessionName });
  const expires = new Date(Date.now() + Number(form.get('DurationSeconds') ?? 3600) * 1000).toISOString();
  xml(
    200,
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${akid}</AccessKeyId><SecretAccessKey>${randomUUID()}</SecretAccessKey><SessionToken>${randomUUID()}</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${m[1]}:assumed-role/${target.roleName}/${sessionName}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${rid}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
  );
}
