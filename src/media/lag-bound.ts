/**
 * How far a playback has fallen behind its bot, for a playback that cannot play without gaps
 * (`file`: each file costs FreeSWITCH a gap). The bot's
 * audio is placed on a real-time clock: each push is due right after the audio before it, and
 * never before the push itself, so a bot that sends faster than real time (speech synthesis) is
 * never behind. What is buffered is due from `idealEndMs − bufferedMs` on; starting it at
 * `startsMs` is `lag` late. Above `maxLagMs` the caller drops the oldest buffered audio, down to
 * `maxLagMs − stepMs`, so that drops come a little at a time.
 */
export class LagBound {
  private idealEndMs = -Infinity;
  /** Audio dropped to stay within the bound (ms). */
  droppedMs = 0;

  constructor(readonly maxLagMs: number, readonly stepMs: number) {}

  /** The bot pushed `ms` of audio at `nowMs`. */
  pushed(nowMs: number, ms: number): void {
    this.idealEndMs = Math.max(this.idealEndMs, nowMs) + ms;
  }

  /** How late the head of the buffer starts at `startsMs` (ms; ≤ 0: on time). */
  lagMs(startsMs: number, bufferedMs: number): number {
    return startsMs - (this.idealEndMs - bufferedMs);
  }

  /** Audio to drop from the head now (ms, 0 when within the bound). */
  excessMs(startsMs: number, bufferedMs: number): number {
    if (!Number.isFinite(this.maxLagMs)) return 0;
    const lag = this.lagMs(startsMs, bufferedMs);
    if (lag <= this.maxLagMs) return 0;
    return Math.min(bufferedMs, lag - this.maxLagMs + this.stepMs);
  }

  /** The bot's audio was cleared: nothing is behind any more. */
  reset(): void {
    this.idealEndMs = -Infinity;
  }
}
