import pino from 'pino';

/**
 * The bot's one logger (production, Lambda, the default of createBot): JSON lines, secrets
 * redacted by field name and, as values, anywhere in a message or an error.
 */
export function createLogger(
  level: string,
  secrets: readonly string[] = [],
  destination?: pino.DestinationStream,
): pino.Logger {
  const scrub = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join('[secret]') : t), text);
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        'token',
        'signingSecret',
        'appToken',
        '*.token',
        '*.signingSecret',
        '*.appToken',
        'headers.authorization',
        '*.headers.authorization',
      ],
      censor: '[secret]',
    },
    serializers: {
      err: (err: unknown) => {
        const e = pino.stdSerializers.err(err as Error);
        return { ...e, message: scrub(String(e.message ?? '')), stack: scrub(String(e.stack ?? '')) };
      },
    },
    hooks: {
      logMethod(args, method) {
        const clean = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>;
        return method.apply(this, clean);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
