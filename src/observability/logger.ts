import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Fields that are always removed from log lines (secrets), and fields that hold personal data
 * (phone numbers, DTMF digits), removed when `redactPersonalData` is on.
 */
export const SECRET_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'authToken', '*.authToken',
  'authorization', '*.authorization', 'headers.authorization', 'headers.Authorization',
];
export const PERSONAL_PATHS = ['from', 'to', 'caller', 'callee', 'digits', 'digit', '*.from', '*.to', 'did'];

export interface LoggerOptions {
  level?: string;
  redactPersonalData?: boolean;
  /** More paths to censor (e.g. the secret keys of a logged configuration). */
  extraRedactPaths?: readonly string[];
  /** Where lines go; default stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

/** Creates the daemon's root logger. Secrets are always censored; personal data when asked. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const paths = [...SECRET_PATHS, ...(opts.redactPersonalData ? PERSONAL_PATHS : []), ...(opts.extraRedactPaths ?? [])];
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'fsbridge' },
      redact: { paths, censor: '[redacted]' },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
