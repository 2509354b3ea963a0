/**
 * 'pipe' playback (FreeSWITCH on the same host): one continuous `uuid_broadcast` per call of a
 * named pipe that mod_native_file plays in FreeSWITCH's channel thread, one frame per 20 ms of the
 * channel's clock. This controller is the writer's pure core: from start() on, a Pacer ticks on
 * absolute 20 ms deadlines and every tick writes exactly one frame — the bot's audio, or silence
 * while the bot is quiet (a reader that finds the pipe empty blocks the channel's playback loop).
 * start() first writes leadFrames of silence, so the pipe always holds about that much audio ahead
 * of the reader: bot audio is heard about (leadFrames + 1) frames after its tick, whatever the
 * length of the call (no ratchet). A clear() takes back what the reader has not read yet and
 * writes silence instead, so it is heard within about a frame, without `uuid_break`.
 *
 * The writer cannot play faster than real time, so a backlog of a bot that speaks in real time
 * would stay for the rest of the call: audio the bot sent before FreeSWITCH started playing the
 * pipe (on the real FreeSWITCH its PLAYBACK_START comes 90–200 ms after uuid_broadcast: an echo
 * bot was heard 140 ms later than it needed for the whole call), or during an event-loop stall.
 * When such a backlog stood for half a second (StandingBacklog), the oldest audio beyond
 * maxLagMs is dropped (counted in fsbridge_playback_backlog_dropped_ms_total, logged at debug: it
 * is expected once per call of such a bot); a burst of speech synthesis drains and is never cut.
 *
 * Marks are answered when the frame holding the audio before them has been written and has
 * played: its tick + (leadFrames + 1) frames. A partial frame of bot audio waits one tick for the
 * rest unless the bot has paused (nothing pushed for a frame) or a mark follows it; then it is
 * padded with silence. The I/O (FIFO, codec) is the caller's: see PipeActions.
 */
import type { Clock } from '../clock.js';
import type { LogLimiter } from '../observability/log-limiter.js';
import { PlaybackWarnings } from './playback-warnings.js';
import type { Logger } from '../observability/logger.js';
import type { CounterSeries, MetricsRegistry } from '../observability/metrics.js';
import { Pacer } from './pacer.js';
import { StandingBacklog } from './standing-backlog.js';
import { PlayoutBuffer } from './playout-buffer.js';
import type { PlaybackController } from './playback.js';

/** Side effects of {@link PipePlayback}. */
export interface PipeActions {
  /**
   * Writes one frame (frameSamples at sampleRateHz) to the pipe. Returns false when the pipe took
   * nothing (full: the reader is not reading).
   */
  writeFrame(pcm: Int16Array): boolean;
  /**
   * Takes back what is written and not read yet (clear): returns how many frames that was. The
   * pipe's level is then restored with as many frames of silence.
   */
  dropWritten?(): number;
  /** The audio before this mark has played (or was cleared). In placement order. */
  markPlayed(name: string): void;
}

/** Options of {@link PipePlayback}. */
export interface PipePlaybackOptions {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  actions: PipeActions;
  /** Rate of the audio pushed and written (8000 or 16000). */
  sampleRateHz: number;
  /** Frames of silence written ahead at start (the pipe's lead over the reader). Default 2. */
  leadFrames?: number;
  /** Bound on queued bot audio. Default 60 000 ms. */
  maxBufferMs?: number;
  /** Backlog of a bot speaking in real time kept when it stands for half a second; beyond it is dropped. Default 40 ms; Infinity never drops. */
  maxLagMs?: number;
  /** Shortest time between two log lines of one repeated warning. Default 10 000 ms. */
  logIntervalMs?: number;
  /** The daemon's limiter shared by every call (see FilePlayback). Not flushed on close. */
  sharedLogs?: LogLimiter;
  /**
   * Comfort noise: `fill` writes what is played instead of digital silence while the bot is
   * silent, `under` adds ambience to the bot's audio. Absent: silence, and the bot's audio as sent.
   */
  noise?: { fill(frame: Int16Array): void; under(frame: Int16Array): void };
}

const FRAME_MS = 20;

