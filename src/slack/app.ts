import { App, AuthorizationError, HTTPReceiver, LogLevel, type Logger as BoltLogger, type Receiver, type RespondFn, type webApi } from '@slack/bolt';
import { EngineInputError, LockHeldError, isTerminal, type Directory, type Engine, type EngineEvent, type Logger, type Run } from '../engine';
import { ACTIONS, buildRejectModal, buildRunMessage, esc, HELP, REJECT_MODAL } from './blocks';
import { parseCommand } from './parse-command';

type WebClient = webApi.WebClient;

export interface SlackSettings {
  token: string;
  signingSecret: string;
  /** App-level token (xapp-…): when set, the app connects over Socket Mode instead of HTTP. */
  appToken?: string;
  apiUrl?: string;
  channel: string;
  notifyChannel?: string;
  roles: Record<string, string[]>;
  requesterRole: string;
  /** Region names /idc accepts (unknown ones are refused with a suggestion); any well-formed name when absent. */
  regions?: ReadonlySet<string>;
  /** How long to wait before re-sending a live message after Slack failed (default 5 s). */
  retryMs?: number;
  /** Changes within this many ms become one message update (default 1000). */
  coalesceMs?: number;
  /** Commands whose slow part (after the ack) may run at once (default 4); the rest queue. */
  backgroundConcurrency?: number;
  /** Input every workflow gets from the configuration (homeRegion, instanceArn, keyAlias…). */
  baseInput: Record<string, unknown>;
}

/** Read-only questions the Slack layer can ask without knowing AWS (wired in main.ts). */
export interface ReadOnly {
  status(): Promise<string>;
  /** The status picture when it is at hand without any I/O (answered in the ack itself). */
  cachedStatus?(): string | undefined;
  plan(region: string): Promise<string>;
  /** Checks replication now; alerts go to the notifications channel. */
  watchNow(): Promise<string>;
  /** Read-only DR drill of one additional Region. */
  drill(region: string): Promise<string>;
}

/**
 * Roles from the configuration: Slack user IDs, user groups (S…, resolved with usergroups.users.list)
 * or "*". Deactivated and guest accounts (users.info) never hold a role. Answers are cached a minute.
 */
export function createSlackDirectory(roles: Record<string, string[]>, client: () => WebClient): Directory {
  const cache = new Map<string, { value: unknown; at: number }>();
  const cached = async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 60_000) return hit.value as T;
    const value = await load();
    cache.set(key, { value, at: Date.now() });
    return value;
  };
  const member = async (user: string, m: string): Promise<boolean> => {
    if (m === '*' || m === user) return true;
    if (!m.startsWith('S')) return false;
    const users = await cached(`group/${m}`, async () => new Set((await client().usergroups.users.list({ usergroup: m })).users ?? []));
    return users.has(user);
  };
  const fullMember = (user: string) =>
    cached(`user/${user}`, async () => {
      const u = await client()
        .users.info({ user })
        .then((r) => r.user)
        .catch((err: { data?: { error?: string } }) => {
          if (err.data?.error === 'user_not_found') return undefined; // someone who has left the workspace holds no role
          throw err;
        });
      return Boolean(u && !u.deleted && !u.is_bot && !u.is_restricted && !u.is_ultra_restricted);
    });
  return {
    async isInRole(user, names) {
      for (const name of names) for (const m of roles[name] ?? []) if (await member(user, m)) return fullMember(user);
      return false;
    },
  };
}

/** Bolt's own messages, into the bot's structured log (its level applies; errors keep only their message). */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const text = (parts: unknown[]) => parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...m: unknown[]) => log.debug({ source: 'bolt' }, text(m)),
    info: (...m: unknown[]) => log.info({ source: 'bolt' }, text(m)),
    warn: (...m: unknown[]) => log.warn({ source: 'bolt' }, text(m)),
    error: (...m: unknown[]) => log.error({ source: 'bolt' }, text(m)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Bolt's HTTP receiver, with the request signature passed on to the middleware (replay check). */
function httpReceiver(signingSecret: string, logger?: BoltLogger): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret,
    ...(logger ? { logger } : {}),
    customPropertiesExtractor: (req) => ({ slackSignature: String(req.headers['x-slack-signature'] ?? '') }),
    // Every listener here acks at once; a request nothing acked (Bolt could not read it) gets a 400, well inside Slack's 3 s.
    unhandledRequestTimeoutMillis: 1500,
    unhandledRequestHandler: ({ logger, response }) => {
      logger.warn('A request that no listener handled got 400 (malformed or not for this app)');
      response.writeHead(400);
      response.end();
    },
  });
}

