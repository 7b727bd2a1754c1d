import { AsyncLocalStorage } from 'node:async_hooks';

/** One AWS request as the audit trail keeps it. */
export interface AwsRequestRecord {
  /** e.g. "KMS.CreateKey" */
  action: string;
  region: string;
  requestId?: string;
  /** The error name, for a request that failed (after the SDK's own retries). */
  error?: string;
}

const current = new AsyncLocalStorage<{ requests: AwsRequestRecord[]; runId?: string }>();

/**
 * Runs `fn` and collects every AWS request made inside it (across awaits). With a `runId`, each
 * request's User-Agent also carries `idc-run/<runId>`, which CloudTrail records (userAgent), so a
 * CloudTrail event leads back to its workflow.
 */
export async function collectAwsRequests<T>(
  fn: () => Promise<T>,
  runId?: string,
): Promise<{ value: T; requests: AwsRequestRecord[] }> {
  const requests: AwsRequestRecord[] = [];
  try {
    return { value: await current.run({ requests, runId }, fn), requests };
  } catch (err) {
    if (err && typeof err === 'object') Object.assign(err, { audit: { awsRequests: requests } });
    throw err;
  }
}

interface MiddlewareTarget {
  middlewareStack: { add(mw: unknown, opts: { step: 'initialize'; name: string }): void };
  config: { region: string | (() => Promise<string>) };
}

/** Adds the request log to an SDK client: each call's request id lands in the collecting step. */
export function logRequests<C>(client: C): C {
  const c = client as unknown as MiddlewareTarget;
  c.middlewareStack.add(
    (
      next: (args: unknown) => Promise<{ output: { $metadata?: { requestId?: string } } }>,
      context: { clientName?: string; commandName?: string },
    ) =>
      async (args: unknown) => {
        const log = current.getStore()?.requests;
        if (!log) return next(args);
        const action = `${(context.clientName ?? '').replace(/Client$/, '')}.${(context.commandName ?? '').replace(/Command$/, '')}`;
        const region = typeof c.config.region === 'function' ? await c.config.region() : c.config.region;
        try {
          const out = await next(args);
          log.push({ action, region, requestId: out.output.$metadata?.requestId });
          return out;
        } catch (err) {
          const e = err as { name?: string; $metadata?: { requestId?: string } };
          log.push({ action, region, requestId: e.$metadata?.requestId, error: e.name });
          throw err;
        }
      },
    { step: 'initialize', name: 'idcRequestLog' },
  );
  c.middlewareStack.add(
    (next: (args: { request?: { headers?: Record<string, string> } }) => Promise<unknown>) =>
      async (args: { request?: { headers?: Record<string, string> } }) => {
        const runId = current.getStore()?.runId;
        const headers = args.request?.headers;
        if (runId && headers) headers['user-agent'] = `${headers['user-agent'] ?? ''} idc-run/${runId}`.trim();
        return next(args);
      },
    { step: 'build', priority: 'low', name: 'idcRunUserAgent' } as never,
  );
  return client;
}
