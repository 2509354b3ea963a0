/**
 * One call's analysis of the caller's audio, run on the worker that carries the call, frame by
 * frame: voice activity (speech_started / speech_stopped), steady tones (beeps, fax), answering-
 * machine detection, the silence timeout and the flat-line half of dead-line detection (a line
 * whose samples do not move at all; a line that sends no audio at all is the media leg's timer).
 * Time is caller-audio time: 20 ms per frame from the first frame. Pure: frames in, events out.
 */
import { VoiceActivityDetector, VAD_FRAME_MS } from './vad.js';
import { ToneDetector } from './tone-detector.js';
import { AnsweringMachineDetector, type AmdDecision, type AmdFrame, type AmdParams } from './amd.js';

export interface CallAnalysisOptions {
  sampleRateHz: 8000 | 16000;
  /** VAD hangover (ms); default the detector's. */
  hangoverMs?: number;
  /** Answering-machine detection; absent: none. `waitForEnd`: go on to machine_end_* after machine_start. */
  amd?: { params: Readonly<AmdParams>; waitForEnd: boolean };
  /** Caller silence (no speech, while the bot is not playing) that fires `silence_timeout`; absent: none. */
  silenceTimeoutMs?: number;
  /** Flat caller audio (every sample the same) for this long, not counting while the bot plays, fires `dead_line`; absent: none. */
  deadLineMs?: number;
}

export type AnalysisEvent =
  | { kind: 'speech_started'; atMs: number }
  | { kind: 'speech_stopped'; atMs: number }
  | { kind: 'beep'; atMs: number; hz: number }
  | { kind: 'amd'; decision: AmdDecision }
  | { kind: 'silence_timeout'; atMs: number }
  | { kind: 'dead_line'; atMs: number };

export class CallAnalysis {
  readonly vad: VoiceActivityDetector;
  readonly tone: ToneDetector;
  readonly amd: AnsweringMachineDetector | null;
  private readonly out: AnalysisEvent[] = [];
  /** What each frame tells the AMD (one object, refilled per frame). */
  private readonly amdFrame: AmdFrame = { atMs: 0, voiced: false, tone: false, toneHz: 0, toneStartMs: 0 };
  private silentMs = 0;
  private flatMs = 0;
  private deadFired = false;
  private beepReported = false;

  constructor(private readonly o: CallAnalysisOptions) {
    this.vad = new VoiceActivityDetector({ sampleRateHz: o.sampleRateHz, hangoverMs: o.hangoverMs });
    this.tone = new ToneDetector({ sampleRateHz: o.sampleRateHz });
    this.amd = o.amd ? new AnsweringMachineDetector(o.amd.params, o.amd.waitForEnd, VAD_FRAME_MS) : null;
  }

  /** Caller audio time so far (ms). */
  get atMs(): number { return this.vad.frames * VAD_FRAME_MS; }

  /** Share of the caller's audio that was speech, 0–1. */
  get speechRatio(): number { return this.vad.frames === 0 ? 0 : this.vad.speechFrames / this.vad.frames; }

  /**
   * One 20 ms frame. `botPlaying`: the bot's audio is playing to the caller (the silence timeout
   * waits meanwhile). The returned array is reused by the next call: read it at once.
   */
  push(frame: Int16Array, botPlaying: boolean): readonly AnalysisEvent[] {
    const out = this.out;
    out.length = 0;
    const v = this.vad.push(frame);
    if (v === 1) out.push({ kind: 'speech_started', atMs: this.vad.startedAtMs });
    else if (v === -1) out.push({ kind: 'speech_stopped', atMs: this.vad.stoppedAtMs });
    this.tone.push(frame);
    const endMs = this.atMs;
    const amd = this.amd;
    if (amd && !amd.done) {
      const f = this.amdFrame;
      f.atMs = endMs;
      f.voiced = this.vad.voiced;
      f.tone = this.tone.on;
      f.toneHz = this.tone.hz;
      f.toneStartMs = this.tone.startedAtMs;
      const d = amd.push(f);
      if (amd.beepStartMs !== null && !this.beepReported) {
        this.beepReported = true;
        out.push({ kind: 'beep', atMs: amd.beepStartMs, hz: Math.round(this.tone.hz) });
      }
      if (d) out.push({ kind: 'amd', decision: d });
    }
    this.trackSilence(botPlaying, endMs, out);
    this.trackFlat(frame, botPlaying, endMs, out);
    return out;
  }

  private trackSilence(botPlaying: boolean, endMs: number, out: AnalysisEvent[]): void {
    const limit = this.o.silenceTimeoutMs;
    if (limit === undefined) return;
    if (this.vad.speaking || botPlaying) { this.silentMs = 0; return; }
    this.silentMs += VAD_FRAME_MS;
    if (this.silentMs >= limit && this.silentMs - VAD_FRAME_MS < limit) {
      out.push({ kind: 'silence_timeout', atMs: endMs });
    }
  }

  /**
   * A run of frames whose samples are all equal (a line carrying no signal at all). Frames while the
   * bot plays do not count (a listener whose phone sends nothing while it hears a long prompt), nor
   * do they end the run.
   */
  private trackFlat(frame: Int16Array, botPlaying: boolean, endMs: number, out: AnalysisEvent[]): void {
    const limit = this.o.deadLineMs;
    if (limit === undefined || this.deadFired) return;
    const first = frame[0];
    let flat = true;
    for (let i = 1; i < frame.length; i++) if (frame[i] !== first) { flat = false; break; }
    if (!flat) this.flatMs = 0;
    else if (!botPlaying) this.flatMs += VAD_FRAME_MS;
    if (this.flatMs >= limit) {
      this.deadFired = true;
      out.push({ kind: 'dead_line', atMs: endMs });
    }
  }
}
