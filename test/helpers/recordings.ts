// What the recording tests check on a WAV the API gave and on the encrypted files under a directory.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A 16-bit stereo WAV (44-byte header) split into its channels. */
export function splitStereoWav(wav: Buffer): { left: Int16Array; right: Int16Array; channels: number; rateHz: number } {
  const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
  const left = new Int16Array(pcm.length / 2);
  const right = new Int16Array(pcm.length / 2);
  for (let i = 0; i < left.length; i++) { left[i] = pcm[2 * i]; right[i] = pcm[2 * i + 1]; }
  return { left, right, channels: wav.readUInt16LE(22), rateHz: wav.readUInt32LE(24) };
}

/** The files under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** How many 16-byte runs of `plain`, taken every `step` bytes, appear as they are in `file`. */
export function clearRuns(file: Buffer, plain: Buffer, step = 1001): number {
  let found = 0;
  for (let off = 0; off + 16 <= plain.length; off += step) if (file.includes(plain.subarray(off, off + 16))) found++;
  return found;
}
