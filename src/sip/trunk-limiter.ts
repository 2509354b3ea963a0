/**
 * Per-trunk outbound pacing: at most `maxConcurrent` calls at once, starts spaced at least
 * 1000/`callsPerSecond` ms apart, and at most `queueMax` dials waiting; beyond that a dial is
 * refused at once. FIFO, timers on the injected clock.
 */
import type { Clock } from '../clock.js';

/** Limits of one trunk (TrunkConfig.outbound). */
export interface TrunkLimits {
  maxConcurrent: number;
  callsPerSecond: number;
  queueMax: number;
}

/** Gives back a slot; idempotent. */
export type Release = () => void;

interface Waiter { grant: (r: Release) => void; abandoned: boolean }

/** A concurrency + rate limiter with a bounded FIFO queue. */
export class TrunkLimiter {
  private active = 0;
  private lastStartMs = -Infinity;
  private readonly queue: Waiter[] = [];
  private cancelTimer?: () => void;
  private closed = false;

  constructor(private readonly limits: TrunkLimits, private readonly clock: Clock) {}

  /** Calls holding a slot. */
  get inUse(): number { return this.active; }
  /** Dials waiting for a slot. */
  get waiting(): number { return this.queue.length; }

  /**
   * Resolves with a release function once a slot is free and the rate allows a start, or at
   * once with 'full' when the queue holds `queueMax` dials (or the limiter is closed).
   * `signal` abandons a waiting dial (resolves 'aborted').
   */
  acquire(signal?: AbortSignal): Promise<Release | 'full' | 'aborted'> {
    if (this.closed) return Promise.resolve('full');
    if (this.queue.length === 0 && this.canStart()) return Promise.resolve(this.start());
    if (this.waiting >= this.limits.queueMax) return Promise.resolve('full');
    return new Promise((resolve) => {
      const w: Waiter = { grant: resolve, abandoned: false };
      this.queue.push(w);
      signal?.addEventListener('abort', () => {
        if (w.abandoned) return;
        w.abandoned = true;
        const i = this.queue.indexOf(w);
        if (i >= 0) this.queue.splice(i, 1);
        resolve('aborted');
        this.pump();
      }, { once: true });
      this.pump();
    });
  }

  /** Refuses waiting dials ('full') and new ones. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const w of this.queue.splice(0)) if (!w.abandoned) { w.abandoned = true; (w.grant as (v: unknown) => void)('full'); }
  }

  private spacingMs(): number {
    return this.limits.callsPerSecond > 0 ? 1000 / this.limits.callsPerSecond : 0;
  }

  private canStart(): boolean {
    return this.active < this.limits.maxConcurrent && this.clock.nowMs() - this.lastStartMs >= this.spacingMs();
  }

  private start(): Release {
    this.active++;
    this.lastStartMs = this.clock.nowMs();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.pump();
    };
  }

  private pump(): void {
    if (this.closed || this.queue.length === 0 || this.cancelTimer) return;
    if (this.active >= this.limits.maxConcurrent) return; // a release will pump again
    const waitMs = this.spacingMs() - (this.clock.nowMs() - this.lastStartMs);
    if (waitMs > 0) {
      this.cancelTimer = this.clock.setTimeout(() => { this.cancelTimer = undefined; this.pump(); }, Math.ceil(waitMs));
      return;
    }
    const w = this.queue.shift()!;
    w.grant(this.start());
    this.pump();
  }
}
