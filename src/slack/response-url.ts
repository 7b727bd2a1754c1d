import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Kept-alive connections: each answer reuses the connection of the one before (idle ones do not hold the process). */
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/**
 * Posts a JSON message to a command's response_url and resolves with the HTTP status. node:http
 * rather than fetch: on Node 20 fetch costs several times the CPU per request, and every slow
 * command ends with one of these (docs/BENCHMARKS.md, ack latency).
 */
export function postToResponseUrl(url: string, message: unknown, timeoutMs = 10_000): Promise<number> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!send) return Promise.reject(new Error(`response_url is not an http(s) URL: ${target.protocol}`));
  const body = JSON.stringify(message);
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as keyof typeof agents],
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume(); // Slack answers "ok"; nothing to read
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`response_url did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
