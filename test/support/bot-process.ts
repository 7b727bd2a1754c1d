import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../dev/dynamo-local';

const ROOT = join(__dirname, '../..');
let built: string | undefined;

/** Compiles the bot once (to dist-test/) so tests can run it as a real process. */
export function buildBot(): string {
  if (!built) {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', 'dist-test'],
      { cwd: ROOT, stdio: 'inherit' },
    );
    built = join(ROOT, 'dist-test/src/main.js');
  }
  return built;
}

/** Bot processes not yet stopped (tests kill leftovers in afterAll). */
export const running: BotProcess[] = [];

/** Everything every bot process printed, for the secrets scan. */
export const captured: string[] = [];

export interface BotProcess {
  url: string;
  proc: ChildProcess;
  /** SIGKILL: no shutdown, no flush, like a crash. */
  kill(): Promise<void>;
  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void>;
}

/**
 * A production install, as a VM or the container gets it: package.json and its lock, `npm ci
 * --omit=dev` (from npm's cache), the built `dist/` and `workflows/`. Returns its directory.
 */
export function productionTree(dir: string): string {
  buildBot();
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(dir, f));
  cpSync(join(ROOT, 'dist-test/src'), join(dir, 'dist/src'), { recursive: true });
  cpSync(join(ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'ignore',
  });
  return dir;
}

/** Starts `node dist-test/src/main.js` (or `main` in `cwd`) with `env` and waits until it serves. */
export async function startBotProcess(
  env: Record<string, string>,
  at: { main?: string; cwd?: string } = {},
): Promise<BotProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--enable-source-maps', at.main ?? buildBot()], {
    cwd: at.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const index = captured.push('') - 1;
  const onData = (d: Buffer) => {
    out += d.toString();
    captured[index] = out;
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot did not start within 20 s:\n${out}`)), 20_000);
    const check = () => {
      if (/listening on \/slack\/events/.test(out)) {
        clearTimeout(timer);
        proc.stdout?.off('data', check);
        resolve();
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited with ${code}:\n${out}`));
    });
  });
  proc.removeAllListeners('exit');
  const ended = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const bot: BotProcess = {
    url: `http://127.0.0.1:${port}/slack/events`,
    proc,
    kill: async () => {
      proc.kill('SIGKILL');
      await ended;
    },
    stop: async () => {
      proc.kill('SIGTERM');
      await ended;
    },
  };
  running.push(bot);
  void ended.then(() => running.splice(running.indexOf(bot), 1));
  return bot;
}
