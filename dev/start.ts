import pino from 'pino';
import { loadConfig } from '../src/config';
import { main } from '../src/main';
import { startSandbox } from './sandbox';

/**
 * `npm start`: with SLACK_BOT_TOKEN set, the production bot (exactly `node dist/src/main.js`);
 * without it, the local sandbox (DynamoDB Local, the emulators, the real bot and the page).
 */
async function start(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (config.mode === 'production') return main();
  // A terminal gets one readable line per event; anything else (a pipe, a file) gets JSON lines.
  const log = process.stdout.isTTY
    ? pino({
        level: config.LOG_LEVEL,
        transport: {
          target: 'pino-pretty',
          options: { singleLine: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
        },
      })
    : pino({ level: config.LOG_LEVEL });
  log.info(`Starting in ${config.mode} mode: ${config.modeReason}`);
  try {
    const sandbox = await startSandbox(config, log);
    process.stdout.write(
      `\nSandbox ready: open ${sandbox.url}\n(Ctrl-C stops everything, DynamoDB Local included.)\n\n`,
    );
    const shutdown = () => void sandbox.stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } catch (err) {
    log.error(`Sandbox failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}

void start();
