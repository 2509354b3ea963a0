/**
 * Releases one frame per tick on absolute deadlines `startMs + k·frameMs` of the injected clock.
 *
 * Why absolute deadlines: a timer re-armed "20 ms from now" drifts by every late wake-up, and the
 * far end (FreeSWITCH's media clock) does not. When a wake-up is late the pacer emits the missed
 * ticks at once (catch-up) so that the count stays on the grid; after a long stall (more than
 * maxCatchUpFrames behind) it skips ahead instead, counting the skipped frames, so that a burst
 * does not flood the peer.
 */
import type { Clock } from '../clock.js';

/** Options of {@link Pacer}. */
export interface PacerOptions {
  clock: Clock;
  /** Called once per frame deadline with the frame index k (0, 1, 2 …; skipped indices never appear). */
  onTick: (frameIndex: number) => void;
  /** Frame duration in milliseconds. Default 20. */
  frameMs?: number;
  /** Missed ticks emitted at once after a late wake-up; beyond that the pacer skips ahead. Default 5. */
  maxCatchUpFrames?: number;
}

export class Pacer {
  readonly frameMs: number;
  readonly maxCatchUpFrames: number;
  private readonly clock: Clock;
  private readonly onTick: (frameIndex: number) => void;
  private startMs = 0;
  private nextIndex = 0;
  private cancelTimer: (() => void) | null = null;
  private running = false;
  private readonly fire = (): void => this.run();

  /** Ticks emitted since creation. */
  ticks = 0;
  /** Ticks emitted later than their deadline by a full frame or more (catch-up ticks). */
  lateTicks = 0;
  /** Stalls after which the pacer skipped ahead. */
  stalls = 0;
  /** Frame indices skipped by those stalls. */
  skippedFrames = 0;

  constructor(opts: PacerOptions) {
    this.clock = opts.clock;
    this.onTick = opts.onTick;
    this.frameMs = opts.frameMs ?? 20;
    this.maxCatchUpFrames = Math.max(1, opts.maxCatchUpFrames ?? 5);
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Starts a new grid at the current clock time: tick 0 fires immediately (synchronously), tick k
   * at start + k·frameMs. No-op when already running.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.clock.nowMs();
    this.nextIndex = 0;
    this.run();
  }

  /** Stops ticking; safe to call twice. A tick already running completes. */
  stop(): void {
    this.running = false;
    if (this.cancelTimer) {
      this.cancelTimer();
      this.cancelTimer = null;
    }
  }

  /** The deadline of the next tick, in clock milliseconds. */
  get nextDeadlineMs(): number {
    return this.startMs + this.nextIndex * this.frameMs;
  }

  private run(): void {
    this.cancelTimer = null;
    if (!this.running) return;
    const now = this.clock.nowMs();
    // how many deadlines are due (index ≤ dueIndex)
    const dueIndex = Math.floor((now - this.startMs) / this.frameMs);
    const behind = dueIndex - this.nextIndex + 1;
    if (behind > this.maxCatchUpFrames) {
      const skip = behind - 1; // keep only the newest due tick
      this.stalls++;
      this.skippedFrames += skip;
      this.nextIndex += skip;
    }
    // bounded: at most maxCatchUpFrames ticks per wake-up
    for (let i = 0; i < this.maxCatchUpFrames && this.running && this.nextIndex <= dueIndex; i++) {
      const k = this.nextIndex++;
      if (now - (this.startMs + k * this.frameMs) >= this.frameMs) this.lateTicks++;
      this.ticks++;
      this.onTick(k);
    }
    if (!this.running) return;
    const delay = this.startMs + this.nextIndex * this.frameMs - this.clock.nowMs();
    this.cancelTimer = this.clock.setTimeout(this.fire, delay);
  }
}
