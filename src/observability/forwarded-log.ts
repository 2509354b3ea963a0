import type { Logger } from './logger.js';

/** pino's numeric levels (the default set) by the method that writes them. */
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};

/**
 * Writes a log line that another thread produced (a pino JSON line) with this logger, so that
 * every line of the daemon goes to one destination with one set of redactions. The other
 * thread's time, pid and hostname are dropped (this logger adds its own); a line that is not
 * JSON is written as the message of a warning.
 */
export function relogLine(logger: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.warn({ line: line.slice(0, 500) }, 'unreadable log line from a worker');
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = rec;
  const method = LEVELS[typeof level === 'number' ? level : 30] ?? 'info';
  logger[method](fields, typeof msg === 'string' ? msg : '');
}