export class PipePlayback implements PlaybackController {
  readonly leadFrames: number;
  readonly frameSamples: number;
  private readonly clock: Clock;
  private readonly warnings: PlaybackWarnings;
  private readonly log: Logger;
  private readonly backlogDropped: CounterSeries;
  private readonly actions: PipeActions;
  private readonly buffer: PlayoutBuffer;
  private readonly frame: Int16Array;
  private readonly silence: Int16Array;
  private readonly noise: PipePlaybackOptions['noise'];
  private readonly pacer: Pacer;
  private readonly backlog: StandingBacklog;
  private readonly sampleRateHz: number;
  /** Marks whose audio is written, with the clock time it has played by. */
  private readonly dueNames: string[] = [];
  private readonly dueAtMs: number[] = [];
  /** When the last frame of bot audio written has played. */
  private audioEndsAtMs = 0;
  private lastPushMs = -Infinity;
  private lastStalls = 0;
  private closed = false;

  /** Frames written (bot audio or silence). */
  framesWritten = 0;
  /** Frames holding bot audio. */
  audioFrames = 0;
  /** Frames the pipe did not take (full). */
  framesRefused = 0;

  constructor(opts: PipePlaybackOptions) {
    this.clock = opts.clock;
    this.warnings = new PlaybackWarnings({ clock: opts.clock, logger: opts.logger, metrics: opts.metrics, intervalMs: opts.logIntervalMs, shared: opts.sharedLogs });
    this.log = opts.logger;
    this.backlogDropped = opts.metrics.counter('fsbridge_playback_backlog_dropped_ms_total', 'Bot audio dropped from a standing backlog of a real-time bot (pipe playback), ms').series();
    this.actions = opts.actions;
    this.leadFrames = Math.max(1, Math.min(10, Math.round(opts.leadFrames ?? 2)));
    this.sampleRateHz = opts.sampleRateHz;
    this.frameSamples = (opts.sampleRateHz * FRAME_MS) / 1000;
    this.frame = new Int16Array(this.frameSamples);
    this.silence = new Int16Array(this.frameSamples);
    this.noise = opts.noise;
    this.buffer = new PlayoutBuffer({ sampleRateHz: opts.sampleRateHz, maxBufferMs: opts.maxBufferMs });
    this.pacer = new Pacer({ clock: opts.clock, frameMs: FRAME_MS, onTick: () => this.tick() });
    this.backlog = new StandingBacklog(opts.maxLagMs ?? 40);
  }

  /** Audio dropped because a backlog of the bot stood beyond maxLagMs (ms). */
  get droppedLagMs(): number { return this.backlog.droppedMs; }

  /** Bot audio waiting in fsbridge (not yet written), in milliseconds. */
  get queuedMs(): number {
    return this.buffer.bufferedMs;
  }

  get busy(): boolean {
    return this.buffer.bufferedSamples > 0 || this.audioEndsAtMs > this.clock.nowMs();
  }

  /** True between start() and close() / stop(). */
  get running(): boolean {
    return this.pacer.isRunning;
  }

  /**
   * The pipe is open and FreeSWITCH is (about to start) reading it: writes the lead and starts
   * the frame clock. Again after stop(): a new reader (the lead is written again). No-op when running.
   */
  start(): void {
    if (this.closed || this.pacer.isRunning) return;
    for (let i = 0; i < this.leadFrames; i++) this.writeIdle();
    this.backlog.reset();
    this.pacer.start();
  }

  /**
   * The reader went away (PLAYBACK_STOP of the pipe): stops writing; marks of audio already written
   * are answered now (it will not play); queued audio stays for a start() on a new reader.
   */
  stop(): void {
    if (this.closed) return;
    this.pacer.stop();
    this.answerDue(Infinity);
  }

  pushAudio(pcm: Int16Array): void {
    if (this.closed || pcm.length === 0) return;
    this.backlog.pushed((pcm.length * 1000) / this.sampleRateHz);
    if (this.buffer.push(pcm) > 0) {
      this.warnings.warn('MEDIA_PLAYOUT_OVERFLOW', { droppedSamples: this.buffer.droppedSamples }, 'playout buffer full, oldest audio dropped');
    }
    this.lastPushMs = this.clock.nowMs();
  }

  mark(name: string): void {
    if (this.closed) return;
    if (this.buffer.mark(name)) {
      // before start() nothing plays yet; the mark waits for its audio like any other
      return;
    }
    this.warnings.warn('MEDIA_TOO_MANY_MARKS', {}, 'too many pending marks, answered at once');
    this.actions.markPlayed(name);
  }

