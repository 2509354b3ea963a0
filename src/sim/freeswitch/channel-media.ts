import type { Clock } from '../../clock.js';
import { to8k, type SampleSource } from './audio-source.js';

/** Samples per 20 ms frame at 8 kHz. */
export const FRAME_SAMPLES = 160;
const FRAME_MS = 20;

export type PlaybackStatus = 'done' | 'break' | 'hangup';

interface ActivePlayback {
  src: SampleSource;
  played: number;
  resolve: (r: { status: PlaybackStatus; samples: number }) => void;
}

/**
 * The media side of one channel: a 20 ms media clock on absolute deadlines while the channel has
 * media (answered or pre-answered); each tick delivers one caller frame to read subscribers and
 * records one frame of what the caller hears (playback + injected audio, else silence) in the ear.
 */
export class ChannelMedia {
  private readSubs = new Set<(pcm: Int16Array) => void>();
  private writeSubs = new Set<(pcm: Int16Array) => void>();
  private ear: Int16Array[] = [];
  private earSamples = 0;
  private inject: Int16Array[] = [];
  private injectSamples = 0;
  private playback: ActivePlayback | undefined;
  private cancelTimer: (() => void) | undefined;
  private startMs = 0;
  private ticks = 0;
  /** Frames dropped because the ear or injection buffer was full. */
  droppedFrames = 0;

  constructor(
    private readonly clock: Clock,
    private readonly callerSource: SampleSource,
    private readonly maxEarSamples = 8000 * 600,
    private readonly maxInjectSamples = 8000 * 60,
  ) {}

  /** Starts the media clock (idempotent). */
  start(): void {
    if (this.cancelTimer) return;
    this.startMs = this.clock.nowMs();
    this.ticks = 0;
    this.schedule();
  }

  /** Stops the clock; a running playback ends with status 'hangup'. */
  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.finishPlayback('hangup');
  }

  private schedule(): void {
    const due = this.startMs + (this.ticks + 1) * FRAME_MS;
    this.cancelTimer = this.clock.setTimeout(() => this.tick(), due - this.clock.nowMs());
  }

  private tick(): void {
    this.ticks++;
    const read = new Int16Array(FRAME_SAMPLES);
    read.set(this.callerSource.read(FRAME_SAMPLES));
    for (const cb of this.readSubs) {
      try { cb(read); } catch { /* a faulty subscriber must not stop the clock */ }
    }
    const out = new Int16Array(FRAME_SAMPLES);
    const pb = this.playback;
    if (pb) {
      const s = pb.src.read(FRAME_SAMPLES);
      out.set(s);
      pb.played += s.length;
    }
    this.mixInjected(out);
    this.recordEar(out);
    for (const cb of this.writeSubs) {
      try { cb(out); } catch { /* a faulty subscriber must not stop the clock */ }
    }
    if (pb && pb.src.ended) this.finishPlayback('done');
    if (this.cancelTimer) this.schedule();
  }

  private mixInjected(out: Int16Array): void {
    let i = 0;
    while (i < out.length && this.inject.length > 0) {
      const head = this.inject[0];
      const k = Math.min(head.length, out.length - i);
      for (let j = 0; j < k; j++) out[i + j] = Math.max(-32768, Math.min(32767, out[i + j] + head[j]));
      i += k;
      this.injectSamples -= k;
      if (k === head.length) this.inject.shift();
      else this.inject[0] = head.subarray(k);
    }
  }

  private recordEar(frame: Int16Array): void {
    if (this.earSamples + frame.length > this.maxEarSamples) { this.droppedFrames++; return; }
    this.ear.push(frame);
    this.earSamples += frame.length;
  }

  private finishPlayback(status: PlaybackStatus): void {
    const pb = this.playback;
    if (!pb) return;
    this.playback = undefined;
    pb.resolve({ status, samples: pb.played });
  }

  /** Plays a source to the caller; resolves when it ended, was broken, or the media stopped. */
  play(src: SampleSource): Promise<{ status: PlaybackStatus; samples: number }> {
    this.finishPlayback('break');
    return new Promise((resolve) => {
      this.playback = { src, played: 0, resolve };
      if (!this.cancelTimer) this.finishPlayback('hangup');
    });
  }

  /** Stops the current playback with status 'break' (uuid_break). Returns whether one was playing. */
  breakPlayback(): boolean {
    const had = this.playback !== undefined;
    this.finishPlayback('break');
    return had;
  }

  get playing(): boolean { return this.playback !== undefined; }

  /** Real-time injected audio; mixed into the next frames. Oldest audio is kept, overflow dropped. */
  writeToEar(pcm: Int16Array, sampleRateHz: number): void {
    const s = to8k(pcm, sampleRateHz);
    if (this.injectSamples + s.length > this.maxInjectSamples) { this.droppedFrames++; return; }
    this.inject.push(Int16Array.from(s));
    this.injectSamples += s.length;
  }

  /** Caller audio subscription (20 ms at 8 kHz). */
  onReadFrame(cb: (pcm: Int16Array) => void): () => void {
    this.readSubs.add(cb);
    return () => { this.readSubs.delete(cb); };
  }

  /** What the caller hears, one 20 ms frame (8 kHz) per tick, silence included (the sofia endpoint sends it as RTP). */
  onWriteFrame(cb: (pcm: Int16Array) => void): () => void {
    this.writeSubs.add(cb);
    return () => { this.writeSubs.delete(cb); };
  }

  /** Everything the caller heard so far, 8 kHz. */
  earRecording(): Int16Array {
    const out = new Int16Array(this.earSamples);
    let o = 0;
    for (const f of this.ear) { out.set(f, o); o += f.length; }
    return out;
  }
}
