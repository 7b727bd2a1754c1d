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

const current = new AsyncLocalStorage<AwsRequestRecord[]>();

/** Runs `fn` and collects every AWS request made inside it (across awaits). */
export async function collectAwsRequests<T>(fn: () => Promise<T>): Promise<{ value: T; requests: AwsRequestRecord[] }> {
  const requests: AwsRequestRecord[] = [];
  try {
    return { value: await current.run(requests, fn), requests };
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
        const log = current.getStore();
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
  return client;
}
