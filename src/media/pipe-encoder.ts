/**
 * The playback pipe's format: mod_native_file plays `<name>.<codec>` in that codec at 8 kHz, and a
 * channel whose write codec it is gets the bytes as they are (no transcoding). PCMU and PCMA
 * channels get their own codec; every other channel (L16 loopback channels, G.722, Opus …) gets
 * `.L16`, 16-bit linear in host byte order, which FreeSWITCH transcodes where needed.
 */
import { alawEncode, ulawEncode } from './g711.js';
import { Downsampler16kTo8k } from './resample.js';

/** The codec (and file extension) of a playback pipe. */
export type PipeCodec = 'L16' | 'PCMU' | 'PCMA';

/** The pipe codec for a channel whose write codec is `writeCodec` (FreeSWITCH's `write_codec`). */
export function pipeCodecFor(writeCodec: string | undefined): PipeCodec {
  const c = (writeCodec ?? '').toUpperCase();
  return c === 'PCMU' || c === 'PCMA' ? c : 'L16';
}

/** Byte of silence per codec sample (G.711 codes of 0; L16 is two zero bytes). */
const SILENCE_BYTE: Record<PipeCodec, number> = { L16: 0, PCMU: 0xff, PCMA: 0xd5 };

/**
 * Turns frames of 16-bit linear audio at 8 or 16 kHz into the pipe's bytes at 8 kHz. One per call
 * (the 16 → 8 kHz filter keeps state); encode() reuses its output buffer.
 */
export class PipeEncoder {
  readonly bytesPerSample: number;
  private readonly down: Downsampler16kTo8k | null;
  private pcm8k: Int16Array;
  private out: Buffer;

  constructor(readonly codec: PipeCodec, readonly inRateHz: 8000 | 16000) {
    this.bytesPerSample = codec === 'L16' ? 2 : 1;
    this.down = inRateHz === 16000 ? new Downsampler16kTo8k() : null;
    this.pcm8k = new Int16Array(160);
    this.out = Buffer.alloc(160 * this.bytesPerSample);
  }

  /** `n` samples of silence at 8 kHz, in the pipe's codec (a new buffer). */
  silence(n: number): Buffer {
    return Buffer.alloc(n * this.bytesPerSample, SILENCE_BYTE[this.codec]);
  }

  /** One frame in the pipe's bytes; valid until the next call. */
  encode(pcm: Int16Array): Buffer {
    let src = pcm;
    let n = pcm.length;
    if (this.down) {
      if (this.pcm8k.length < (pcm.length >> 1) + 1) this.pcm8k = new Int16Array((pcm.length >> 1) + 1);
      n = this.down.process(pcm, this.pcm8k, pcm.length);
      src = this.pcm8k;
    }
    const bytes = n * this.bytesPerSample;
    if (this.out.length < bytes) this.out = Buffer.alloc(bytes);
    const out = this.out.subarray(0, bytes);
    if (this.codec === 'PCMU') ulawEncode(src, out, n);
    else if (this.codec === 'PCMA') alawEncode(src, out, n);
    else out.set(new Uint8Array(src.buffer, src.byteOffset, bytes));
    return out;
  }
}
