/**
 * 'stream' playback for builds of mod_audio_stream that inject `raw` streamAudio into the call in
 * real time (the voxcom-us fork, reference/protocols.md §2.10: a write thread takes one codec frame
 * per packet interval from a small buffer; no ESL event is fired for raw chunks).
 *
 * Bot audio waits in a PlayoutBuffer; a Pacer ticks every 20 ms on absolute deadlines and, when
 * less than leadMs of already-sent audio remains to be played, sends the next chunk of up to
 * chunkMs (never across a mark). fsbridge keeps the far end at most about chunkMs + leadMs ahead,
 * so a clear() loses little and FreeSWITCH's buffer never overflows; and at least leadMs − 20 ms
 * ahead, so that a timer that wakes up late (up to that much) does not leave the far end without
 * audio. A far end that ran dry anyway (a longer stall) plays the rest later than the bot meant:
 * when that puts playback more than maxLagMs behind a bot speaking in real time, the oldest queued
 * audio is dropped (MEDIA_PLAYBACK_BEHIND), so that the hold returns to its target instead of
 * growing with each stall. A mark is answered when the audio before it has been sent and its
 * duration has elapsed. The pacer stops while there is nothing to do.
 * Repeatable warnings (too many marks, a full buffer, pacer stalls) are counted every time but
 * logged the first time and then at most once per logIntervalMs per code, with `suppressed`.
 */
import type { Clock } from '../clock.js';
import type { LogLimiter } from '../observability/log-limiter.js';
import { PlaybackWarnings } from './playback-warnings.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { Pacer } from './pacer.js';
import { LagBound } from './lag-bound.js';
import { PlayoutBuffer } from './playout-buffer.js';
import { streamAudioMessage, type PlaybackActions, type PlaybackController } from './playback.js';

/** Options of {@link StreamPlayback}. */
export interface StreamPlaybackOptions {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** sendText, breakAll and markPlayed are used; broadcast never is. */
  actions: PlaybackActions;
  /** Rate of the audio pushed and sent (8000 or 16000). */
  sampleRateHz: number;
  /** Audio per streamAudio message, 20–100 ms in steps of 20. Default 40. */
  chunkMs?: number;
  /** Bound on queued bot audio. Default 60 000 ms. */
  maxBufferMs?: number;
  /** Sent audio kept ahead of the far end, 20–100 ms in steps of 20. Default 40. */
  leadMs?: number;
  /**
   * How far behind a bot that speaks in real time playback may fall (after the far end ran dry)
   * before the oldest queued audio is dropped. Default 200 ms; Infinity never drops.
   */
  maxLagMs?: number;
  /** Shortest time between two log lines of one repeated warning. Default 10 000 ms. */
  logIntervalMs?: number;
  /**
   * A limiter shared by every call (the daemon's): the lines of a code are then limited across
   * calls, so a fault hitting many calls at once still writes a few lines. Not flushed on close.
   */
  sharedLogs?: LogLimiter;
}

const FRAME_MS = 20;

export class StreamPlayback implements PlaybackController {
  readonly chunkMs: number;
  readonly leadMs: number;
  private readonly clock: Clock;
  private readonly lag: LagBound;
  private readonly warnings: PlaybackWarnings;
  private readonly actions: PlaybackActions;
  private readonly sampleRateHz: number;
  private readonly chunkSamples: number;
  private readonly buffer: PlayoutBuffer;
  private readonly scratch: Int16Array;
  private readonly pacer: Pacer;
  /** Clock time at which the audio sent so far has finished playing at the far end. */
  private sentUntilMs = 0;
  private readonly dueNames: string[] = [];
  private readonly dueAtMs: number[] = [];
  private lastStalls = 0;
  private closed = false;

  /** Chunks sent as streamAudio. */
  chunksSent = 0;

  constructor(opts: StreamPlaybackOptions) {
    this.clock = opts.clock;
    this.warnings = new PlaybackWarnings({ clock: opts.clock, logger: opts.logger, metrics: opts.metrics, intervalMs: opts.logIntervalMs, shared: opts.sharedLogs });
    this.actions = opts.actions;
    this.sampleRateHz = opts.sampleRateHz;
    const chunk = Math.round((opts.chunkMs ?? 40) / FRAME_MS) * FRAME_MS;
    this.chunkMs = Math.min(100, Math.max(20, chunk));
    this.chunkSamples = Math.round((this.chunkMs * opts.sampleRateHz) / 1000);
    this.leadMs = Math.min(100, Math.max(20, Math.round((opts.leadMs ?? 40) / FRAME_MS) * FRAME_MS));
    this.lag = new LagBound(opts.maxLagMs ?? 200, FRAME_MS);
    this.scratch = new Int16Array(this.chunkSamples);
    this.buffer = new PlayoutBuffer({ sampleRateHz: opts.sampleRateHz, maxBufferMs: opts.maxBufferMs });
    this.pacer = new Pacer({ clock: opts.clock, frameMs: FRAME_MS, onTick: () => this.tick() });
  }

  /** Audio waiting in fsbridge (not yet sent), in milliseconds. */
  get queuedMs(): number {
    return this.buffer.bufferedMs;
  }

  get busy(): boolean {
    return this.buffer.bufferedSamples > 0 || this.sentUntilMs > this.clock.nowMs();
  }

