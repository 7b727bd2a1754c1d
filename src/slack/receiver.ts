import { HTTPReceiver, type Logger as BoltLogger } from '@slack/bolt';
import { signatureHeaders } from './middleware/replay';

/** Bolt's HTTP receiver, with the request signature passed on to the middleware (replay check). */
export function httpReceiver(signingSecret: string, logger?: BoltLogger): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret,
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
