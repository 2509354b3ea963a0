import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { BotCommand } from './adapter.js';

/**
 * Logs and counts the `error` / `ignored` commands an adapter returns, for one call. Every one is
 * counted (`metrics.error(code)`); the first of each code is logged (warn for errors, debug for
 * ignored), later ones only counted, so a bot sending 50 bad frames a second cannot flood the log.
 */
export class BotInputReporter {
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger, private readonly metrics: MetricsRegistry) {}

  /** Returns true when `cmd` was an error or ignored command (and has been reported). */
  report(cmd: BotCommand): boolean {
    if (cmd.kind !== 'error' && cmd.kind !== 'ignored') return false;
    this.metrics.error(cmd.code);
    if (!this.logged.has(cmd.code)) {
      this.logged.add(cmd.code);
      const fields = cmd.kind === 'error' ? { code: cmd.code, detail: cmd.detail } : { code: cmd.code };
      if (cmd.kind === 'error') this.logger.warn(fields, 'bad message from bot dropped');
      else this.logger.debug(fields, 'bot message ignored');
    }
    return true;
  }
}
