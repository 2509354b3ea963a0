/**
 * Answering-machine detection from the speech pattern after answer, frame by frame, with the
 * classic parameters of open telephony AMD (initial silence, greeting length, silence after the
 * greeting, number of words, total analysis time): a person says a few words and waits; a machine
 * talks on. After a `machine` decision it can go on listening for the greeting's end — a beep or a
 * silence — to know when a message can be left. A steady 2100 Hz (or 1100 Hz) tone before any
 * word is a fax machine. Pure: it sees booleans and tone facts per frame, and returns decisions.
 * Result names are Twilio's `AnsweredBy` values.
 */

export type AnsweredBy =
  | 'human' | 'machine_start' | 'machine_end_beep' | 'machine_end_silence' | 'machine_end_other' | 'fax' | 'unknown';

/** The parameters (milliseconds unless named otherwise); defaults in AMD_DEFAULTS. */
export interface AmdParams {
  /** Silence before any word longer than this: `unknown` (nobody speaks). */
  initialSilenceMs: number;
  /** Speech in the greeting longer than this: `machine`. */
  greetingMs: number;
  /** Silence after the first words longer than this: `human` (a person waits for an answer). */
  afterGreetingSilenceMs: number;
  /** No decision by then: `unknown`. */
  totalAnalysisMs: number;
  /** Speech this long counts as a word. */
  minWordMs: number;
  /** Silence this long ends a word. */
  betweenWordsSilenceMs: number;
  /** This many words: `machine`. */
  maxWords: number;
  /** After `machine`: silence this long ends the greeting (`machine_end_silence`). */
  machineEndSilenceMs: number;
  /** After `machine`: no beep or silence by this time after answer gives `machine_end_other`. */
  machineEndTimeoutMs: number;
  /** A fax tone held this long before any word: `fax`. */
  faxToneMs: number;
}

/**
 * The classic parameters (FreeSWITCH mod_amd, Asterisk app_amd), three of them tuned on the train
 * split of the labelled corpus (bench/lib/amd-corpus.ts; figures in docs/benchmarks.md). A word
 * ends after 100 ms of silence, not 50: the VAD's frame decision drops out in a stop consonant's
 * closure, which made two words of "hello". So four words, not three, make a machine ("Hello,
 * sorry, who is this?" is three). 600 ms of silence after the greeting, not 800, make a human: a
 * person is decided at the end of their words plus this; greetings pause up to ~500 ms between
 * sentences.
 */
export const AMD_DEFAULTS: Readonly<AmdParams> = Object.freeze({
  initialSilenceMs: 2500,
  greetingMs: 1500,
  afterGreetingSilenceMs: 600,
  totalAnalysisMs: 5000,
  minWordMs: 100,
  betweenWordsSilenceMs: 100,
  maxWords: 4,
  machineEndSilenceMs: 1500,
  machineEndTimeoutMs: 30_000,
  faxToneMs: 500,
});

/** What one frame tells the detector. */
export interface AmdFrame {
  /** Time at the end of this frame (ms after answer). */
  atMs: number;
  /** The frame looked like speech (VAD before onset and hangover). */
  voiced: boolean;
  /** A steady tone is on in this frame, at toneHz, since toneStartMs. */
  tone: boolean;
  toneHz: number;
  toneStartMs: number;
}

/** A decision: the result, when it was made (ms after answer) and why (for logs and tests). */
export interface AmdDecision { answeredBy: AnsweredBy; atMs: number; reason: string; beepStartMs?: number }

/** Frequencies of a fax machine's tones: CED (answering, 2100 Hz) and CNG (calling, 1100 Hz). */
function isFaxTone(hz: number): boolean {
  return Math.abs(hz - 2100) <= 60 || Math.abs(hz - 1100) <= 40;
}

/** Longest beep waited for before the message may start anyway. */
const MAX_BEEP_MS = 2000;
/**
 * A steady tone counts as a beep once it has lasted this long: a held vowel can be as pure as a
 * tone for a few frames (seen on the labelled set: a 307 Hz vowel mid-greeting), a beep lasts
 * 250 ms or more.
 */
export const MIN_BEEP_MS = 160;

export class AnsweringMachineDetector {
  /** The first decision (human, machine_start, fax, unknown), once made. */
  first: AmdDecision | null = null;
  /** After machine_start when waiting for the end: the machine_end_* decision, once made. */
  end: AmdDecision | null = null;
  /** Where a beep started (ms after answer), once heard after a machine greeting. */
  beepStartMs: number | null = null;

