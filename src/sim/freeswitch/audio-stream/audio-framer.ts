import type { MixType } from './api-command.js';

/**
 * Turns 20 ms caller frames (L16, 8 kHz) into the messages mod_audio_stream sends: resampled to the
 * requested rate, `channels` interleaved, accumulated to STREAM_BUFFER_SIZE ms and emitted only when
 * the buffer is exactly full. Preallocated: no allocation per frame except the emitted message copy.
 *
 * Simplifications (the port gives only the caller's audio, not what the channel writes):
 * - `mixed` sends the caller audio alone (real: caller + channel output summed);
 * - `stereo` sends L = caller, R = silence (real: R = channel output; a parked leg sends nothing).
 * Resampling is linear interpolation (real: speex), so sample values differ slightly from FreeSWITCH.
 */
export class AudioFramer {
  private readonly factor: number;
  private readonly channels: number;
  private readonly buf: Int16Array;
  private fill = 0;
  private prev = 0;

  constructor(readonly rateHz: number, readonly mix: MixType, bufferMs: number) {
    this.factor = Math.max(1, Math.round(rateHz / 8000));
    this.channels = mix === 'stereo' ? 2 : 1;
    const ms = normaliseBufferMs(bufferMs);
    this.buf = new Int16Array((rateHz / 1000) * ms * this.channels);
  }

  /** Bytes in each emitted message. */
  get messageBytes(): number {
    return this.buf.length * 2;
  }

  /** Adds one 8 kHz frame; calls `emit` with a little-endian L16 message each time the buffer fills. */
  push(pcm8k: Int16Array, emit: (msg: Buffer) => void): void {
    const k = this.factor;
    const ch = this.channels;
    for (let i = 0; i < pcm8k.length; i++) {
      const x = pcm8k[i]!;
      for (let m = 1; m <= k; m++) {
        const s = k === 1 ? x : Math.round(this.prev + ((x - this.prev) * m) / k);
        this.buf[this.fill++] = s;
        if (ch === 2) this.buf[this.fill++] = 0;
        if (this.fill === this.buf.length) {
          emit(toLittleEndian(this.buf));
          this.fill = 0;
        }
      }
      this.prev = x;
    }
  }

  /** Drops any partial buffer (pause flushes the media bug). */
  reset(): void {
    this.fill = 0;
  }
}

/** STREAM_BUFFER_SIZE: a multiple of 20 ms, at least 20; anything else means 20. */
export function normaliseBufferMs(v: number | string | undefined): number {
  const n = typeof v === 'number' ? v : v === undefined ? NaN : Number.parseInt(v, 10);
  return Number.isInteger(n) && n >= 20 && n % 20 === 0 && n <= 10_000 ? n : 20;
}

function toLittleEndian(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}
