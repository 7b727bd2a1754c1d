import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { AuthorizationError } from '../bolt';
import type { Logger } from '../../engine';

/** Where seen signatures are kept: in this process, or in the table so every replica sees them. */
export interface ReplayGuard {
  /** True the first time a signature is seen; false for a replay. */
  firstTime(signature: string, expiresAtMs: number): Promise<boolean>;
}

/** Signatures seen by this process, each until it expires: asked in the ack, so without a promise. */
export function seenHere() {
  const seen = new Map<string, number>();
  return {
    /** True the first time a signature is seen (until `expiresAtMs`); false for a replay. */
    firstTime(signature: string, expiresAtMs: number): boolean {
      const now = Date.now();
      if ((seen.get(signature) ?? 0) > now) return false;
      if (seen.size > 50_000) for (const [k, until] of seen) if (until <= now) seen.delete(k);
      seen.set(signature, expiresAtMs);
      return true;
    },
  };
}
export type SeenHere = ReturnType<typeof seenHere>;

/** Signatures seen by this process only, as the shared guard (tests, the sandbox). */
export function memoryReplayGuard(): ReplayGuard {
  const here = seenHere();
  return { firstTime: async (signature, expiresAtMs) => here.firstTime(signature, expiresAtMs) };
}

const SIGNATURE = /^v0=([0-9a-f]{64})$/;
const WINDOW_MS = 5 * 60_000;

/**
 * Bolt checks the signature and that the timestamp is not older than 5 minutes. This refuses what
 * it lets through: a signature in any other form than `v0=` + 64 hex digits (Bolt ignores what
 * follows a second `=`), a timestamp more than 5 minutes in the future, and a valid request sent
 * again (a replay), keyed on the hash itself. Each refusal is a 401 and an audit line.
 *
 * A replay to this process is refused at once (its own memory). Whether another replica saw it is
 * a conditional write to the shared store, made only when the request's slow part is about to act
 * (`firstDelivery`): the ack never waits for it, a request answered in its ack alone (help, a
 * refusal) changes nothing and writes nothing, and a replay to another replica gets an ack and
 * changes nothing.
 */
export function refuseReplays(shared: ReplayGuard, logger: Logger): Middleware<AnyMiddlewareArgs> {
  const local = seenHere();
  return async ({ context, next }) => {
    const header = context.slackSignature as string | undefined;
    if (header === undefined) return next(); // Socket Mode (no HTTP signature), or checked already (Lambda)
    const reason = refusal(local, header, String(context.slackTimestamp ?? ''));
    if (reason) {
      logger.warn({ audit: 'request_refused', reason }, `request refused: ${reason}`);
      throw new AuthorizationError(`Request refused: ${reason}`, new Error(reason));
    }
    context.firstDelivery = sharedCheck(shared, header, logger);
    await next();
  };
}

/**
 * The shared replay check of one request (a signature already checked for form): asked at most
 * once, on the first call, and failing closed.
 */
export function sharedCheck(shared: ReplayGuard, signature: string, logger: Logger): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () =>
    (answer ??= shared.firstTime(SIGNATURE.exec(signature)?.[1] ?? signature, Date.now() + WINDOW_MS + 60_000).then(
      (first) => {
        if (!first)
          logger.warn(
            { audit: 'request_refused', reason: 'replayed request' },
            'request refused: replayed request (seen by another replica); nothing done',
          );
        return first;
      },
      (err: unknown) => {
        logger.error({ err }, 'could not check the request against replays; nothing done');
        return false; // fail closed
      },
    ));
}

/** Did the request pass the shared replay check? Awaited by every slow part before it acts. */
export const firstDelivery = (context: Record<string, unknown>): Promise<boolean> =>
  (context.firstDelivery as (() => Promise<boolean>) | undefined)?.() ?? Promise.resolve(true);

/** Why a request whose signature is valid is still refused (form, future timestamp, replay), if it is. */
export function refusal(seen: SeenHere, signature: string, timestamp: string): string | undefined {
  const hash = SIGNATURE.exec(signature)?.[1];
  if (!hash) return 'malformed signature';
  const ts = Number(timestamp) * 1000;
  if (!Number.isFinite(ts) || ts > Date.now() + WINDOW_MS) return 'timestamp in the future';
  if (!seen.firstTime(hash, Date.now() + WINDOW_MS + 60_000)) return 'replayed request';
  return undefined;
}

/**
 * Slack's signature headers, whatever case a proxy gave their names (API Gateway REST keeps it;
 * Node's HTTP server and Function URLs give them in lower case, found without a scan).
 */
export function signatureHeaders(headers: Record<string, string | string[] | undefined> = {}) {
  const get = (name: string) => {
    const found = headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
    return String((Array.isArray(found) ? found[0] : found) ?? '');
  };
  return { slackSignature: get('x-slack-signature'), slackTimestamp: get('x-slack-request-timestamp') };
}
