/**
 * The system clock, recording how late its short timers fire: given to a Daemon (its `clock`
 * option), it shows how much later than asked the campaign dialer's pacing waits (at most one
 * call interval) ran. Benchmarks only.
 */
import { systemClock, type Clock } from '../../src/clock.js';

/** Most samples kept (the rest are dropped and counted). */
const MAX_SAMPLES = 200_000;

export class LatenessClock implements Clock {
  /** Lateness (ms) of each timer of at most `maxDelayMs` that fired while recording. */
  readonly lateMs: number[] = [];
  dropped = 0;
  recording = false;

  /** `maxDelayMs`: only timers asked for at most this long are recorded. */
  constructor(private readonly maxDelayMs: number) {}

  nowMs(): number { return systemClock.nowMs(); }
  wallMs(): number { return systemClock.wallMs(); }
  setTimeout(fn: () => void, delayMs: number): () => void {
    if (delayMs > this.maxDelayMs) return systemClock.setTimeout(fn, delayMs);
    const due = performance.now() + Math.max(0, delayMs);
    return systemClock.setTimeout(() => {
      if (this.recording) {
        if (this.lateMs.length < MAX_SAMPLES) this.lateMs.push(performance.now() - due);
        else this.dropped++;
      }
      fn();
    }, delayMs);
  }
}
