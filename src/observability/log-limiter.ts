/**
 * Rate limit for a warning that can repeat once per message or frame (issue 8: a bot sending marks
 * faster than playback wrote one warn line per mark, 168 MB of log in a 10-minute soak).
 *
 * Rule: every occurrence is counted; the first occurrence of a key is logged at once; later ones
 * are folded into at most one line per key per `intervalMs`, which carries how many occurrences
 * were suppressed since the previous line. Metrics are not this class's business: the caller
 * still counts every occurrence in its counter. Pure: no timers, no I/O, time from the injected
 * clock; one instance per owner (one call, one connection), so one noisy call cannot hide another.
 */
import type { Clock } from '../clock.js';

/** Returned by {@link LogLimiter.hit} when no line is due for this occurrence. */
export const SUPPRESSED = -1;

/** Options of {@link LogLimiter}. */
export interface LogLimiterOptions {
  clock: Pick<Clock, 'nowMs'>;
  /** Shortest time between two lines of one key. Default 10 000 ms. */
  intervalMs?: number;
  /** Bound on distinct keys; occurrences of further keys share one slot reported as `*`. Default 64. */
  maxKeys?: number;
}

interface KeyState {
  total: number;
  suppressed: number;
  lastLineMs: number;
}

/** Key under which occurrences of keys beyond maxKeys are folded together. */
const OTHER_KEYS = '*';

/**
 * Decides which occurrences of repeated log lines are written. Keys are meant to be error codes (a
 * small fixed set). A suppressed occurrence allocates nothing: one map lookup, one clock read.
 */
export class LogLimiter {
  readonly intervalMs: number;
  readonly maxKeys: number;
  private readonly clock: Pick<Clock, 'nowMs'>;
  private readonly keys = new Map<string, KeyState>();

  constructor(opts: LogLimiterOptions) {
    this.clock = opts.clock;
    this.intervalMs = Math.max(0, opts.intervalMs ?? 10_000);
    this.maxKeys = Math.max(1, opts.maxKeys ?? 64);
  }

  /**
   * Counts one occurrence of `key`. Returns {@link SUPPRESSED} when no line is due; otherwise a
   * line is due now, and the result is how many occurrences were suppressed since the previous
   * line of this key (0 for the first occurrence): log it as a `suppressed` field.
   */
  hit(key: string): number {
    const s = this.state(key);
    s.total++;
    const now = this.clock.nowMs();
    if (now - s.lastLineMs < this.intervalMs) {
      s.suppressed++;
      return SUPPRESSED;
    }
    const n = s.suppressed;
    s.suppressed = 0;
    s.lastLineMs = now;
    return n;
  }

  /** Occurrences of `key` counted so far, logged or not (keys beyond maxKeys count under `*`). */
  count(key: string): number {
    return this.keys.get(key)?.total ?? 0;
  }

  /** Occurrences of `key` suppressed since its last line (what the next line or flush() will report). */
  pending(key: string): number {
    return this.keys.get(key)?.suppressed ?? 0;
  }

  /**
   * Reports, once per key, the occurrences suppressed since that key's last line, and resets them.
   * The owner calls it when it closes, so that no suppressed occurrence goes unmentioned; calling
   * it again reports nothing new. Keys with nothing suppressed are skipped.
   */
  flush(onSummary: (key: string, suppressed: number) => void): void {
    const now = this.clock.nowMs();
    for (const [key, s] of this.keys) {
      if (s.suppressed === 0) continue;
      const n = s.suppressed;
      s.suppressed = 0;
      s.lastLineMs = now;
      onSummary(key, n);
    }
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (s) return s;
    if (this.keys.size >= this.maxKeys) key = OTHER_KEYS;
    s = this.keys.get(key);
    if (!s) {
      s = { total: 0, suppressed: 0, lastLineMs: -Infinity };
      this.keys.set(key, s);
    }
    return s;
  }
}
