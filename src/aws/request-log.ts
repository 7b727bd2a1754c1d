/** One AWS request as the audit trail keeps it. */
export interface AwsRequestRecord {
  /** e.g. "KMS.CreateKey" */
  action: string;
  region: string;
  requestId?: string;
  /** The error name, for a request that failed (after the SDK's own retries). */
  error?: string;
}

interface Command {
  middlewareStack: { add(mw: unknown, opts: { step: string; name: string; priority?: string; override: true }): void };
}
type Output = { output: { $metadata?: { requestId?: string } } };
type Sendable = { send(command: Command, ...rest: unknown[]): Promise<unknown> };

/**
 * The per-Region client factories given, with every request their clients send recorded in `log`
 * (action, Region, request id) and, with a `runId`, `idc-run/<runId>` on its User-Agent, which
 * CloudTrail records (userAgent): a CloudTrail event leads back to its workflow. The clients are
 * the shared ones; what records is each command's own middleware, so nothing is kept per process
 * (an AsyncLocalStorage would cost every promise of the process a hook on Node 20 and 22).
 */
export function recordingClients<T extends object>(clients: T, log: AwsRequestRecord[], runId?: string): T {
  const recorded = (client: Sendable, region: string): Sendable =>
    new Proxy(client, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'send') return value;
        return (command: Command, ...rest: unknown[]) => {
          record(command, region, log, runId);
          return (value as Sendable['send']).call(receiver, command, ...rest);
        };
      },
    });
  return Object.fromEntries(
    Object.entries(clients).map(([name, make]) => [
      name,
      typeof make === 'function' ? (region: string) => recorded(make(region) as Sendable, region) : make,
    ]),
  ) as T;
}

/** Adds the request's record and the run's User-Agent mark to one command. */
function record(command: Command, region: string, log: AwsRequestRecord[], runId?: string): void {
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<Output>, context: { clientName?: string; commandName?: string }) =>
      async (args: unknown) => {
        const action = `${(context.clientName ?? '').replace(/Client$/, '')}.${(context.commandName ?? '').replace(/Command$/, '')}`;
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
    { step: 'initialize', name: 'idcRequestLog', override: true },
  );
  if (!runId) return;
  command.middlewareStack.add(
    (next: (args: { request?: { headers?: Record<string, string> } }) => Promise<unknown>) =>
      async (args: { request?: { headers?: Record<string, string> } }) => {
        const headers = args.request?.headers;
        if (headers) headers['user-agent'] = `${headers['user-agent'] ?? ''} idc-run/${runId}`.trim();
        return next(args);
      },
    { step: 'build', priority: 'low', name: 'idcRunUserAgent', override: true },
  );
}
