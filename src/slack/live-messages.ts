import type { webApi } from '@slack/bolt';
import { isTerminal, type Engine, type EngineEvent, type Logger, type Run } from '../engine';
import { buildRunMessage, esc } from './blocks';
import type { Fleet } from './fleet';
import type { SlackSettings } from './settings';

/** Why Slack refused a post because of the channel (the bot is not in it, or cannot see it), if it did. */
export function outsideChannel(err: unknown): 'not_in_channel' | 'channel_not_found' | undefined {
  const code = (err as { data?: { error?: string } })?.data?.error;
  return code === 'not_in_channel' || code === 'channel_not_found' ? code : undefined;
}

/**
 * Live messages: one per run, rendered from the newest run the engine reported, so a Slack outage
 * only delays them. Changes that arrive within `coalesceMs` become one update; an update identical
 * to the last one is not sent; thread notes since the last update go out as one reply.
 */
export function createLiveMessages(
  s: SlackSettings,
  engine: Engine,
  client: webApi.WebClient,
  logger: Logger,
  fleet?: Fleet,
) {
  /** The settings of the run's instance (its roles, channels). */
  const of = (run: Run): SlackSettings => fleet?.of(run.scope)?.settings ?? s;
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

  const told = new Set<string>();
  /** Logs once per channel that the bot cannot post there, and what to do. */
  function notInChannel(channel: string, why: string): void {
    if (told.has(channel)) return;
    told.add(channel);
    logger.error(
      { channel, slackError: why },
      why === 'not_in_channel'
        ? `The bot is not a member of channel ${channel}: invite it there (/invite @idc-bot in that channel); messages wait until then`
        : `Channel ${channel} does not exist or the bot cannot see it: check IDC_CHANNEL / IDC_NOTIFY_CHANNEL (a channel ID such as C0123ABCD, from the channel's details), and invite the bot if it is private`,
    );
  }

  /** The approvers of the event's gate who have not decided, never the requester. */
  function undecided(e: EngineEvent): string[] {
    const st = e.stepId ? e.run.steps[e.stepId] : undefined;
    const gate = e.run.definition.steps.find((x) => x.id === e.stepId) as
      { approval?: { approvers: string[] } } | undefined;
    const decided = new Set((st?.decisions ?? []).map((d) => d.user));
    return [
      ...new Set(
        (gate?.approval?.approvers ?? [])
          .flatMap((r) => of(e.run).roles[r] ?? [])
          .filter((m) => m !== '*' && m !== e.run.requester && !decided.has(m)),
      ),
    ];
  }

  /** With IDC_NOTIFY_APPROVERS=dm, each approver (a person, not a group) also gets a direct message. */
  function directMessages(e: EngineEvent): void {
    if (s.notifyApprovers !== 'dm' || e.type !== 'approval_requested') return;
    const where = e.run.meta.ts ? ` in <#${String(e.run.meta.channel ?? of(e.run).channel)}>` : '';
    for (const user of undecided(e).filter((m) => !m.startsWith('S')))
      void client.chat
        .postMessage({
          channel: user,
          text: `🔔 Your approval is asked${where}: ${esc(e.run.definition.title)}${typeof e.run.input.region === 'string' ? ` (${esc(e.run.input.region)})` : ''}, workflow \`${e.run.id}\`, requested by <@${e.run.requester}>.`,
        })
        .catch((err: unknown) => logger.warn({ err, user }, 'approver DM failed'));
  }

  /** A step's `announcement` (notify.announce) goes to the notifications channel, for everyone. */
  function announce(e: EngineEvent): void {
    const out = e.type === 'step_succeeded' && e.stepId ? e.run.steps[e.stepId]?.output : undefined;
    const text = (out as { announcement?: unknown } | undefined)?.announcement;
    if (typeof text !== 'string') return;
    void client.chat
      .postMessage({
        channel: of(e.run).notifyChannel ?? of(e.run).channel,
        text: `${esc(text)}\n_(workflow \`${e.run.id}\`)_`,
      })
      .catch((err: unknown) => logger.warn({ err, runId: e.run.id }, 'announcement failed'));
  }

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
      case 'approval_requested':
      case 'approval_reminder': {
        // Ask the approvers who have not decided yet (users and user groups from the roles).
        const who = undecided(e);
        const icon = e.type === 'approval_requested' ? '🔔' : '⏰';
        return `${icon} ${esc(e.message)}${who.length ? ` ${who.map((m) => (m.startsWith('S') ? `<!subteam^${m}>` : `<@${m}>`)).join(' ')}` : ''}`;
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
        const channel = String(run.meta.channel ?? of(run).channel);
        let ts = run.meta.ts as string | undefined;
        const body = JSON.stringify(msg);
        if (!ts) {
          const out = await client.chat.postMessage({ channel, ...msg });
          ts = out.ts as string;
          const meta = { channel: out.channel ?? channel, ts };
          const stored = await engine.setMeta(run.id, meta);
          if (stored && q.run.version <= stored.version) q.run = stored;
        } else if (body !== q.sent) {
          await client.chat.update({ channel, ts, ...msg });
        }
        q.sent = body;
        const notes = q.notes.splice(0);
        for (let i = 0; i < notes.length;) {
          let text = '';
          while (i < notes.length && (text.length + (notes[i] as string).length < 3500 || !text))
            text += `${text ? '\n' : ''}${notes[i++]}`;
          await client.chat.postMessage({ channel, thread_ts: ts, text });
        }
        if (isTerminal(run.status) && s.notifyChannel && notes.some((n) => n.startsWith(`<@${run.requester}>`))) {
          await client.chat.postMessage({
            channel: s.notifyChannel,
            text: `${esc(run.definition.title)} \`${run.id}\`: ${run.status}`,
          });
        }
      } while (q.dirty);
    } catch (err) {
      // Not in the channel: say once how to fix it (the retries succeed once someone invites the bot).
      const outside = outsideChannel(err);
      const retryMs = s.retryMs ?? 5000;
      if (outside) notInChannel(String(q.run.meta.channel ?? of(q.run).channel), outside);
      else logger.warn({ err, runId }, `Slack update failed; retrying in ${retryMs} ms`);
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
    // A message waiting for Slack never holds the process open by itself: a server does, and
    // Lambda waits with flush(). (Slack gone for good otherwise keeps a stopped app alive, retrying.)
    q.timer.unref();
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
    directMessages(event);
    announce(event);
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

  /**
   * Waits until the live messages are posted (Lambda must not freeze before that), for at most
   * `deadlineMs`: Slack rate-limiting or down must not hold a shutdown for ever. What is left is not
   * lost: the next start (catchUp) brings the messages up to date from the table. True when all went.
   */
  const flush = async (deadlineMs = 20_000): Promise<boolean> => {
    const until = Date.now() + deadlineMs;
    while (rendering.size && Date.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...rendering]),
        new Promise((r) => (timer = setTimeout(r, until - Date.now()))),
      ]);
      clearTimeout(timer);
    }
    if (rendering.size)
      logger.warn(
        { pending: rendering.size },
        `${rendering.size} live message update(s) not posted in ${deadlineMs} ms; the next start brings them up to date`,
      );
    return rendering.size === 0;
  };

  return { flush, catchUp };
}
