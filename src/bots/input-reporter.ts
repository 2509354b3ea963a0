import { systemClock, type Clock } from '../clock.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { BotCommand } from './adapter.js';

/**
 * Logs and counts the `error` / `ignored` commands an adapter returns, for one call. Every one is
 * counted (`metrics.error(code)`); the first of each code is logged at once (warn for errors, debug
 * for ignored), later ones at most once per `intervalMs` per code with the number `suppressed`
 * since the previous line, so a bot sending 50 bad frames a second cannot flood the log. Call
 * close() when the call ends: it logs what was suppressed since the last line.
 */
export class BotInputReporter {
  private readonly errors: LogLimiter;
  private readonly ignored: LogLimiter;

  /** `intervalMs`: shortest time between two lines of one code; default 10 000 ms. */
  constructor(private readonly logger: Logger, private readonly metrics: MetricsRegistry, clock: Clock = systemClock, intervalMs?: number) {
    this.errors = new LogLimiter({ clock, intervalMs });
    this.ignored = new LogLimiter({ clock, intervalMs });
  }

  /** Returns true when `cmd` was an error or ignored command (and has been reported). */
  report(cmd: BotCommand): boolean {
    if (cmd.kind === 'error') {
      this.metrics.error(cmd.code);
      const suppressed = this.errors.hit(cmd.code);
      if (suppressed !== SUPPRESSED) this.logger.warn({ code: cmd.code, detail: cmd.detail, suppressed }, 'bad message from bot dropped');
      return true;
    }
    if (cmd.kind === 'ignored') {
      this.metrics.error(cmd.code);
      const suppressed = this.ignored.hit(cmd.code);
      if (suppressed !== SUPPRESSED) this.logger.debug({ code: cmd.code, suppressed }, 'bot message ignored');
      return true;
    }
    return false;
  }

  /** Logs the counts suppressed since the last line of each code. Safe to call twice. */
  close(): void {
    this.errors.flush((code, suppressed) => this.logger.warn({ code, suppressed }, 'bad messages from bot dropped'));
    this.ignored.flush((code, suppressed) => this.logger.debug({ code, suppressed }, 'bot messages ignored'));
  }
}
