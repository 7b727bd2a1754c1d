import type { webApi } from '@slack/bolt';
import type { Directory } from '../engine';

/**
 * Roles from the configuration: Slack user IDs, user groups (S…, resolved with usergroups.users.list)
 * or "*". Deactivated and guest accounts (users.info) never hold a role. Answers are cached a minute.
 */
/** Roles, and who is a full member of the workspace (not a guest, bot or deactivated account). */
export interface SlackDirectory extends Directory {
  isFullMember(user: string): Promise<boolean>;
}

export function createSlackDirectory(
  roles: Record<string, string[]> | ((scope: string | undefined) => Record<string, string[]>),
  client: webApi.WebClient,
): SlackDirectory {
  /** The roles of a run's scope (its instance: each may name its own people). */
  const rolesOf = typeof roles === 'function' ? roles : () => roles;
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
    async isInRole(user, names, scope) {
      const table = rolesOf(scope);
      for (const name of names) for (const m of table[name] ?? []) if (await member(user, m)) return fullMember(user);
      return false;
    },
  };
}
