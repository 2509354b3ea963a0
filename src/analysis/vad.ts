/**
 * Voice activity detection on the caller's audio, one 20 ms frame at a time: frame energy (above
 * 150 Hz) against an adaptive noise floor, helped by the zero-crossing rate, with an onset of a few
 * frames and a hangover so that words are not chopped; a talkspurt's start is set back over the
 * frames just before the onset that already rose out of the noise. Pure: it owns no timer and
 * allocates nothing per frame; time is the caller's audio time (frames seen × frame length).
 *
 * The noise floor is the lowest frame energy of the last ~1.5 s (minimum statistics, kept as the
 * minima of 5 blocks), so steady noise, hum or a held tone is absorbed within that time while the
 * short dips between words keep it low during speech.
 */

export interface VadOptions {
  sampleRateHz: 8000 | 16000;
  /** Frames of speech in a row that start a talkspurt (default 2: 40 ms). */
  onsetFrames?: number;
  /** Silence kept as speech after the last speech frame, so words are not chopped (default 300 ms). */
  hangoverMs?: number;
  /** A frame is speech when its energy is this far above the noise floor (default 9 dB)… */
  marginDb?: number;
  /** … and above this absolute level (default −50 dBFS). */
  minLevelDbfs?: number;
}

/** Frame length the detector works with. */
export const VAD_FRAME_MS = 20;

const BLOCKS = 5;
const BLOCK_FRAMES = 15;
const FULL_SCALE_ENERGY = 32768 * 32768;
/** Noise floor never below this (−75 dBFS): digital silence must not make every click speech. */
const FLOOR_MIN = FULL_SCALE_ENERGY * 10 ** (-75 / 10);
/** Zero crossings per second above which a frame needs a higher margin (noise-like, unvoiced). */
const NOISY_ZC_PER_SEC = 2600;
/** Extra margin for noise-like frames (dB). */
const NOISY_EXTRA_DB = 6;
/**
 * Energy and zero crossings are taken after a first-order high-pass at this frequency: the
 * telephone band starts at 300 Hz, and rumble, wind or DC below it (brown noise) moves the energy
 * of a 20 ms frame by ±10 dB from one frame to the next, which no noise floor can follow.
 */
const HIGH_PASS_HZ = 150;
/**
 * A talkspurt's start is moved back over the frames just before it that were already this far
 * above the floor (a lower threshold, as in Rabiner and Sambur's endpoint detector): the first
 * sounds of a word (/h/, /s/, a soft vowel onset) rise out of the noise before the speech margin.
 */
const ONSET_LOW_MARGIN_DB = 3;
/** … by at most this many frames. */
const ONSET_BACK_FRAMES = 5;

export class VoiceActivityDetector {
  /** True while in a talkspurt (onset reached, hangover not run out). */
  speaking = false;
  /** This frame alone looked like speech (before onset and hangover). */
  voiced = false;
  /** Energy of the last frame (mean square, 16-bit units) and the current noise floor. */
  energy = 0;
  floor = FLOOR_MIN;
  /** Frames seen; time of the last frame's end is frames × 20 ms. */
  frames = 0;
  /** Frames counted as speech (talkspurts including hangover), for the call's speech ratio. */
  speechFrames = 0;
  /** Start of the current / last talkspurt (ms of caller audio), and end of the last one. */
  startedAtMs = 0;
  stoppedAtMs = 0;

  private readonly margin: number;
  private readonly lowMargin: number;
  private readonly noisyMargin: number;
  private readonly minEnergy: number;
  private readonly onsetFrames: number;
  private readonly hangoverFrames: number;
  private readonly rateHz: number;
  /** High-pass y[n] = x[n] − x[n−1] + a·y[n−1]: its coefficient and state (last input and output). */
  private readonly hpA: number;
  private hpX = 0;
  private hpY = 0;
  private run = 0;
  /** Frames in a row above the low threshold (up to this one). */
  private rise = 0;
  private quiet = 0;
  private lastVoicedEndMs = 0;
  /** Frames from here on are not in speechFrames (the end of the last talkspurt's hangover). */
  private uncountedFromMs = 0;
  private readonly blockMin = new Float64Array(BLOCKS).fill(Infinity);
  private block = 0;
  private inBlock = 0;

