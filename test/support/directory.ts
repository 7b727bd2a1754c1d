import type { Directory } from '../../src/engine';

/** Roles from a plain map, as the configuration would give them. */
export function staticDirectory(roles: Record<string, string[]>): Directory {
  return { isInRole: async (user, names) => names.some((n) => roles[n]?.includes(user) || roles[n]?.includes('*')) };
}
