/**
 * 'file' playback for the community mod_audio_stream, which cannot inject audio in real time:
 * each `streamAudio` message is written by the module to a temp file and announced with
 * `mod_audio_stream::play`; fsbridge then plays that file with `uuid_broadcast` and learns that it
 * finished from `PLAYBACK_STOP` (Playback-File-Path). Captured behaviour: fixtures
 * real-freeswitch README "Which ESL events fire when".
 *
 * Every file costs a gap: `uuid_broadcast` asks FreeSWITCH for 5 lead frames before playing
 * (captured PRIVATE_COMMAND `lead-frames: 5`; API → CHANNEL_EXECUTE took 120 ms). So segments
 * start short for a quick first sound and then grow: the first segment of a talk spurt holds
 * segmentMs, each next one twice as much, up to maxSegmentMs (fewer files, fewer gaps). A segment
 * is also cut short at a mark (a mark always sits on a segment end), when the bot has paused for
 * idleFlushMs, or when FreeSWITCH has nothing left to play and at least segmentMs is waiting.
 * At most maxInFlightSegments are handed to FreeSWITCH ahead of playback, so clear() has little
 * to break and few temp files are written for audio that is then discarded. Marks are answered in
 * order when the PLAYBACK_STOP of the segment before them arrives; a segment whose events never
 * come is treated as played after its duration + playbackGraceMs (MEDIA_PLAYBACK_TIMEOUT).
 *
 * Warnings that a bot or FreeSWITCH can repeat per message (too many marks, a full buffer, refused
 * or timed-out segments) are counted every time but logged the first time and then at most once
 * per logIntervalMs per code, with the count `suppressed` since the previous line (issue 8).
 */
import type { Clock } from '../clock.js';
import type { LogLimiter } from '../observability/log-limiter.js';
import { PlaybackWarnings } from './playback-warnings.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { PlayoutBuffer } from './playout-buffer.js';
import { LagBound } from './lag-bound.js';
import { streamAudioMessage, type PlaybackActions, type PlaybackController } from './playback.js';

/** Options of {@link FilePlayback}. */
export interface FilePlaybackOptions {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  actions: PlaybackActions;
  /** Rate of the audio pushed and sent (8000 or 16000). */
  sampleRateHz: number;
  /** Audio in the first file of a talk spurt. Default 200 ms (docs/media-playback.md explains the choice). */
  segmentMs?: number;
  /** Largest file; segment sizes double from segmentMs up to this. Default 1 600 ms. */
  maxSegmentMs?: number;
  /** Send a partial segment once the bot has sent nothing for this long. Default 60 ms. */
  idleFlushMs?: number;
  /** Segments handed to FreeSWITCH and not yet played. Default 2 (one playing, one queued). */
  maxInFlightSegments?: number;
  /** Bound on queued bot audio. Default 60 000 ms. */
  maxBufferMs?: number;
  /**
   * How far playback may fall behind the bot before the oldest queued audio is dropped to catch
   * up (every file costs FreeSWITCH a gap, so continuous speech would otherwise fall further
   * behind with each one). Default: maxSegmentMs. Infinity: never drop.
   */
  maxLagMs?: number;
  /** Extra time after a segment's duration before it is assumed played. Default 3 000 ms. */
  playbackGraceMs?: number;
  /** Shortest time between two log lines of one repeated warning. Default 10 000 ms. */
  logIntervalMs?: number;
  /**
   * A limiter shared by every call (the daemon's): the lines of a code are then limited across
   * calls, so a fault hitting many calls at once still writes a few lines. Not flushed on close.
   */
  sharedLogs?: LogLimiter;
}

/** Bound on remembered cleared files (a few per clear; more only if PLAYBACK events never come). */
const MAX_CLEARED_FILES = 64;

interface Segment {
  durationMs: number;
  file: string | null;
  done: boolean;
  marksAfter: string[];
}

