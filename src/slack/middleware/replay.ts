import { AuthorizationError, type Middleware, type AnyMiddlewareArgs } from '@slack/bolt';

/**
 * Bolt checks the signature and its 5-minute window; this refuses a valid request sent again (a
 * replay) within that window. The signature comes from the receiver (customPropertiesExtractor).
 */
export function refuseReplays(): Middleware<AnyMiddlewareArgs> {
  const seen = new Map<string, number>();
  return async ({ context, next }) => {
    const signature = context.slackSignature as string | undefined;
    if (signature) {
      const now = Date.now();
      if ((seen.get(signature) ?? 0) > now)
        throw new AuthorizationError(
          'A request with this signature was already received (replay)',
          new Error('replayed request'),
        );
      if (seen.size > 50_000) for (const [k, until] of seen) if (until <= now) seen.delete(k);
      seen.set(signature, now + 6 * 60_000);
    }
    await next();
  };
}