  private words = 0;
  private inWord = false;
  private voiceRunMs = 0;
  private silenceMs = 0;
  private greetingVoiceMs = 0;
  private readonly frameMs: number;

  /** `waitForEnd`: after machine_start, go on until the greeting's end (beep, silence or timeout). */
  constructor(private readonly p: Readonly<AmdParams>, private readonly waitForEnd: boolean, frameMs = 20) {
    this.frameMs = frameMs;
  }

  /** True when nothing more will be decided. */
  get done(): boolean {
    if (!this.first) return false;
    return this.first.answeredBy !== 'machine_start' || !this.waitForEnd || this.end !== null;
  }

  /** One frame; returns the decision made with it, or null. */
  push(f: AmdFrame): AmdDecision | null {
    if (this.done) return null;
    if (this.first) return this.listenForEnd(f);
    return this.analyse(f);
  }

  private analyse(f: AmdFrame): AmdDecision | null {
    const p = this.p;
    if (f.tone && this.words === 0 && isFaxTone(f.toneHz) && f.atMs - f.toneStartMs >= p.faxToneMs) {
      return this.decide('fax', f.atMs, 'fax tone');
    }
    // a beep after words: the greeting was a machine's, and it has ended
    if (f.tone && this.words > 0 && !isFaxTone(f.toneHz) && f.atMs - f.toneStartMs >= MIN_BEEP_MS) {
      this.beepStartMs = f.toneStartMs;
      const d = this.decide('machine_start', f.atMs, 'beep after words');
      return this.waitForEnd ? this.listenForEnd(f) ?? d : d;
    }
    // a held tone is not speech (hold music, ringback): it neither counts as words nor as silence
    const voiced = f.voiced && !f.tone;
    if (voiced) {
      this.silenceMs = 0;
      this.voiceRunMs += this.frameMs;
      this.greetingVoiceMs += this.frameMs;
      if (!this.inWord && this.voiceRunMs >= p.minWordMs) {
        this.inWord = true;
        this.words++;
        if (this.words >= p.maxWords) return this.decide('machine_start', f.atMs, 'max words');
      }
      if (this.greetingVoiceMs >= p.greetingMs) return this.decide('machine_start', f.atMs, 'long greeting');
    } else if (!f.tone) {
      this.silenceMs += this.frameMs;
      if (this.silenceMs >= p.betweenWordsSilenceMs) {
        this.inWord = false;
        this.voiceRunMs = 0;
      }
      if (this.words === 0 && this.silenceMs >= p.initialSilenceMs) return this.decide('unknown', f.atMs, 'initial silence');
      if (this.words > 0 && this.silenceMs >= p.afterGreetingSilenceMs) return this.decide('human', f.atMs, 'silence after greeting');
    }
    if (f.atMs >= p.totalAnalysisMs) return this.decide('unknown', f.atMs, 'total analysis time');
    return null;
  }

  /** After machine_start: a beep (decided when it ends), a silence, or the time limit. */
  private listenForEnd(f: AmdFrame): AmdDecision | null {
    const p = this.p;
    if (this.beepStartMs === null && f.tone && !isFaxTone(f.toneHz) && f.atMs - f.toneStartMs >= MIN_BEEP_MS) this.beepStartMs = f.toneStartMs;
    if (this.beepStartMs !== null) {
      if (!f.tone || f.atMs - this.beepStartMs >= MAX_BEEP_MS) return this.decideEnd('machine_end_beep', f.atMs, 'beep');
      return null;
    }
    if (f.atMs >= p.machineEndTimeoutMs) return this.decideEnd('machine_end_other', f.atMs, 'machine end timeout');
    // a tone not (yet) long enough for a beep is neither speech nor silence
    if (f.tone) return null;
    if (f.voiced) this.silenceMs = 0;
    else this.silenceMs += this.frameMs;
    if (this.silenceMs >= p.machineEndSilenceMs) return this.decideEnd('machine_end_silence', f.atMs, 'silence after greeting');
    return null;
  }

  private decide(answeredBy: AnsweredBy, atMs: number, reason: string): AmdDecision {
    this.first = { answeredBy, atMs, reason };
    this.silenceMs = 0;
    return this.first;
  }

  private decideEnd(answeredBy: AnsweredBy, atMs: number, reason: string): AmdDecision {
    this.end = { answeredBy, atMs, reason, ...(this.beepStartMs !== null ? { beepStartMs: this.beepStartMs } : {}) };
    return this.end;
  }
}
