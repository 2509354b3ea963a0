/**
 * The warnings a playback controller repeats per message (too many marks, a full buffer, a full
 * pipe, stalls, refused or timed-out segments): every occurrence is counted
 * (`fsbridge_errors_total{code}`), and logged the first time and then at most once per interval
 * per code with the count `suppressed` since the previous line. With the daemon's limiter
 * (`shared`) the lines of a code are limited across all calls, and close() flushes nothing.
 */
import type { Clock } from '../clock.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { MediaErrorCode } from './error-codes.js';

export interface PlaybackWarningsOptions {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Shortest time between two log lines of one code. Default 10 000 ms. */
  intervalMs?: number;
  /** A limiter shared by every call (the daemon's). */
  shared?: LogLimiter;
}

export class PlaybackWarnings {
  private readonly logs: LogLimiter;
  private readonly own: boolean;

  constructor(private readonly o: PlaybackWarningsOptions) {
    this.logs = o.shared ?? new LogLimiter({ clock: o.clock, intervalMs: o.intervalMs });
    this.own = o.shared === undefined;
  }

  /** One occurrence of `code`: counted; logged at warn with `fields` unless suppressed. */
  warn(code: MediaErrorCode, fields: Record<string, unknown>, msg: string): void {
    this.o.metrics.error(code);
    const suppressed = this.logs.hit(code);
    if (suppressed !== SUPPRESSED) this.o.logger.warn({ code, ...fields, suppressed }, msg);
  }

  /** The call's playback ended: one line per code whose lines were suppressed (own limiter only). */
  flush(): void {
    if (this.own) this.logs.flush((code, suppressed) => this.o.logger.warn({ code, suppressed }, 'repeated warnings suppressed'));
  }
}
