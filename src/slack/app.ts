import { App, LogLevel, type RespondFn, type webApi } from '@slack/bolt';
import { EngineInputError, LockHeldError, isTerminal, type Directory, type Engine, type EngineEvent, type Logger, type Run } from '../engine';
import { ACTIONS, buildRunMessage, esc, HELP } from './blocks';
import { parseCommand } from './parse-command';

type WebClient = webApi.WebClient;

export interface SlackSettings {
  token: string;
  signingSecret: string;
  apiUrl?: string;
  channel: string;
  notifyChannel?: string;
  roles: Record<string, string[]>;
  requesterRole: string;
  /** Input every workflow gets from the configuration (homeRegion, instanceArn, keyAlias…). */
  baseInput: Record<string, unknown>;
}

/** Read-only questions the Slack layer can ask without knowing AWS (wired in main.ts). */
export interface ReadOnly {
  status(): Promise<string>;
  plan(region: string): Promise<string>;
}

/** Roles from the configuration: Slack user IDs, user groups (S…, resolved with usergroups.users.list) or "*". */
export function createSlackDirectory(roles: Record<string, string[]>, client: () => WebClient): Directory {
  const groups = new Map<string, { users: Set<string>; at: number }>();
  return {
    async isInRole(user, names) {
      for (const name of names) {
        for (const member of roles[name] ?? []) {
          if (member === '*' || member === user) return true;
          if (member.startsWith('S')) {
            let g = groups.get(member);
            if (!g || Date.now() - g.at > 60_000) {
              const out = await client().usergroups.users.list({ usergroup: member });
              g = { users: new Set(out.users ?? []), at: Date.now() };
              groups.set(member, g);
            }
            if (g.users.has(user)) return true;
          }
        }
      }
      return false;
    },
  };
}

