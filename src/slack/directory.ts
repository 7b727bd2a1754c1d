import type { webApi } from '@slack/bolt';
import type { Directory } from '../engine';

/**
 * Roles from the configuration: Slack user IDs, user groups (S…, resolved with usergroups.users.list)
 * or "*". Deactivated and guest accounts (users.info) never hold a role. Answers are cached a minute.
 */
/** Roles, and who is a full member of the workspace (not a guest, bot or deactivated account). */
export interface SlackDirectory extends Directory {
  isFullMember(user: string): Promise<boolean>;
  /**
   * `isInRole(user, [role])`, or `isFullMember(user)` without a role, from what is cached alone:
   * undefined when an answer it needs is missing or a minute old. Who the person is gets read again
   * in the background once that is 45 s old or missing, so that people who keep asking stay known.
   */
  knownViewer(user: string, role: string | undefined, scope?: string): boolean | undefined;
}

export function createSlackDirectory(
  roles: Record<string, string[]> | ((scope: string | undefined) => Record<string, string[]>),
  client: webApi.WebClient,
): SlackDirectory {
  /** The roles of a run's scope (its instance: each may name its own people). */
  const rolesOf = typeof roles === 'function' ? roles : () => roles;
  const cache = new Map<string, { value: unknown; at: number }>();
  const MAX_AGE_MS = 60_000;
  /** Entries older than this are read again behind an answer given from them (knownViewer). */
  const REFRESH_AFTER_MS = 45_000;
  const ageOf = (key: string) => Date.now() - (cache.get(key)?.at ?? -Infinity);
  const peek = <T>(key: string): T | undefined =>
    ageOf(key) < MAX_AGE_MS ? (cache.get(key)?.value as T | undefined) : undefined;
  /** Loads in flight, shared: a refresh behind an answer and a slow part asking at once make one call. */
  const loading = new Map<string, Promise<unknown>>();
  const cached = async <T>(key: string, load: () => Promise<T>, maxAgeMs = MAX_AGE_MS): Promise<T> => {
    if (ageOf(key) < maxAgeMs) return cache.get(key)?.value as T;
    let pending = loading.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = load()
        .then((value) => (cache.set(key, { value, at: Date.now() }), value))
        .finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  };
  const member = async (user: string, m: string, maxAgeMs?: number): Promise<boolean> => {
    if (m === '*' || m === user) return true;
    if (!m.startsWith('S')) return false;
    const users = await cached(
      `group/${m}`,
      async () => new Set((await client.usergroups.users.list({ usergroup: m })).users ?? []),
      maxAgeMs,
    );
    return users.has(user);
  };
  const fullMember = (user: string, maxAgeMs?: number) =>
    cached(
      `user/${user}`,
      async () => {
        const u = await client.users
          .info({ user })
          .then((r) => r.user)
          .catch((err: { data?: { error?: string } }) => {
            if (err.data?.error === 'user_not_found') return undefined; // someone who has left the workspace holds no role
            throw err;
          });
        return Boolean(u && !u.deleted && !u.is_bot && !u.is_restricted && !u.is_ultra_restricted);
      },
      maxAgeMs,
    );
  const inRole = async (user: string, names: readonly string[], scope?: string, maxAgeMs?: number) => {
    const table = rolesOf(scope);
    for (const name of names)
      for (const m of table[name] ?? []) if (await member(user, m, maxAgeMs)) return fullMember(user, maxAgeMs);
    return false;
  };
  /** Reads who the person is again, in the background, once the cached answer is getting old or missing. */
  const refreshing = new Set<string>();
  const refresh = (user: string, role: string | undefined, scope: string | undefined) => {
    const key = `${user}|${role ?? ''}|${scope ?? ''}`;
    if (refreshing.has(key) || ageOf(`user/${user}`) < REFRESH_AFTER_MS) return;
    refreshing.add(key);
    (role === undefined ? fullMember(user, REFRESH_AFTER_MS) : inRole(user, [role], scope, REFRESH_AFTER_MS))
      .catch(() => undefined) // the slow path asks again and says what failed
      .finally(() => refreshing.delete(key));
  };
  return {
    isFullMember: fullMember,
    knownViewer(user, role, scope) {
      refresh(user, role, scope);
      if (role === undefined) return peek<boolean>(`user/${user}`);
      for (const m of rolesOf(scope)[role] ?? []) {
        const group = m.startsWith('S') ? peek<Set<string>>(`group/${m}`) : undefined;
        if (m.startsWith('S') && !group) return undefined;
        if (m === '*' || m === user || group?.has(user)) return peek<boolean>(`user/${user}`);
      }
      return false;
    },
    isInRole: (user, names, scope) => inRole(user, names, scope),
  };
}
