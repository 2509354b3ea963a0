/**
 * Comfort noise: low-level noise played to the caller instead of digital silence while the bot is
 * silent (a line that goes dead-quiet sounds cut off), and optional ambience mixed under the
 * bot's speech at a set level. Pink-ish noise (white noise through a one-pole low-pass, as room
 * and line noise sound) from a seeded xorshift generator: the same seed gives the same noise.
 * Pure; fills the caller's frames in place and allocates nothing per frame.
 */

export interface ComfortNoiseOptions {
  /** Level of the noise in silence, dBFS (RMS), e.g. −60. */
  levelDbfs: number;
  /** Level of the ambience under the bot's speech, dBFS (RMS); absent: none. */
  ambienceDbfs?: number;
  seed?: number;
}

/** Coefficient of the one-pole low-pass that shapes the white noise (higher: brighter). */
const SHAPE = 0.6;

export class ComfortNoise {
  private state: number;
  private lp = 0;
  private readonly idleGain: number;
  private readonly underGain: number;

  constructor(o: ComfortNoiseOptions) {
    this.state = (o.seed ?? 0x2545f491) >>> 0 || 1;
    this.idleGain = gainFor(o.levelDbfs);
    this.underGain = o.ambienceDbfs === undefined ? 0 : gainFor(o.ambienceDbfs);
  }

  /** Overwrites `frame` with noise at the silence level. */
  fill(frame: Int16Array): void {
    const g = this.idleGain;
    for (let i = 0; i < frame.length; i++) frame[i] = clamp(this.next() * g);
  }

  /** Adds ambience to `frame` (the bot's speech) when an ambience level is set. */
  under(frame: Int16Array): void {
    const g = this.underGain;
    if (g === 0) return;
    for (let i = 0; i < frame.length; i++) frame[i] = clamp(frame[i] + this.next() * g);
  }

  /** Next sample of unit-RMS pink-ish noise. */
  private next(): number {
    let x = this.state;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.state = x;
    // uniform in [-1, 1): RMS 1/√3
    const white = (x / 2147483648 - 1) * Math.sqrt(3);
    this.lp += SHAPE * (white - this.lp);
    return this.lp * NORM;
  }
}

/** One-pole low-pass y += a(x − y) of unit white noise has RMS √(a / (2 − a)): scaled back to 1. */
const NORM = Math.sqrt((2 - SHAPE) / SHAPE);

function gainFor(dbfs: number): number {
  return 32768 * 10 ** (dbfs / 20);
}

function clamp(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