  /** Audio dropped because playback had fallen more than maxLagMs behind (ms). */
  get droppedLagMs(): number { return this.lag.droppedMs; }

  /** True while the pacer runs (audio or marks pending). */
  get active(): boolean {
    return this.pacer.isRunning;
  }

  pushAudio(pcm: Int16Array): void {
    if (this.closed || pcm.length === 0) return;
    this.lag.pushed(this.clock.nowMs(), (pcm.length * 1000) / this.sampleRateHz);
    if (this.buffer.push(pcm) > 0) {
      this.warnings.warn('MEDIA_PLAYOUT_OVERFLOW', { droppedSamples: this.buffer.droppedSamples }, 'playout buffer full, oldest audio dropped');
    }
    this.pacer.start();
  }

  mark(name: string): void {
    if (this.closed) return;
    if (this.buffer.mark(name)) {
      this.pacer.start();
      return;
    }
    // too many pending marks: answer this one at once so that the bot is never left waiting
    this.warnings.warn('MEDIA_TOO_MANY_MARKS', {}, 'too many pending marks, answered at once');
    this.actions.markPlayed(name);
  }

  clear(): void {
    if (this.closed) return;
    this.pacer.stop();
    this.actions.breakAll();
    const names = this.dueNames.splice(0);
    this.dueAtMs.length = 0;
    for (const m of this.buffer.clear()) names.push(m);
    this.sentUntilMs = this.clock.nowMs();
    this.lag.reset();
    for (const m of names) this.actions.markPlayed(m);
  }

  /** Not used in stream mode (raw chunks fire no event). */
  onPlay(_file: string): void {}
  /** Not used in stream mode. */
  onRejected(): void {}
  /** Not used in stream mode. */
  onPlaybackStart(_file: string): void {}
  onPlaybackStop(_file: string): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.stop();
    this.buffer.clear();
    this.dueNames.length = 0;
    this.dueAtMs.length = 0;
    this.warnings.flush();
  }


  /**
   * Drops the oldest queued audio when what is sent next would start more than maxLagMs after a
   * bot speaking in real time meant it to (the far end ran dry: a stall longer than the lead), a
   * frame at a time; marks passed are due with the audio already sent.
   */
  private catchUp(): void {
    const dropMs = this.lag.excessMs(this.sentUntilMs, this.buffer.bufferedMs);
    const samples = Math.floor((dropMs * this.sampleRateHz) / 1000);
    if (samples <= 0) return;
    const lagMs = this.lag.lagMs(this.sentUntilMs, this.buffer.bufferedMs);
    const toMark = this.buffer.samplesBeforeNextMark();
    const r = this.buffer.skip(toMark > 0 ? Math.min(samples, toMark) : samples);
    this.lag.droppedMs += (r.samples * 1000) / this.sampleRateHz;
    for (const m of r.marks) {
      this.dueNames.push(m);
      this.dueAtMs.push(this.sentUntilMs);
    }
    this.warnings.warn('MEDIA_PLAYBACK_BEHIND', { lagMs: Math.round(lagMs), droppedMs: Math.round(this.lag.droppedMs) }, 'playback fell behind the bot: oldest queued audio dropped');
  }

  private tick(): void {
    const now = this.clock.nowMs();
    if (this.pacer.stalls !== this.lastStalls) {
      this.lastStalls = this.pacer.stalls;
      this.warnings.warn('MEDIA_PACER_STALL', { skippedFrames: this.pacer.skippedFrames }, 'event loop stalled, pacer skipped ahead');
    }
    if (this.sentUntilMs < now) this.sentUntilMs = now;
    if (this.buffer.samplesBeforeNextMark() === 0) {
      // marks right after audio already sent are due when that audio ends
      for (const m of this.buffer.skip(0).marks) {
        this.dueNames.push(m);
        this.dueAtMs.push(this.sentUntilMs);
      }
    }
    let answered = 0;
    while (answered < this.dueNames.length && this.dueAtMs[answered] <= now) answered++;
    if (answered > 0) {
      const names = this.dueNames.splice(0, answered);
      this.dueAtMs.splice(0, answered);
      for (const m of names) {
        if (this.closed) return;
        this.actions.markPlayed(m);
      }
    }
    // send when less than leadMs of sent audio is left to play (one chunk per tick, never across a mark)
    if (this.sentUntilMs - now < this.leadMs) {
      this.catchUp();
      const toMark = this.buffer.samplesBeforeNextMark();
      const limit = toMark > 0 ? Math.min(toMark, this.chunkSamples) : this.chunkSamples;
      const r = this.buffer.pull(this.scratch, limit);
      if (r.samples > 0) {
        this.chunksSent++;
        this.actions.sendText(streamAudioMessage(this.scratch, r.samples, this.sampleRateHz));
        this.sentUntilMs += (r.samples * 1000) / this.sampleRateHz;
      }
      for (const m of r.marks) {
        this.dueNames.push(m);
        this.dueAtMs.push(this.sentUntilMs);
      }
    }
    if (this.closed) return;
    if (this.buffer.bufferedSamples === 0 && this.buffer.pendingMarks === 0 && this.dueNames.length === 0) {
      this.pacer.stop();
    }
  }
}