export class FilePlayback implements PlaybackController {
  readonly segmentSamples: number;
  readonly maxSegmentSamples: number;
  /** Size of the next segment; doubles per segment within a talk spurt. */
  private targetSamples: number;
  private readonly clock: Clock;
  private readonly warnings: PlaybackWarnings;
  private readonly actions: PlaybackActions;
  private readonly sampleRateHz: number;
  private readonly idleFlushMs: number;
  private readonly maxInFlight: number;
  private readonly graceMs: number;
  private readonly lag: LagBound;
  private readonly buffer: PlayoutBuffer;
  private readonly scratch: Int16Array;
  private readonly inFlight: Segment[] = [];
  /** ::play events still to come for segments dropped by clear(); they must not be broadcast. */
  private staleAnnouncements = 0;
  /**
   * Files already broadcast when clear() ran. uuid_break cannot stop a broadcast that FreeSWITCH
   * has taken from its queue but not started yet (it waits for lead frames first): seen on the real
   * FreeSWITCH 1.10.12, such a file played in full after the break. Its PLAYBACK_START breaks it.
   */
  private readonly clearedFiles = new Set<string>();
  private lastPushMs = -Infinity;
  private cancelIdle: (() => void) | null = null;
  private cancelWatchdog: (() => void) | null = null;
  private closed = false;
  private readonly onIdle = (): void => this.idleCheck();
  private readonly onWatchdog = (): void => this.watchdogFired();

  /** Segments sent as streamAudio. */
  segmentsSent = 0;
  /** Segments assumed played after a timeout. */
  segmentsTimedOut = 0;
  /** Audio dropped because playback had fallen more than maxLagMs behind (ms). */
  get droppedLagMs(): number { return this.lag.droppedMs; }

  constructor(opts: FilePlaybackOptions) {
    this.clock = opts.clock;
    this.warnings = new PlaybackWarnings({ clock: opts.clock, logger: opts.logger, metrics: opts.metrics, intervalMs: opts.logIntervalMs, shared: opts.sharedLogs });
    this.actions = opts.actions;
    this.sampleRateHz = opts.sampleRateHz;
    this.idleFlushMs = opts.idleFlushMs ?? 60;
    this.maxInFlight = Math.max(1, opts.maxInFlightSegments ?? 2);
    this.graceMs = opts.playbackGraceMs ?? 3000;
    this.segmentSamples = Math.max(1, Math.round(((opts.segmentMs ?? 200) * opts.sampleRateHz) / 1000));
    this.maxSegmentSamples = Math.max(this.segmentSamples, Math.round(((opts.maxSegmentMs ?? 1600) * opts.sampleRateHz) / 1000));
    this.targetSamples = this.segmentSamples;
    this.lag = new LagBound(opts.maxLagMs ?? (this.maxSegmentSamples * 1000) / opts.sampleRateHz, (this.segmentSamples * 1000) / opts.sampleRateHz);
    this.scratch = new Int16Array(this.maxSegmentSamples);
    this.buffer = new PlayoutBuffer({ sampleRateHz: opts.sampleRateHz, maxBufferMs: opts.maxBufferMs });
  }

  /** Audio waiting in fsbridge (not yet sent to FreeSWITCH), in milliseconds. */
  get queuedMs(): number {
    return this.buffer.bufferedMs;
  }

  get busy(): boolean {
    return this.buffer.bufferedSamples > 0 || this.inFlight.length > 0;
  }

  /** Segments sent and not yet played. */
  get inFlightSegments(): number {
    return this.inFlight.length;
  }

  pushAudio(pcm: Int16Array): void {
    if (this.closed || pcm.length === 0) return;
    if (this.buffer.push(pcm) > 0) {
      this.warnings.warn('MEDIA_PLAYOUT_OVERFLOW', { droppedSamples: this.buffer.droppedSamples }, 'playout buffer full, oldest audio dropped');
    }
    const now = this.clock.nowMs();
    this.lag.pushed(now, (pcm.length * 1000) / this.sampleRateHz);
    this.lastPushMs = now;
    this.pump();
    if (!this.cancelIdle && this.buffer.bufferedSamples > 0) {
      this.cancelIdle = this.clock.setTimeout(this.onIdle, this.idleFlushMs);
    }
  }

