import type { CustomRoute, Logger as BoltLogger } from '@slack/bolt';
import { HTTPReceiver } from './bolt';
import { signatureHeaders } from './middleware/replay';

/** Bolt's HTTP receiver, with the request signature passed on to the middleware (replay check). */
export function httpReceiver(
  signingSecret: string,
  logger?: BoltLogger,
  customRoutes: CustomRoute[] = [],
): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret,
    customRoutes,
    ...(logger ? { logger } : {}),
    customPropertiesExtractor: (req) => signatureHeaders(req.headers),
    // Every listener here acks at once; a request nothing acked (Bolt could not read it) gets a 400, well inside Slack's 3 s.
    unhandledRequestTimeoutMillis: 1500,
    unhandledRequestHandler: ({ logger, response }) => {
      logger.warn('A request that no listener handled got 400 (malformed or not for this app)');
      response.writeHead(400);
      response.end();
    },
  });
}

/**
 * `GET /healthz` for load balancers and container health checks: 200 while the bot serves, 503 once
 * it is stopping or its table failed (HTTP on PORT; with Socket Mode, Bolt serves it on the same port).
 */
export function healthRoute(check: () => { ok: boolean; [k: string]: unknown }): CustomRoute {
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      const state = check();
      res.writeHead(state.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state));
    },
  };
}
