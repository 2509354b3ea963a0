import { endianness } from 'node:os';

/**
 * 16-bit PCM ↔ little-endian bytes (L16 as the bot protocols carry it). On a little-endian host
 * (every platform Node ships for in practice) both directions are a plain byte copy.
 */

const LE = endianness() === 'LE';

/** Writes `pcm` as little-endian 16-bit samples into `out` at `offset`; returns bytes written. */
export function pcmToLeBytes(pcm: Int16Array, out: Buffer, offset = 0): number {
  const n = pcm.length * 2;
  if (LE) {
    out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, n), offset);
  } else {
    for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i], offset + i * 2);
  }
  return n;
}

/** A new Int16Array from `n` little-endian bytes (n even) at the start of `bytes`. */
export function leBytesToPcm(bytes: Uint8Array, n: number): Int16Array {
  const pcm = new Int16Array(n >> 1);
  if (LE) {
    new Uint8Array(pcm.buffer).set(bytes.subarray(0, n));
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < pcm.length; i++) pcm[i] = dv.getInt16(i * 2, true);
  }
  return pcm;
}