  mark(name: string): void {
    if (this.closed) return;
    if (this.buffer.mark(name)) {
      this.pump();
      return;
    }
    // too many pending marks: answer this one at once so that the bot is never left waiting
    this.warnings.warn('MEDIA_TOO_MANY_MARKS', {}, 'too many pending marks, answered at once');
    this.actions.markPlayed(name);
  }

  clear(): void {
    if (this.closed) return;
    this.actions.breakAll();
    this.lag.reset();
    const names: string[] = [];
    for (const s of this.inFlight) {
      if (s.file === null) this.staleAnnouncements++;
      else if (s.file !== '' && this.clearedFiles.size < MAX_CLEARED_FILES) this.clearedFiles.add(s.file);
      for (const m of s.marksAfter) names.push(m);
    }
    this.inFlight.length = 0;
    for (const m of this.buffer.clear()) names.push(m);
    this.targetSamples = this.segmentSamples;
    this.stopWatchdog();
    for (const m of names) this.actions.markPlayed(m);
  }

  onPlay(file: string): void {
    if (this.closed) return;
    const seg = this.inFlight.find((s) => s.file === null);
    if (!seg) {
      if (this.staleAnnouncements > 0) this.staleAnnouncements--;
      return;
    }
    // ::play events come in the order the module received our messages, so they match in order
    // (files are numbered <uuid>_0, _1 … per stream). Announcements for cleared segments come first.
    if (this.staleAnnouncements > 0) {
      this.staleAnnouncements--;
      return;
    }
    seg.file = file;
    this.actions.broadcast(file);
  }

  onRejected(): void {
    if (this.closed) return;
    if (this.staleAnnouncements > 0) {
      this.staleAnnouncements--;
      return;
    }
    const seg = this.inFlight.find((s) => s.file === null);
    if (!seg) return;
    this.warnings.warn('MEDIA_PLAYBACK_REJECTED', {}, 'mod_audio_stream refused a streamAudio segment');
    seg.file = '';
    seg.done = true;
    this.completeHead();
  }

  /** `PLAYBACK_START` fired for this `Playback-File-Path`: a file cleared before it started is broken now. */
  onPlaybackStart(file: string): void {
    if (this.closed || !this.clearedFiles.delete(file)) return;
    this.actions.breakCurrent();
  }

