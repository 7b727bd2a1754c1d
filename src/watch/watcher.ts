import type { HealthSnapshot } from '../health';
import { nextState, type WatchState } from './findings';

/** Versioned key-value state (src/store implements it on DynamoDB with conditional writes). */
export interface StateStore {
  get<T>(name: string): Promise<{ value: T; version: number } | undefined>;
  /** Writes when the stored version is still `version` (undefined: when nothing is stored yet). */
  put<T>(name: string, value: T, version: number | undefined): Promise<boolean>;
}

export interface WatcherOptions {
  /** State key; one per instance. */
  name: string;
  homeRegion: string;
  read(): Promise<HealthSnapshot>;
  store: StateStore;
  /** Posts one message to the notifications channel. */
  notify(text: string): Promise<void>;
  now?: () => number;
  /** Clock milliseconds per real millisecond (the sandbox's fast clock); default 1. */
  speed?: () => number;
  intervalMs: number;
  stuckAfterMs: number;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * The replication watcher. Each check reads AWS, compares with the state stored in DynamoDB, and
 * queues one message per change (an alert when a condition appears, one when it clears, one per
 * event). A conditional write decides which process's check counts, and each queued message is
 * claimed (removed from the queue) before it is sent, so restarts and several processes never send
 * an alert twice.
 */
export function createWatcher(o: WatcherOptions) {
  const now = o.now ?? Date.now;
  let loop: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;
  /** The newest state this process has seen, and when (wall clock), for cheap repeated /idc status. */
  let seen: { state: WatchState; at: number } | undefined;

  /** Sends what is queued; `first` is the state just read or written (spares reading it again). */
  async function deliver(first?: { value: WatchState; version: number }): Promise<number> {
    let sent = 0;
    for (let known = first; ; known = undefined) {
      const cur = known ?? (await o.store.get<WatchState>(o.name));
      const text = cur?.value.outbox[0];
      if (!cur || text === undefined) return sent;
      // Claim the message first: whoever removes it from the queue is the one who sends it.
      if (!(await o.store.put(o.name, { ...cur.value, outbox: cur.value.outbox.slice(1) }, cur.version))) continue;
      try {
        await o.notify(text);
        sent++;
      } catch (err) {
        o.logger?.warn({ err }, 'watch notification failed; it stays queued');
        for (;;) {
          const again = await o.store.get<WatchState>(o.name);
          if (
            !again ||
            (await o.store.put(o.name, { ...again.value, outbox: [text, ...again.value.outbox] }, again.version))
          )
            break;
        }
        return sent;
      }
    }
  }

  /** Checks now (`force`) or when the last check is older than the interval; then sends what is queued. */
  async function check(force = false): Promise<{ state: WatchState; checked: boolean; sent: number }> {
    const cur = await o.store.get<WatchState>(o.name);
    // With the watcher off (interval 0), /idc status still reuses a check younger than a minute.
    const freshFor = o.intervalMs > 0 ? o.intervalMs : 60_000;
    if (!force && cur && now() - cur.value.lastCheck < freshFor)
      return remember({ state: cur.value, checked: false, sent: await deliver(cur) });
    let result: { snapshot: HealthSnapshot } | { error: string; homeRegion: string };
    try {
      result = { snapshot: await o.read() };
    } catch (err) {
      result = {
        error: ((err as Error).message ?? String(err)).split('. What to do')[0] as string,
        homeRegion: o.homeRegion,
      };
    }
    const state = nextState(cur?.value, result, now(), o.stuckAfterMs);
    if (!(await o.store.put(o.name, state, cur?.version))) {
      // Another process stored its check meanwhile: that one counts.
      const other = await o.store.get<WatchState>(o.name);
      return remember({ state: other?.value ?? state, checked: false, sent: await deliver(other) });
    }
    // Each finding and recovery this check decided, one log line each (the messages follow in Slack).
    for (const text of state.outbox.slice(cur?.value.outbox.length ?? 0))
      o.logger?.info({ event: 'watch_finding', watcher: o.name }, text);
    return remember({ state, checked: true, sent: await deliver({ value: state, version: (cur?.version ?? 0) + 1 }) });
  }

  function remember<T extends { state: WatchState }>(r: T): T {
    seen = { state: r.state, at: Date.now() };
    return r;
  }

  /** The check in flight for /idc status, which everyone asking meanwhile shares. */
  let asked: ReturnType<typeof check> | undefined;
  const shared = () => (asked ??= check().finally(() => (asked = undefined)));

  return {
    check,
    /** This process's last view, if younger than `maxAgeMs` (no I/O). */
    cached(maxAgeMs = 10_000): WatchState | undefined {
      return seen && Date.now() - seen.at < maxAgeMs ? seen.state : undefined;
    },
    /**
     * This process's last view, if younger than `maxAgeMs`, for an answer without I/O (it says when
     * AWS was last checked); once it is older than `refreshAfterMs`, one check starts in the
     * background, so that people asking now and then get an answer at once, and a fresh one.
     */
    fresh(maxAgeMs = 60_000, refreshAfterMs = 5_000): WatchState | undefined {
      const state = this.cached(maxAgeMs);
      if (state && !asked && !this.cached(refreshAfterMs))
        shared().catch((err: unknown) => o.logger?.warn({ err }, 'status refresh failed'));
      return state;
    },
    /**
     * The picture for /idc status: this process's last view if younger than `maxAgeMs`, else a check,
     * one at a time: fifty people asking at once cost one read of the table and of AWS, not fifty.
     */
    async current(maxAgeMs = 10_000): Promise<WatchState> {
      return this.cached(maxAgeMs) ?? (await shared()).state;
    },
    /** The last stored state, without reading AWS. */
    async last(): Promise<WatchState | undefined> {
      return (await o.store.get<WatchState>(o.name))?.value;
    },
    /**
     * Checks at once, then looks again when the next check is due (the last one, by any process,
     * plus the interval), or after `pollMs` while messages wait to be delivered: an idle process
     * reads its state once per interval, not once per `pollMs`.
     */
    start(pollMs = 10_000): void {
      if (!stopped || o.intervalMs <= 0) return;
      stopped = false;
      const look = () => {
        running = check()
          .then(
            ({ state }) =>
              state.outbox.length
                ? pollMs
                : Math.max(pollMs, (state.lastCheck + o.intervalMs - now()) / (o.speed?.() ?? 1) + 1_000),
            (err) => (o.logger?.warn({ err }, 'watch check failed'), pollMs),
          )
          .then((delay) => {
            running = undefined;
            if (stopped) return;
            loop = setTimeout(look, delay);
            loop.unref();
          });
      };
      loop = setTimeout(look, 0);
      loop.unref();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (loop) clearTimeout(loop);
      loop = undefined;
      await running;
    },
  };
}

export type Watcher = ReturnType<typeof createWatcher>;
