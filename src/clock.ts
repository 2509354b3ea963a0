/**
 * Injected time source. Production uses {@link systemClock}; tests pass a manual clock so that
 * nothing waits on real time to check timing logic.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional), for deadlines and latency. */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, for records and logs. */
  wallMs(): number;
  /** Schedules `fn` after `delayMs`; returns a cancel function. */
  setTimeout(fn: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout(fn, delayMs) {
    const h = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(h);
  },
};

/** A clock for tests: time moves only when `advance()` is called. */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  constructor(private readonly epochMs = 1_700_000_000_000) {}
  nowMs(): number { return this.t; }
  wallMs(): number { return this.epochMs + this.t; }
  setTimeout(fn: () => void, delayMs: number): () => void {
    const timer = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => { this.timers = this.timers.filter((x) => x !== timer); };
  }
  /** When the next timer is due (monotonic ms), or null when none is pending. */
  nextTimerAt(): number | null {
    let at: number | null = null;
    for (const x of this.timers) if (at === null || x.at < at) at = x.at;
    return at;
  }
  /** Moves time forward by `ms`, firing due timers in deadline order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/**
 * A clock that counts its timers not yet fired or cancelled (`pendingTimers`), over another
 * clock: the daemon reports it in /metrics so that a timer left behind by an ended call shows.
 */
export class CountingClock implements Clock {
  private pending = 0;
  constructor(private readonly inner: Clock) {}
  get pendingTimers(): number { return this.pending; }
  nowMs(): number { return this.inner.nowMs(); }
  wallMs(): number { return this.inner.wallMs(); }
  setTimeout(fn: () => void, delayMs: number): () => void {
    let live = true;
    this.pending++;
    const cancel = this.inner.setTimeout(() => {
      if (live) { live = false; this.pending--; }
      fn();
    }, delayMs);
    return () => {
      if (live) { live = false; this.pending--; }
      cancel();
    };
  }
}