  onPlaybackStop(file: string): void {
    if (this.closed || file === '') return;
    this.clearedFiles.delete(file);
    const seg = this.inFlight.find((s) => s.file === file);
    if (!seg) return; // someone else's playback, or a segment dropped by clear()
    seg.done = true;
    this.completeHead();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cancelIdle) this.cancelIdle();
    this.cancelIdle = null;
    this.stopWatchdog();
    this.buffer.clear();
    this.inFlight.length = 0;
    this.clearedFiles.clear();
    this.warnings.flush();
  }


  /** Answers marks of finished segments at the head, in order, and refills the pipeline. */
  private completeHead(): void {
    let progressed = false;
    while (this.inFlight.length > 0 && this.inFlight[0].done) {
      const seg = this.inFlight.shift()!;
      progressed = true;
      for (const m of seg.marksAfter) this.actions.markPlayed(m);
      if (this.closed) return;
    }
    if (progressed) {
      this.stopWatchdog();
      this.armWatchdog();
      this.pump();
    }
  }

  /** Moves audio from the buffer to FreeSWITCH while the pipeline has room. Bounded by maxInFlight. */
  private pump(): void {
    for (let guard = 0; guard < 4 * this.maxInFlight + 4 && !this.closed; guard++) {
      const toMark = this.buffer.samplesBeforeNextMark();
      if (toMark === 0) {
        // marks with no audio before them in the buffer: they follow the last segment sent
        const marks = this.buffer.skip(0).marks;
        const last = this.inFlight[this.inFlight.length - 1];
        if (last) for (const m of marks) last.marksAfter.push(m);
        else for (const m of marks) this.actions.markPlayed(m);
        continue;
      }
      if (this.inFlight.length >= this.maxInFlight) return;
      const avail = this.buffer.bufferedSamples;
      if (avail === 0) return;
      const idle = this.clock.nowMs() - this.lastPushMs >= this.idleFlushMs;
      const target = toMark > 0 ? Math.min(this.targetSamples, toMark) : this.targetSamples;
      // FreeSWITCH idle: do not wait for a grown target, send what is there (at least segmentMs)
      const starving = this.inFlight.length === 0 && avail >= Math.min(this.segmentSamples, target);
      if (avail < target && !idle && !starving) return;
      if (this.catchUp()) continue;
      const limit = Math.min(target, avail);
      const r = this.buffer.pull(this.scratch, limit);
      const seg: Segment = {
        durationMs: (r.samples * 1000) / this.sampleRateHz,
        file: null,
        done: false,
        marksAfter: r.marks.length > 0 ? [...r.marks] : [],
      };
      this.inFlight.push(seg);
      this.segmentsSent++;
      this.actions.sendText(streamAudioMessage(this.scratch, r.samples, this.sampleRateHz));
      if (this.inFlight.length === 1) this.armWatchdog();
      // a paused bot starts a new talk spurt: begin small again
      this.targetSamples = idle && this.buffer.bufferedSamples === 0
        ? this.segmentSamples
        : Math.min(this.maxSegmentSamples, this.targetSamples * 2);
    }
  }

  /**
   * Drops the oldest queued audio when the next segment would start more than maxLagMs after it
   * was due (its start: now + what is handed to FreeSWITCH and not played, an upper bound), down
   * to one first segment under maxLagMs. Marks passed are answered with the segment before them. Returns
   * true when it dropped something.
   */
  private catchUp(): boolean {
    const startsMs = this.clock.nowMs() + this.inFlight.reduce((ms, seg) => ms + seg.durationMs, 0);
    const dropMs = this.lag.excessMs(startsMs, this.buffer.bufferedMs);
    const samples = Math.floor((dropMs * this.sampleRateHz) / 1000);
    if (samples <= 0) return false;
    const lagMs = this.lag.lagMs(startsMs, this.buffer.bufferedMs);
    const toMark = this.buffer.samplesBeforeNextMark();
    const r = this.buffer.skip(toMark > 0 ? Math.min(samples, toMark) : samples);
    this.lag.droppedMs += (r.samples * 1000) / this.sampleRateHz;
    const last = this.inFlight[this.inFlight.length - 1];
    if (last) for (const m of r.marks) last.marksAfter.push(m);
    else for (const m of r.marks) this.actions.markPlayed(m);
    this.warnings.warn('MEDIA_PLAYBACK_BEHIND', { lagMs: Math.round(lagMs), droppedMs: Math.round(this.lag.droppedMs) }, 'playback fell behind the bot: oldest queued audio dropped');
    return r.samples > 0;
  }

  private idleCheck(): void {
    this.cancelIdle = null;
    if (this.closed) return;
    const wait = this.lastPushMs + this.idleFlushMs - this.clock.nowMs();
    if (wait > 0) {
      this.cancelIdle = this.clock.setTimeout(this.onIdle, wait);
      return;
    }
    this.pump();
  }

  /** Watches the head segment: it started (at the latest) now, so it ends by duration + grace. */
  private armWatchdog(): void {
    if (this.cancelWatchdog || this.inFlight.length === 0) return;
    this.cancelWatchdog = this.clock.setTimeout(this.onWatchdog, this.inFlight[0].durationMs + this.graceMs);
  }

  private stopWatchdog(): void {
    if (this.cancelWatchdog) this.cancelWatchdog();
    this.cancelWatchdog = null;
  }

  private watchdogFired(): void {
    this.cancelWatchdog = null;
    if (this.closed || this.inFlight.length === 0) return;
    const head = this.inFlight[0];
    this.segmentsTimedOut++;
    this.warnings.warn('MEDIA_PLAYBACK_TIMEOUT', { file: head.file }, 'no PLAYBACK_STOP for a segment, assumed played');
    if (head.file === null) this.staleAnnouncements++;
    head.done = true;
    this.completeHead();
  }
}