  constructor(o: VadOptions) {
    const marginDb = o.marginDb ?? 9;
    this.margin = 10 ** (marginDb / 10);
    this.lowMargin = 10 ** (ONSET_LOW_MARGIN_DB / 10);
    this.noisyMargin = 10 ** ((marginDb + NOISY_EXTRA_DB) / 10);
    this.minEnergy = FULL_SCALE_ENERGY * 10 ** ((o.minLevelDbfs ?? -50) / 10);
    this.onsetFrames = o.onsetFrames ?? 2;
    this.hangoverFrames = Math.max(1, Math.round((o.hangoverMs ?? 300) / VAD_FRAME_MS));
    this.rateHz = o.sampleRateHz;
    this.hpA = Math.exp((-2 * Math.PI * HIGH_PASS_HZ) / o.sampleRateHz);
  }

  /**
   * One frame (20 ms of 16-bit PCM at the detector's rate). Returns 1 when a talkspurt started with
   * this frame (startedAtMs says where), -1 when one ended (stoppedAtMs), else 0.
   */
  push(frame: Int16Array): -1 | 0 | 1 {
    const n = frame.length;
    const a = this.hpA;
    let x1 = this.hpX;
    let y = this.hpY;
    let sum = 0;
    let zc = 0;
    let neg = y < 0;
    for (let i = 0; i < n; i++) {
      const x = frame[i];
      y = x - x1 + a * y;
      x1 = x;
      sum += y * y;
      if (y < 0 !== neg) { zc++; neg = !neg; }
    }
    this.hpX = x1;
    this.hpY = y;
    const e = n > 0 ? sum / n : 0;
    this.energy = e;
    this.trackFloor(e);
    const zcPerSec = n > 0 ? (zc * this.rateHz) / n : 0;
    const margin = zcPerSec > NOISY_ZC_PER_SEC ? this.noisyMargin : this.margin;
    const voiced = e >= this.minEnergy && e >= this.floor * margin;
    this.voiced = voiced;
    this.rise = e >= this.floor * this.lowMargin ? this.rise + 1 : 0;
    const startMs = this.frames * VAD_FRAME_MS;
    this.frames++;
    let change: -1 | 0 | 1 = 0;
    if (voiced) {
      this.run++;
      this.quiet = 0;
      this.lastVoicedEndMs = startMs + VAD_FRAME_MS;
      if (!this.speaking && this.run >= this.onsetFrames) {
        this.speaking = true;
        // back over the onset frames, and over the rise before them that was above the low threshold
        const back = Math.min(Math.max(this.onsetFrames, this.rise), this.onsetFrames + ONSET_BACK_FRAMES) - 1;
        this.startedAtMs = Math.max(this.stoppedAtMs, startMs - back * VAD_FRAME_MS);
        // those frames were speech too (the ones not already counted as the last talkspurt's hangover)
        this.speechFrames += (startMs - Math.max(this.startedAtMs, this.uncountedFromMs)) / VAD_FRAME_MS;
        change = 1;
      }
    } else {
      this.run = 0;
      if (this.speaking && ++this.quiet >= this.hangoverFrames) {
        this.speaking = false;
        this.stoppedAtMs = this.lastVoicedEndMs;
        this.uncountedFromMs = startMs;
        change = -1;
      }
    }
    if (this.speaking) this.speechFrames++;
    return change;
  }

  /** Minimum statistics: the floor is the lowest energy of the last BLOCKS × BLOCK_FRAMES frames. */
  private trackFloor(e: number): void {
    const m = this.blockMin;
    if (e < m[this.block]) m[this.block] = e;
    if (++this.inBlock >= BLOCK_FRAMES) {
      this.inBlock = 0;
      this.block = (this.block + 1) % BLOCKS;
      m[this.block] = Infinity;
    }
    let floor = Infinity;
    for (let i = 0; i < BLOCKS; i++) if (m[i] < floor) floor = m[i];
    this.floor = floor < FLOOR_MIN ? FLOOR_MIN : floor;
  }
}
