/**
 * 8 kHz ↔ 16 kHz resampling of 16-bit PCM into caller-provided buffers.
 *
 * Both directions use the same 7-tap half-band kernel [-1, 0, 9, 16, 9, 0, -1] / 32: upsampling
 * keeps every input sample and fills the midpoints with the 4-point interpolator (-1, 9, 9, -1) / 16;
 * downsampling low-passes with the full kernel and keeps every second sample. Response of the
 * kernel at 16 kHz: 1 kHz -0.03 dB, 3 kHz -2.2 dB, 4 kHz -6 dB, 5 kHz -13 dB, 6 kHz -25 dB,
 * 7 kHz -47 dB, zero at 8 kHz: a simple low-pass, adequate for telephone speech.
 *
 * Each direction is causal and keeps its history between frames, so a stream cut into frames of
 * any length (odd sample counts included) gives the same output as the whole stream at once.
 * Nothing is allocated per call.
 */

function clip16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/**
 * 8 kHz → 16 kHz. Writes exactly `2·n` samples per call; output lags input by 2 input samples
 * (0.25 ms), the first two output pairs come from the zero history.
 */
export class Upsampler8kTo16k {
  // history: x[i-3], x[i-2], x[i-1]
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;

  /**
   * Resamples `n` samples of `input` (default all) into `out`, which must hold `2·n` samples.
   * Returns the number of samples written (`2·n`).
   */
  process(input: Int16Array, out: Int16Array, n: number = input.length): number {
    let a = this.h0;
    let b = this.h1;
    let c = this.h2;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const d = input[i];
      out[o++] = b;
      out[o++] = clip16((9 * (b + c) - a - d + 8) >> 4);
      a = b;
      b = c;
      c = d;
    }
    this.h0 = a;
    this.h1 = b;
    this.h2 = c;
    return o;
  }

  /** Forgets the history (new stream). */
  reset(): void {
    this.h0 = this.h1 = this.h2 = 0;
  }
}

/**
 * 16 kHz → 8 kHz. An odd input sample left over at the end of a call is carried to the next call,
 * so the output count is `floor((carried + n) / 2)`.
 */
export class Downsampler16kTo8k {
  // history: x[k-6] .. x[k-1]
  private readonly hist = new Int32Array(6);
  private phase = 0;

  /**
   * Resamples `n` samples of `input` (default all) into `out`, which must hold
   * `ceil(n / 2)` samples. Returns the number of samples written.
   */
  process(input: Int16Array, out: Int16Array, n: number = input.length): number {
    const h = this.hist;
    let x0 = h[0], x1 = h[1], x2 = h[2], x3 = h[3], x4 = h[4], x5 = h[5];
    let phase = this.phase;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const x6 = input[i];
      if (phase === 1) {
        // kernel centred on x3: -x0 + 9·x2 + 16·x3 + 9·x4 - x6
        out[o++] = clip16((16 * x3 + 9 * (x2 + x4) - x0 - x6 + 16) >> 5);
      }
      phase ^= 1;
      x0 = x1; x1 = x2; x2 = x3; x3 = x4; x4 = x5; x5 = x6;
    }
    h[0] = x0; h[1] = x1; h[2] = x2; h[3] = x3; h[4] = x4; h[5] = x5;
    this.phase = phase;
    return o;
  }

  /** Forgets the history and any carried sample (new stream). */
  reset(): void {
    this.hist.fill(0);
    this.phase = 0;
  }
}
