import type { Logger as BoltLogger } from '@slack/bolt';
import { LogLevel } from './bolt';
import type { Logger } from '../engine';

/** Bolt's own messages, into the bot's structured log (its level applies; errors keep only their message). */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const text = (parts: unknown[]) =>
    parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
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

/** A logger that drops everything (when the caller gives none). */
export const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
