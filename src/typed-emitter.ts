import { EventEmitter } from 'node:events';
import type { Logger } from './observability/logger.js';
import type { MetricsRegistry } from './observability/metrics.js';
import { SUPPRESSED, type LogLimiter } from './observability/log-limiter.js';

/** Receives an exception thrown by a listener of `event`. Must not throw. */
export type ListenerErrorHandler = (err: unknown, event: string) => void;

/**
 * An EventEmitter with typed events and `safeEmit`, which catches a throwing listener so that
 * one faulty subscriber cannot break the emitter or another call. Caught errors go to
 * `onListenerError`: the handler given to the constructor (normally
 * {@link reportListenerErrors}: logged with the owner's logger and counted under the owner's error
 * code), or one its owner assigns later. Without either, {@link stderrListenerErrors} writes them
 * to stderr: never silent, but not counted, so every owner should install a reporter.
 */
export class TypedEmitter<Events extends Record<string, unknown[]>> extends EventEmitter {
  onListenerError: ListenerErrorHandler;

  constructor(onListenerError?: ListenerErrorHandler) {
    super();
    this.onListenerError = onListenerError ?? stderrListenerErrors();
  }

  override on<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.on(event, fn as (...a: unknown[]) => void);
  }
  override once<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.once(event, fn as (...a: unknown[]) => void);
  }
  override off<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.off(event, fn as (...a: unknown[]) => void);
  }
  /** Emits to every listener; a listener that throws is reported, the others still run. */
  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    const listeners = this.listeners(event);
    for (const l of listeners) {
      try {
        (l as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
    return listeners.length > 0;
  }
}

/** Options of {@link reportListenerErrors}. */
export interface ListenerErrorReportOptions {
  logger: Logger;
  metrics: MetricsRegistry;
  /** Stable code counted in `fsbridge_errors_total{code}` and logged (e.g. BOT_LISTENER_THREW). */
  code: string;
  /**
   * When given, lines are rate limited under `code` (first at once, then at most one per interval
   * with `suppressed`); use it for emitters that fire per message. Every error is still counted.
   */
  limiter?: LogLimiter;
}

/**
 * The handler an owner installs on its emitters: every listener error is counted
 * (`metrics.error(code)`) and logged at error level with `err`, `event` and `code`.
 */
export function reportListenerErrors(opts: ListenerErrorReportOptions): ListenerErrorHandler {
  const { logger, metrics, code, limiter } = opts;
  return (err, event) => {
    metrics.error(code);
    const suppressed = limiter ? limiter.hit(code) : 0;
    if (suppressed === SUPPRESSED) return;
    logger.error({ err, event, code, suppressed }, 'event listener threw');
  };
}

/**
 * The fallback handler of an emitter whose owner installed none: writes one JSON line per
 * reported occurrence to stderr (default `process.stderr`), with the event and the stack. To keep
 * a listener that throws per message from flooding stderr, occurrences 1, 10, 100, 1000 … of each
 * event are written, with their count.
 */
export function stderrListenerErrors(write: (line: string) => void = (line) => process.stderr.write(line)): ListenerErrorHandler {
  let counts: Map<string, number> | null = null;
  return (err, event) => {
    counts ??= new Map();
    const n = (counts.get(event) ?? 0) + 1;
    counts.set(event, n);
    if (!isPowerOfTen(n)) return;
    const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    write(JSON.stringify({ level: 'error', msg: 'event listener threw (no reporter installed, not counted)', event, occurrences: n, err: stack }) + '\n');
  };
}

function isPowerOfTen(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