/** Runs at most `n` tasks at once; the others wait their turn. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const NOT_OURS = 'This button does not belong to a workflow message; nothing was changed.';

/** Creates the Bolt app: /idc, the approval and task buttons, and the live workflow messages. */
export function createSlackApp(s: SlackSettings, engine: Engine, readOnly: ReadOnly, logger?: Logger, receiver?: Receiver) {
  // Bolt hands its WebClient only a log level, so the client gets the same logger explicitly.
  const bolt = boltLogger(logger ?? SILENT);
  const clientOptions = { ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}), logger: bolt, retryConfig: { retries: 2, factor: 1.5, minTimeout: 200 } };
  const app = new App({
    token: s.token,
    deferInitialization: true,
    logger: bolt,
    clientOptions,
    ...(receiver ? { receiver } : s.appToken ? { socketMode: true, appToken: s.appToken, installerOptions: { clientOptions } } : { receiver: httpReceiver(s.signingSecret, bolt) }),
  });
  // Bolt checks the signature and its 5-minute window; a valid request sent again (a replay) is refused too.
  const seen = new Map<string, number>();
  const OURS = new Set<string>(Object.values(ACTIONS));
  app.use(async (args) => {
    const signature = args.context.slackSignature as string | undefined;
    if (signature) {
      const now = Date.now();
      if ((seen.get(signature) ?? 0) > now) throw new AuthorizationError('A request with this signature was already received (replay)', new Error('replayed request'));
      if (seen.size > 50_000) for (const [k, until] of seen) if (until <= now) seen.delete(k);
      seen.set(signature, now + 6 * 60_000);
    }
    // An interaction that is not one of ours (unknown action, malformed payload) is answered at once and changes nothing.
    const b = args.body as { type?: string; actions?: { action_id?: string }[]; view?: { callback_id?: string } };
    const ours = b.type === 'block_actions' ? Array.isArray(b.actions) && b.actions.some((a) => OURS.has(String(a?.action_id))) : b.type === 'view_submission' ? b.view?.callback_id === REJECT_MODAL.callbackId : true;
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (!ours) return void (await ack?.());
    await args.next();
  });
  const directory = createSlackDirectory(s.roles, () => app.client);
  const may = (user: string) => directory.isInRole(user, [s.requesterRole]);
  const afterAck = limiter(s.backgroundConcurrency ?? 4);
  const say = (respond: RespondFn, text: string) => respond({ response_type: 'ephemeral', text }).catch((err) => logger?.warn({ err }, 'respond failed'));

  app.command('/idc', async ({ command, ack, respond }) => {
    const parsed = parseCommand(command.text ?? '', s.regions);
    if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.error });
    const c = parsed.command;
    const user = command.user_id;
    if (c.name === 'help') return ack({ response_type: 'ephemeral', text: HELP });
    const instant = c.name === 'status' ? readOnly.cachedStatus?.() : undefined;
    if (instant) return ack({ response_type: 'ephemeral', text: instant });
    await ack({ response_type: 'ephemeral', text: `Working on \`/idc ${esc(command.text.trim())}\`…` });
    // The slow part (the role check may ask Slack) runs after the ack, a few at a time, so nothing delays acks.
    await afterAck(async () => {
      try {
        if (['add-region', 'remove-region', 'cancel', 'retry'].includes(c.name) && !(await may(user))) {
          return void (await say(respond, `Only members of the \`${s.requesterRole}\` role may run \`/idc ${c.name}\`. Ask an admin to add you to IDC_ROLES.`));
        }
        switch (c.name) {
          case 'status':
            return void (await say(respond, await readOnly.status()));
          case 'plan':
            return void (await say(respond, await readOnly.plan(c.region)));
          case 'watch':
            return void (await say(respond, await readOnly.watchNow()));
          case 'drill':
            return void (await say(respond, await readOnly.drill(c.region)));
          case 'add-region':
          case 'remove-region':
          case 'verify': {
            const workflowId = c.name === 'verify' ? 'verify-region' : c.name;
            // The configured inputs this workflow declares (verify-region takes no keyAlias, say).
            const declared = engine.definitions.get(workflowId)?.inputs ?? {};
            const base = Object.fromEntries(Object.entries(s.baseInput).filter(([k]) => k in declared));
            const run = await engine.start({ workflowId, input: { ...base, region: c.region }, requester: user, reason: 'reason' in c ? c.reason : undefined, requestId: command.trigger_id, meta: { channel: s.channel } });
            return void (await say(respond, `Started workflow \`${run.id}\`; follow it in <#${s.channel}>.`));
          }
          case 'workflows': {
            const runs = await engine.listRecent(10);
            return void (await say(respond, runs.length ? runs.map((r) => `• \`${r.id}\` ${r.workflowId} ${esc(String(r.input.region ?? ''))} — ${r.status} (<@${r.requester}>)`).join('\n') : 'No workflows yet.'));
          }
          case 'show': {
            const run = await engine.get(c.id);
            if (!run) return void (await say(respond, `There is no workflow \`${c.id}\`.`));
            const events = await engine.events(c.id);
            // The last 20 events, each AWS change with its request ids (the whole trail is in DynamoDB).
            const aws = (e: (typeof events)[number]) => {
              const reqs = ((e.data as { awsRequests?: { action: string; requestId?: string; error?: string }[] } | undefined)?.awsRequests ?? []).filter((r) => !/\.(Describe|Get|List)/.test(r.action));
              return reqs.length ? ` (AWS: ${reqs.map((r) => `${r.action} ${r.requestId ?? '?'}${r.error ? ` ${r.error}` : ''}`).join(', ')})` : '';
            };
            return void (await say(respond, [`*${run.workflowId}* \`${run.id}\` — ${run.status}`, ...events.slice(-20).map((e) => `• ${new Date(e.at).toISOString()} ${esc(e.actor)}: ${esc(e.message)}${esc(aws(e))}`)].join('\n')));
          }
          case 'cancel':
            await engine.cancel({ runId: c.id, user });
            return void (await say(respond, `Cancelled \`${c.id}\`.`));
          case 'retry':
            await engine.retry({ runId: c.id, user });
            return void (await say(respond, `Retrying \`${c.id}\` from the step that failed.`));
        }
      } catch (err) {
        const known = err instanceof EngineInputError || err instanceof LockHeldError;
        if (!known) logger?.error({ err }, 'command failed');
        await say(respond, known ? `⚠️ ${esc((err as Error).message)}` : '⚠️ Something went wrong on our side; the error is logged. Try again, or check `/idc workflows`.');
      }
    });
  });

  /** The button value names a run; it must be the run whose message was clicked (no forged values). */
  async function clicked(body: { channel?: { id?: string }; message?: { ts?: string }; container?: { message_ts?: string } }, value: string) {
    let v: { runId?: string; stepId?: string; planHash?: string };
    try {
      v = JSON.parse(value) as typeof v;
    } catch {
      return undefined;
    }
    const run = v.runId ? await engine.get(v.runId) : undefined;
    const ts = body.message?.ts ?? body.container?.message_ts;
    if (!run || run.meta.ts !== ts || run.meta.channel !== body.channel?.id) return undefined;
    return { run, ...v };
  }

  const ephemeral = (client: WebClient, channel: string | undefined, user: string, text: string) =>
    channel ? client.chat.postEphemeral({ channel, user, text }).catch((err) => logger?.warn({ err }, 'postEphemeral failed')) : undefined;

  type Click = { user: { id: string }; channel?: { id?: string }; message?: { ts?: string }; trigger_id: string };
  /** A button on a workflow message: acked at once, refused unless it belongs to the message clicked. */
  const onButton = (actionId: string, handle: (target: NonNullable<Awaited<ReturnType<typeof clicked>>>, b: Click, client: WebClient) => Promise<unknown>) =>
    app.action(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const b = body as unknown as Click;
      const target = await clicked(b, (action as { value?: string }).value ?? '');
      if (!target) return void (await ephemeral(client, b.channel?.id, b.user.id, NOT_OURS));
      await handle(target, b, client);
    });

  onButton(ACTIONS.approve, async (target, b, client) => {
    const res = await engine.decide({ runId: target.run.id, stepId: target.stepId, user: b.user.id, verdict: 'approve', planHash: target.planHash });
    if (!['recorded', 'opened'].includes(res.outcome)) await ephemeral(client, b.channel?.id, b.user.id, res.message);
  });

  // Reject asks for a reason in a modal; the modal carries which message it came from.
  onButton(ACTIONS.reject, async (target, b, client) => {
    const metadata = JSON.stringify({ runId: target.run.id, stepId: target.stepId, planHash: target.planHash, channel: b.channel?.id, ts: b.message?.ts });
    await client.views.open({ trigger_id: b.trigger_id, view: buildRejectModal(target.run, metadata) }).catch((err) => {
      logger?.warn({ err }, 'views.open failed');
      return ephemeral(client, b.channel?.id, b.user.id, 'Slack could not open the reason dialog; press Reject again.');
    });
  });

  app.view(REJECT_MODAL.callbackId, async ({ ack, body, view }) => {
    const reason = view.state.values[REJECT_MODAL.block]?.[REJECT_MODAL.action]?.value?.trim() ?? '';
    if (reason.length < 3) return void (await ack({ response_action: 'errors', errors: { [REJECT_MODAL.block]: 'Say why in a few words; the requester and the audit trail will see it.' } }));
    let meta: { runId?: string; stepId?: string; planHash?: string; channel?: string; ts?: string };
    try {
      meta = JSON.parse(view.private_metadata) as typeof meta;
    } catch {
      meta = {};
    }
    const target = await clicked({ channel: { id: meta.channel }, message: { ts: meta.ts } }, JSON.stringify(meta));
    if (!target) return void (await ack({ response_action: 'errors', errors: { [REJECT_MODAL.block]: NOT_OURS } }));
    const res = await engine.decide({ runId: target.run.id, stepId: target.stepId, user: body.user.id, verdict: 'reject', planHash: target.planHash, reason });
    if (res.outcome !== 'rejected' && res.outcome !== 'recorded') return void (await ack({ response_action: 'errors', errors: { [REJECT_MODAL.block]: res.message } }));
    await ack();
  });

  onButton(ACTIONS.taskDone, async (target, b, client) => {
    const res = await engine.confirmTask({ runId: target.run.id, stepId: target.stepId, user: b.user.id });
    if (!res.ok) await ephemeral(client, b.channel?.id, b.user.id, res.message);
  });

  // Live messages: one per run, rendered from the newest run the engine reported, so a Slack
  // outage only delays them. Changes that arrive within `coalesceMs` become one update; an update
  // identical to the last one is not sent; thread notes since the last update go out as one reply.
  interface Pending {
    /** The newest version of the run seen (from the engine's events, or read at catch-up). */
    run: Run;
    timer?: NodeJS.Timeout;
    running: boolean;
    dirty: boolean;
    notes: string[];
    sent?: string;
  }
  const queue = new Map<string, Pending>();
  const coalesceMs = s.coalesceMs ?? 1000;
  const rendering = new Set<Promise<void>>();

  /** The thread line for an event, or nothing when the live message already says it all. */
  function noteFor(e: EngineEvent): string | undefined {
    const st = e.stepId ? e.run.steps[e.stepId] : undefined;
    switch (e.type) {
      case 'step_succeeded':
        return st?.details?.length ? `*${esc(e.message)}*\n${st.details.map((d) => esc(d)).join('\n')}` : undefined;
      case 'step_failed':
      case 'step_retrying':
      case 'plan_changed':
      case 'task_confirmed':
        return `${e.type === 'step_failed' ? '❌ ' : e.type === 'step_retrying' ? '🔁 ' : ''}${esc(e.message)}`;
      case 'run_finished':
        return `<@${e.run.requester}> ${e.run.status === 'succeeded' ? '✅' : '⚠️'} ${esc(e.message)}`;
      case 'approval_reminder': {
        // Mention the approvers who have not decided yet (users and user groups from the roles).
        const gate = e.run.definition.steps.find((x) => x.id === e.stepId) as { approval?: { approvers: string[] } } | undefined;
        const decided = new Set((st?.decisions ?? []).map((d) => d.user));
        const who = new Set((gate?.approval?.approvers ?? []).flatMap((r) => s.roles[r] ?? []).filter((m) => m !== '*' && m !== e.run.requester && !decided.has(m)));
        return `⏰ ${esc(e.message)}${who.size ? ` ${[...who].map((m) => (m.startsWith('S') ? `<!subteam^${m}>` : `<@${m}>`)).join(' ')}` : ''}`;
      }
      default:
        return undefined;
    }
  }

  async function render(runId: string, q: Pending): Promise<void> {
    if (q.running) return void (q.dirty = true);
    q.running = true;
    try {
      do {
        q.dirty = false;
        const run = q.run;
        const msg = buildRunMessage(run);
        const channel = String(run.meta.channel ?? s.channel);
        let ts = run.meta.ts as string | undefined;
        const body = JSON.stringify(msg);
        if (!ts) {
          const out = await app.client.chat.postMessage({ channel, ...msg });
          ts = out.ts as string;
          const meta = { channel: out.channel ?? channel, ts };
          const stored = await engine.setMeta(run.id, meta);
          if (stored && q.run.version <= stored.version) q.run = stored;
        } else if (body !== q.sent) {
          await app.client.chat.update({ channel, ts, ...msg });
        }
        q.sent = body;
        const notes = q.notes.splice(0);
        for (let i = 0; i < notes.length; ) {
          let text = '';
          while (i < notes.length && (text.length + (notes[i] as string).length < 3500 || !text)) text += `${text ? '\n' : ''}${notes[i++]}`;
          await app.client.chat.postMessage({ channel, thread_ts: ts, text });
        }
        if (isTerminal(run.status) && s.notifyChannel && notes.some((n) => n.startsWith(`<@${run.requester}>`))) {
          await app.client.chat.postMessage({ channel: s.notifyChannel, text: `${esc(run.definition.title)} \`${run.id}\`: ${run.status}` });
        }
      } while (q.dirty);
    } catch (err) {
      const retryMs = s.retryMs ?? 5000;
      logger?.warn({ err, runId }, `Slack update failed; retrying in ${retryMs} ms`);
      q.dirty = false;
      schedule(runId, q, retryMs);
    } finally {
      q.running = false;
    }
  }

  function schedule(runId: string, q: Pending, delay: number): void {
    if (q.timer) return;
    let release: () => void = () => undefined;
    const p = new Promise<void>((resolve) => (release = resolve));
    rendering.add(p);
    q.timer = setTimeout(() => {
      q.timer = undefined;
      render(runId, q).finally(() => {
        rendering.delete(p);
        release();
      });
    }, delay);
  }

  /** The run's entry in the queue, holding the newest version of the run seen. */
  function pendingFor(run: Run): Pending {
    const q = queue.get(run.id) ?? { run, running: false, dirty: false, notes: [] };
    queue.set(run.id, q);
    if (q.run.version <= run.version) q.run = run;
    return q;
  }

  engine.on((event) => {
    const q = pendingFor(event.run);
    const note = noteFor(event);
    if (note) q.notes.push(note);
    if (q.running) q.dirty = true;
    else schedule(event.run.id, q, coalesceMs);
    if (isTerminal(event.run.status)) setTimeout(() => queue.delete(event.run.id), 60_000).unref();
  });

  /**
   * After a start: brings the live messages of runs in flight (and of runs that ended in the last
   * ten minutes) up to date, since a process that stopped may not have posted their last change.
   */
  const catchUp = async () => {
    const since = Date.now() - 10 * 60_000;
    for (const run of await engine.listRecent(100)) {
      if (isTerminal(run.status) && run.updatedAt < since) continue;
      schedule(run.id, pendingFor(run), 0);
    }
  };

  /** Waits until the live messages are posted (Lambda must not freeze before that). */
  const flush = async () => {
    while (rendering.size) await Promise.allSettled([...rendering]);
  };

  return { app, directory, flush, catchUp };
}