/** Creates the Bolt app: /idc, the approval and task buttons, and the live workflow messages. */
export function createSlackApp(s: SlackSettings, engine: Engine, readOnly: ReadOnly, logger?: Logger) {
  const app = new App({
    token: s.token,
    signingSecret: s.signingSecret,
    deferInitialization: true,
    logLevel: LogLevel.WARN,
    clientOptions: { ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}), retryConfig: { retries: 2, factor: 1.5, minTimeout: 200 } },
  });
  const directory = createSlackDirectory(s.roles, () => app.client);
  const may = (user: string) => directory.isInRole(user, [s.requesterRole]);
  const say = (respond: RespondFn, text: string) => respond({ response_type: 'ephemeral', text }).catch((err) => logger?.warn({ err }, 'respond failed'));

  app.command('/idc', async ({ command, ack, respond }) => {
    const parsed = parseCommand(command.text ?? '');
    if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.error });
    const c = parsed.command;
    const user = command.user_id;
    if (c.name === 'help') return ack({ response_type: 'ephemeral', text: HELP });
    if (['add-region', 'remove-region', 'cancel', 'retry'].includes(c.name) && !(await may(user))) {
      return ack({ response_type: 'ephemeral', text: `Only members of the \`${s.requesterRole}\` role may run \`/idc ${c.name}\`. Ask an admin to add you to IDC_ROLES.` });
    }
    await ack({ response_type: 'ephemeral', text: `Working on \`/idc ${esc(command.text.trim())}\`…` });
    try {
      switch (c.name) {
        case 'status':
          return void (await say(respond, await readOnly.status()));
        case 'plan':
          return void (await say(respond, await readOnly.plan(c.region)));
        case 'add-region':
        case 'remove-region':
        case 'verify': {
          const workflowId = c.name === 'verify' ? 'verify-region' : c.name;
          const run = await engine.start({ workflowId, input: { ...s.baseInput, region: c.region }, requester: user, reason: 'reason' in c ? c.reason : undefined, requestId: command.trigger_id, meta: { channel: s.channel } });
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
          return void (await say(respond, [`*${run.workflowId}* \`${run.id}\` — ${run.status}`, ...events.slice(-20).map((e) => `• ${new Date(e.at).toISOString()} ${esc(e.actor)}: ${esc(e.message)}`)].join('\n')));
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

  for (const [actionId, verdict] of [
    [ACTIONS.approve, 'approve'],
    [ACTIONS.reject, 'reject'],
  ] as const) {
    app.action(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const b = body as unknown as { user: { id: string }; channel?: { id?: string }; message?: { ts?: string } };
      const target = await clicked(b, (action as { value?: string }).value ?? '');
      if (!target) return void (await ephemeral(client, b.channel?.id, b.user.id, 'This button does not belong to a workflow message; nothing was changed.'));
      const res = await engine.decide({ runId: target.run.id, stepId: target.stepId, user: b.user.id, verdict, planHash: target.planHash });
      if (!['recorded', 'opened', 'rejected'].includes(res.outcome)) await ephemeral(client, b.channel?.id, b.user.id, res.message);
    });
  }

  app.action(ACTIONS.taskDone, async ({ ack, body, action, client }) => {
    await ack();
    const b = body as unknown as { user: { id: string }; channel?: { id?: string }; message?: { ts?: string } };
    const target = await clicked(b, (action as { value?: string }).value ?? '');
    if (!target) return void (await ephemeral(client, b.channel?.id, b.user.id, 'This button does not belong to a workflow message; nothing was changed.'));
    const res = await engine.confirmTask({ runId: target.run.id, stepId: target.stepId, user: b.user.id });
    if (!res.ok) await ephemeral(client, b.channel?.id, b.user.id, res.message);
  });

  // Live messages: one per run, re-rendered from the stored run, so a Slack outage only delays them.
  const queue = new Map<string, { running: boolean; dirty: boolean; notes: EngineEvent[] }>();
  async function render(runId: string): Promise<void> {
    const q = queue.get(runId) ?? { running: false, dirty: false, notes: [] };
    queue.set(runId, q);
    q.dirty = true;
    if (q.running) return;
    q.running = true;
    try {
      while (q.dirty) {
        q.dirty = false;
        const run = (await engine.get(runId)) as Run;
        const msg = buildRunMessage(run, Date.now());
        const channel = String(run.meta.channel ?? s.channel);
        let ts = run.meta.ts as string | undefined;
        if (!ts) {
          const out = await app.client.chat.postMessage({ channel, ...msg });
          ts = out.ts as string;
          await engine.setMeta(run.id, { channel: out.channel ?? channel, ts });
        } else {
          await app.client.chat.update({ channel, ts, ...msg });
        }
        for (const n of q.notes.splice(0)) {
          const text = `${n.type === 'run_finished' && run.status !== 'succeeded' ? '⚠️ ' : ''}${esc(n.message)}`;
          await app.client.chat.postMessage({ channel, thread_ts: ts, text: n.type === 'run_finished' ? `<@${run.requester}> ${text}` : text });
          if (n.type === 'run_finished' && s.notifyChannel) await app.client.chat.postMessage({ channel: s.notifyChannel, text: `${run.definition.title} \`${run.id}\`: ${run.status}` });
        }
      }
    } catch (err) {
      logger?.warn({ err, runId }, 'Slack update failed; retrying in 5 s');
      setTimeout(() => void render(runId), 5000).unref();
    } finally {
      q.running = false;
    }
  }
  engine.on((event) => {
    const q = queue.get(event.run.id) ?? { running: false, dirty: false, notes: [] };
    queue.set(event.run.id, q);
    if (['step_succeeded', 'step_failed', 'step_retrying', 'plan_changed', 'run_finished', 'task_confirmed'].includes(event.type)) q.notes.push(event);
    void render(event.run.id);
    if (isTerminal(event.run.status)) setTimeout(() => queue.delete(event.run.id), 60_000).unref();
  });

  return { app, directory };
}
