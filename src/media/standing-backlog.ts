/**
 * A standing backlog of a bot that speaks in real time: audio that stays queued for good because
 * the writer plays exactly in real time too (it cannot play faster). It forms when the bot's audio
 * arrives while nothing is played yet (FreeSWITCH's playback of the pipe starting) or during an
 * event-loop stall, and then adds that much delay to the rest of the call.
 *
 * Per window of `windowMs` (default 500 ms): when the bot pushed close to real time (90–110 % of the window) and
 * the queue never went below `targetMs` + a frame, the excess over `targetMs` is standing: the
 * caller drops that much of the oldest audio. A burst (speech synthesis, faster than real time)
 * drains during the following windows and is never cut; a bot that pauses empties the queue.
 */
export class StandingBacklog {
  private windowStartMs = NaN;
  private pushedMs = 0;
  private minQueuedMs = Infinity;
  /** Audio dropped because of a standing backlog (ms). */
  droppedMs = 0;

  constructor(readonly targetMs: number, readonly windowMs = 500, readonly frameMs = 20) {}

  /** The bot pushed `ms` of audio. */
  pushed(ms: number): void {
    this.pushedMs += ms;
  }

  /**
   * Called once per written frame with the clock and the audio queued before the write. Returns
   * how much of the oldest audio to drop now (ms, 0 mostly).
   */
  check(nowMs: number, queuedMs: number): number {
    if (Number.isNaN(this.windowStartMs)) this.windowStartMs = nowMs;
    if (queuedMs < this.minQueuedMs) this.minQueuedMs = queuedMs;
    if (nowMs - this.windowStartMs < this.windowMs) return 0;
    const span = nowMs - this.windowStartMs;
    const realTime = this.pushedMs >= 0.9 * span && this.pushedMs <= 1.1 * span;
    const excess = this.minQueuedMs - this.targetMs;
    this.reset(nowMs);
    return realTime && excess >= this.frameMs ? excess : 0;
  }

  /** Starts a new window (after a clear, or when playing restarts). */
  reset(nowMs = NaN): void {
    this.windowStartMs = nowMs;
    this.pushedMs = 0;
    this.minQueuedMs = Infinity;
  }
}