  /**
   * Drops the queued audio and answers every pending mark. The lead already in the pipe is taken
   * back and replaced by silence (dropWritten), so the caller hears silence within a frame or so.
   */
  clear(): void {
    if (this.closed) return;
    if (this.pacer.isRunning && this.actions.dropWritten) {
      const n = Math.min(this.actions.dropWritten(), 2 * this.leadFrames + 2);
      for (let i = 0; i < n; i++) this.writeIdle();
    }
    const names = this.dueNames.splice(0);
    this.dueAtMs.length = 0;
    for (const m of this.buffer.clear()) names.push(m);
    this.backlog.reset();
    this.audioEndsAtMs = this.clock.nowMs();
    for (const m of names) {
      if (this.closed) return;
      this.actions.markPlayed(m);
    }
  }

  /** Not used in pipe mode (no streamAudio is sent). */
  onPlay(_file: string): void {}
  /** Not used in pipe mode. */
  onRejected(): void {}
  /** Not used in pipe mode. */
  onPlaybackStart(_file: string): void {}
  /** Not used here: the owner of the pipe matches its path and calls stop(). */
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


  /** A frame of silence, or of comfort noise when configured. */
  private writeIdle(): void {
    if (this.noise) this.noise.fill(this.silence);
    this.write(this.silence);
  }

  private write(pcm: Int16Array): void {
    this.framesWritten++;
    if (this.actions.writeFrame(pcm)) return;
    this.framesRefused++;
    this.warnings.warn('MEDIA_PIPE_FULL', { framesRefused: this.framesRefused }, 'playback pipe full: FreeSWITCH is not reading it');
  }

  private tick(): void {
    const now = this.clock.nowMs();
    if (this.pacer.stalls !== this.lastStalls) {
      this.lastStalls = this.pacer.stalls;
      this.warnings.warn('MEDIA_PACER_STALL', { skippedFrames: this.pacer.skippedFrames }, 'event loop stalled, pacer skipped ahead');
    }
    // this frame plays from now + lead frames, and has played one frame later
    const playedAt = now + (this.leadFrames + 1) * FRAME_MS;
    if (this.audioEndsAtMs < now) this.audioEndsAtMs = now;
    this.catchUp(now);
    const toMark = this.buffer.samplesBeforeNextMark();
    if (toMark === 0) this.due(this.buffer.skip(0).marks, this.audioEndsAtMs); // marks right after audio already written
    const avail = this.buffer.bufferedSamples;
    const paused = now - this.lastPushMs >= FRAME_MS;
    const markNext = toMark > 0 && toMark <= this.frameSamples;
    if (avail >= this.frameSamples || (avail > 0 && (paused || markNext))) {
      const r = this.buffer.pull(this.frame, this.frameSamples);
      if (r.samples < this.frameSamples) this.frame.fill(0, r.samples);
      this.audioFrames++;
      this.audioEndsAtMs = playedAt;
      this.due(r.marks, playedAt);
      this.noise?.under(this.frame);
      this.write(this.frame);
    } else {
      this.writeIdle();
    }
    this.answerDue(now);
  }

  /** Drops the oldest queued audio of a standing backlog (see StandingBacklog); marks passed are due with what was written. */
  private catchUp(now: number): void {
    const queuedMs = this.buffer.bufferedMs;
    const samples = Math.floor((this.backlog.check(now, queuedMs) * this.sampleRateHz) / 1000);
    if (samples <= 0) return;
    const r = this.buffer.skip(samples);
    const dropped = r.samples;
    this.due(r.marks, this.audioEndsAtMs);
    const ms = (dropped * 1000) / this.sampleRateHz;
    this.backlog.droppedMs += ms;
    // Expected once per call of a real-time bot (its audio before the pipe played): not a warning.
    this.backlogDropped.inc(ms);
    this.log.debug({ backlogMs: Math.round(queuedMs), droppedMs: Math.round(ms) }, 'a standing backlog of the bot\'s real-time audio cut');
  }

  private due(marks: readonly string[], atMs: number): void {
    for (const m of marks) {
      this.dueNames.push(m);
      this.dueAtMs.push(atMs);
    }
  }

  private answerDue(now: number): void {
    let n = 0;
    while (n < this.dueNames.length && this.dueAtMs[n] <= now) n++;
    if (n === 0) return;
    const names = this.dueNames.splice(0, n);
    this.dueAtMs.splice(0, n);
    for (const m of names) {
      if (this.closed) return;
      this.actions.markPlayed(m);
    }
  }
}
