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
   * `isInRole(user, [role])`, or `isFullMember(user)` without a role, from what is cached alone (no
   * I/O): undefined when an answer it needs is missing or a minute old.
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
  const peek = <T>(key: string): T | undefined => {
    const hit = cache.get(key);
    return hit && Date.now() - hit.at < 60_000 ? (hit.value as T) : undefined;
  };
  const cached = async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = peek<T>(key);
    if (hit !== undefined) return hit;
    const value = await load();
    cache.set(key, { value, at: Date.now() });
    return value;
  };
  const member = async (user: string, m: string): Promise<boolean> => {
    if (m === '*' || m === user) return true;
    if (!m.startsWith('S')) return false;
    const users = await cached(
      `group/${m}`,
      async () => new Set((await client.usergroups.users.list({ usergroup: m })).users ?? []),
    );
    return users.has(user);
  };
  const fullMember = (user: string) =>
    cached(`user/${user}`, async () => {
      const u = await client.users
        .info({ user })
        .then((r) => r.user)
        .catch((err: { data?: { error?: string } }) => {
          if (err.data?.error === 'user_not_found') return undefined; // someone who has left the workspace holds no role
          throw err;
        });
      return Boolean(u && !u.deleted && !u.is_bot && !u.is_restricted && !u.is_ultra_restricted);
    });
  return {
    isFullMember: fullMember,
    knownViewer(user, role, scope) {
      if (role === undefined) return peek<boolean>(`user/${user}`);
      for (const m of rolesOf(scope)[role] ?? []) {
        const group = m.startsWith('S') ? peek<Set<string>>(`group/${m}`) : undefined;
        if (m.startsWith('S') && !group) return undefined;
        if (m === '*' || m === user || group?.has(user)) return peek<boolean>(`user/${user}`);
      }
      return false;
    },
    async isInRole(user, names, scope) {
      const table = rolesOf(scope);
      for (const name of names) for (const m of table[name] ?? []) if (await member(user, m)) return fullMember(user);
      return false;
    },
  };
}
