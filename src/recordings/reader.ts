/**
 * Reading an encrypted recording (format.ts): scan() finds its header and chunks without
 * decrypting (so a WAV's length is known before the first byte is sent), decrypt() yields the
 * plaintext chunk by chunk, each authenticated first. A file cut short by a crash is read up to
 * its last whole chunk (`complete: false`).
 */
import { open } from 'node:fs/promises';
import { FsbridgeError } from '../errors.js';
import { FLAG_FINAL, MAX_CHUNK_BYTES, TAG_BYTES, chunkContext, openChunk, parseHeader, type RecordingHeader } from './format.js';

export interface ScannedChunk { offset: number; sealedBytes: number; flags: number }

export interface ScannedRecording {
  header: RecordingHeader;
  headerBytes: Buffer;
  chunks: ScannedChunk[];
  /** Bytes of audio (16-bit stereo) in the whole chunks. */
  plainBytes: number;
  /** The last chunk is marked final: the recording was closed, not cut short. */
  complete: boolean;
}

/** Reads the structure of the recording at `path`; RECORDING_CORRUPT when it is not one. */
export async function scanRecording(path: string): Promise<ScannedRecording> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(size, 8192));
    await fh.read(head, 0, head.length, 0);
    const parsed = parseHeader(head);
    if (typeof parsed === 'string') throw new FsbridgeError('RECORDING_CORRUPT', `${path}: ${parsed === 'short' ? 'no whole header' : parsed}`);
    const chunks: ScannedChunk[] = [];
    let plainBytes = 0;
    let off = parsed.bytes.length;
    const frame = Buffer.alloc(5);
    while (off + 5 <= size) {
      await fh.read(frame, 0, 5, off);
      const sealedBytes = frame.readUInt32BE(0);
      const flags = frame.readUInt8(4);
      if (sealedBytes < TAG_BYTES || sealedBytes > MAX_CHUNK_BYTES + TAG_BYTES) throw new FsbridgeError('RECORDING_CORRUPT', `${path}: chunk ${chunks.length} has a bad length`);
      if (off + 5 + sealedBytes > size) break; // cut short while it was written
      chunks.push({ offset: off + 5, sealedBytes, flags });
      plainBytes += sealedBytes - TAG_BYTES;
      off += 5 + sealedBytes;
      if (flags & FLAG_FINAL) break;
    }
    const complete = chunks.length > 0 && (chunks[chunks.length - 1].flags & FLAG_FINAL) !== 0;
    return { header: parsed.header, headerBytes: parsed.bytes, chunks, plainBytes, complete };
  } finally {
    await fh.close();
  }
}

/** The plaintext of `rec`'s chunks in order; throws RECORDING_CORRUPT at a chunk that does not authenticate. */
export async function* decryptRecording(path: string, rec: ScannedRecording, key: Uint8Array): AsyncGenerator<Buffer> {
  const ctx = chunkContext(key, rec.headerBytes, rec.header);
  const fh = await open(path, 'r');
  try {
    for (let i = 0; i < rec.chunks.length; i++) {
      const c = rec.chunks[i];
      const sealed = Buffer.alloc(c.sealedBytes);
      await fh.read(sealed, 0, c.sealedBytes, c.offset);
      let plain: Buffer;
      try { plain = openChunk(ctx, i, c.flags, sealed); } catch {
        throw new FsbridgeError('RECORDING_CORRUPT', `${path}: chunk ${i} does not authenticate (altered, or another key)`);
      }
      yield plain;
    }
  } finally {
    await fh.close();
  }
}

/** Duration of `plainBytes` of 16-bit stereo at `rateHz`, in ms. */
export function recordingMs(plainBytes: number, rateHz: number): number {
  return Math.round((plainBytes / 4 / rateHz) * 1000);
}
