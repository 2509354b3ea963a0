/**
 * Steady-tone detection, one 20 ms frame at a time: the frequency is estimated from the spacing of
 * the zero crossings, then checked with a single Goertzel filter at that frequency — for a pure
 * tone nearly all the frame's energy is there, for speech, noise or a chord little is. A run of
 * such frames at the same frequency (bridging a single frame that is not) is a tone: an answering
 * machine's beep (~400–2000 Hz), or a fax machine's 2100 Hz answer tone. Pure; allocates nothing
 * per frame.
 */

export interface ToneDetectorOptions {
  sampleRateHz: 8000 | 16000;
  /** Frames in a row that make a tone (default 4: 80 ms). */
  minFrames?: number;
  /** Lowest and highest frequency taken as a tone (default 400–2500 Hz: an answering machine's beep, a fax tone; below, held vowels can look like tones). */
  minHz?: number;
  maxHz?: number;
  /** Share of the frame's energy that must be at the tone's frequency (default 0.75). */
  purity?: number;
  /** Quietest tone (default −45 dBFS). */
  minLevelDbfs?: number;
  /** Most the frequency may move between frames, as a share of it (default 0.03). */
  driftRatio?: number;
}

const FULL_SCALE_ENERGY = 32768 * 32768;
/**
 * Frames without the tone that a run bridges: a fax answer tone (V.25 ANS, ITU-T V.8 ANSam)
 * reverses its phase every 450 ms, and the frame holding a reversal is not pure.
 */
const BRIDGE_FRAMES = 1;

export class ToneDetector {
  /** True while a tone is on (minFrames reached, not yet broken). */
  on = false;
  /** Frequency (Hz) of the current or last tone; start and end (ms of caller audio). */
  hz = 0;
  startedAtMs = 0;
  endedAtMs = 0;
  /** Frames seen. */
  frames = 0;

  private readonly rateHz: number;
  private readonly minFrames: number;
  private readonly minHz: number;
  private readonly maxHz: number;
  private readonly purity: number;
  private readonly minEnergy: number;
  private readonly drift: number;
  private run = 0;
  private runHz = 0;
  /** Start of the current run (ms), frames missed since its last tone frame, and where that break began. */
  private runStartMs = 0;
  private missed = 0;
  private breakMs = 0;

  constructor(o: ToneDetectorOptions) {
    this.rateHz = o.sampleRateHz;
    this.minFrames = o.minFrames ?? 4;
    this.minHz = o.minHz ?? 400;
    this.maxHz = o.maxHz ?? 2500;
    this.purity = o.purity ?? 0.75;
    this.minEnergy = FULL_SCALE_ENERGY * 10 ** ((o.minLevelDbfs ?? -45) / 10);
    this.drift = o.driftRatio ?? 0.03;
  }

  /**
   * One frame of 16-bit PCM (any length ≥ a few periods; 20 ms in practice). Returns 1 when a tone
   * was recognised with this frame (startedAtMs is the first frame of its run), -1 when a tone
   * ended (endedAtMs), else 0.
   */
  push(frame: Int16Array): -1 | 0 | 1 {
    const frameMs = (frame.length * 1000) / this.rateHz;
    const startMs = this.frames * frameMs;
    this.frames++;
    const hz = this.pureToneHz(frame);
    const same = hz > 0 && this.run > 0 && Math.abs(hz - this.runHz) <= this.drift * this.runHz;
    if (hz > 0 && (same || this.run === 0)) {
      if (this.run === 0) this.runStartMs = startMs;
      this.runHz = this.run === 0 ? hz : (this.runHz * this.run + hz) / (this.run + 1);
      this.run++;
      this.missed = 0;
      if (!this.on && this.run >= this.minFrames) {
        this.on = true;
        this.hz = this.runHz;
        this.startedAtMs = this.runStartMs;
        return 1;
      }
      return 0;
    }
    // a run survives a short break (a phase reversal, a burst of noise) when the tone comes back
    if (this.run > 0 && this.missed < BRIDGE_FRAMES) {
      if (this.missed++ === 0) this.breakMs = startMs;
      return 0;
    }
    const wasOn = this.on;
    const endMs = this.missed > 0 ? this.breakMs : startMs;
    this.on = false;
    this.missed = 0;
    // a frame of another pure tone starts a new run
    this.run = hz > 0 ? 1 : 0;
    this.runHz = hz;
    this.runStartMs = startMs;
    if (wasOn) {
      this.endedAtMs = endMs;
      return -1;
    }
    return 0;
  }

  /** The frame's frequency when it is a pure tone in range and loud enough, else 0. */
  private pureToneHz(x: Int16Array): number {
    const n = x.length;
    if (n < 16) return 0;
    let energy = 0;
    let first = -1;
    let last = -1;
    let crossings = 0;
    let prev = x[0];
    energy += prev * prev;
    for (let i = 1; i < n; i++) {
      const s = x[i];
      energy += s * s;
      if ((prev < 0 && s >= 0) || (prev >= 0 && s < 0)) {
        // where between i-1 and i the signal crosses zero (linear interpolation)
        const at = i - 1 + prev / (prev - s);
        if (first < 0) first = at;
        last = at;
        crossings++;
      }
      prev = s;
    }
    if (energy / n < this.minEnergy || crossings < 3) return 0;
    const hz = ((crossings - 1) / 2) * (this.rateHz / (last - first));
    if (!(hz >= this.minHz && hz <= this.maxHz)) return 0;
    // Goertzel at hz: power of that frequency against the frame's energy (1 for a pure tone)
    const w = (2 * Math.PI * hz) / this.rateHz;
    const coeff = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const s0 = x[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    const share = (2 * power) / (n * energy);
    return share >= this.purity ? hz : 0;
  }
}
