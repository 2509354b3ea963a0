/**
 * The encrypted recording file (`.fsbrec`). Nothing in it is audio in the clear: the samples are
 * sealed with AES-256-GCM in chunks, so a recording is written while the call runs and read back
 * as a stream, chunk by chunk, each one authenticated before a byte of it is used.
 *
 *   magic "FSBREC" 0x00 0x01 (8 bytes) | u32 BE header length | header (JSON, UTF-8)
 *   chunk*: u32 BE sealed length | u8 flags (1: the last chunk) | sealed bytes (ciphertext + 16-byte tag)
 *
 * The header says which data key sealed it (`keyId`, and that key wrapped by the master key, so
 * that the file can be read with the master key alone if the store lost the key's row), the call,
 * the rate and a random 8-byte nonce prefix; chunk i's nonce is that prefix followed by i (u32 BE). Each chunk's additional data
 * is SHA-256(header) | i | flags, so a chunk cannot be moved, dropped from the middle or taken from
 * another file, and a file cut short (a crash) is told from a whole one: its last chunk lacks the
 * final flag. The plaintext is 16-bit little-endian stereo (caller left, bot right), without a
 * WAV header: the reader makes one. Pure (node:crypto only).
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

export const MAGIC = Buffer.from([0x46, 0x53, 0x42, 0x52, 0x45, 0x43, 0x00, 0x01]); // "FSBREC" 0 1
export const TAG_BYTES = 16;
export const FLAG_FINAL = 1;
/** Largest header accepted when reading (a corrupt length must not allocate gigabytes). */
const MAX_HEADER_BYTES = 4096;
/** Largest chunk accepted when reading (10 s of 16 kHz stereo is 640 000 bytes). */
export const MAX_CHUNK_BYTES = 1 << 20;

export interface RecordingHeader {
  v: 1;
  callId: string;
  tenant: string;
  /** The data key that sealed the chunks (recording_keys.id). */
  keyId: string;
  /** The data key wrapped by the master key (data-keys.ts), and that master key's fingerprint. */
  wrappedKey: string;
  masterFp: string;
  rateHz: number;
  channels: 2;
  /** 8 random bytes, hex: the nonce prefix. */
  nonce: string;
}

/** The file's first bytes for `h`. */
export function encodeHeader(h: RecordingHeader): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length, 0);
  return Buffer.concat([MAGIC, len, json]);
}

/**
 * The header at the start of `buf`, and how many bytes it takes; `short` when `buf` ends before
 * it does; a string saying what is wrong when it is not a recording header.
 */
export function parseHeader(buf: Buffer): { header: RecordingHeader; bytes: Buffer } | 'short' | string {
  if (buf.length < MAGIC.length + 4) return 'short';
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return 'not an fsbridge recording (bad magic)';
  const len = buf.readUInt32BE(MAGIC.length);
  if (len === 0 || len > MAX_HEADER_BYTES) return `header length ${len} out of range`;
  const end = MAGIC.length + 4 + len;
  if (buf.length < end) return 'short';
  let h: Partial<RecordingHeader>;
  try { h = JSON.parse(buf.subarray(MAGIC.length + 4, end).toString('utf8')) as Partial<RecordingHeader>; } catch { return 'header is not JSON'; }
  if (h.v !== 1 || typeof h.keyId !== 'string' || typeof h.callId !== 'string' || typeof h.tenant !== 'string'
    || typeof h.wrappedKey !== 'string' || typeof h.masterFp !== 'string'
    || (h.rateHz !== 8000 && h.rateHz !== 16000) || h.channels !== 2 || typeof h.nonce !== 'string' || !/^[0-9a-f]{16}$/.test(h.nonce)) {
    return 'header fields missing or of another version';
  }
  return { header: h as RecordingHeader, bytes: Buffer.from(buf.subarray(0, end)) };
}

/** What a file's chunks are sealed with: the data key, the nonce prefix and the header's digest. */
export interface ChunkContext {
  key: Uint8Array;
  noncePrefix: Buffer;
  headerDigest: Buffer;
}

export function chunkContext(key: Uint8Array, headerBytes: Buffer, header: RecordingHeader): ChunkContext {
  return { key, noncePrefix: Buffer.from(header.nonce, 'hex'), headerDigest: createHash('sha256').update(headerBytes).digest() };
}

function nonceAndAad(c: ChunkContext, index: number, flags: number): { iv: Buffer; aad: Buffer } {
  const iv = Buffer.alloc(12);
  c.noncePrefix.copy(iv, 0);
  iv.writeUInt32BE(index, 8);
  const aad = Buffer.alloc(c.headerDigest.length + 5);
  c.headerDigest.copy(aad, 0);
  aad.writeUInt32BE(index, c.headerDigest.length);
  aad.writeUInt8(flags, c.headerDigest.length + 4);
  return { iv, aad };
}

/** Chunk `index` framed for the file: length | flags | ciphertext | tag. */
export function sealChunk(c: ChunkContext, index: number, final: boolean, plain: Buffer): Buffer {
  const flags = final ? FLAG_FINAL : 0;
  const { iv, aad } = nonceAndAad(c, index, flags);
  const cipher = createCipheriv('aes-256-gcm', c.key, iv);
  cipher.setAAD(aad);
  const ct = cipher.update(plain);
  cipher.final();
  const out = Buffer.alloc(5 + ct.length + TAG_BYTES);
  out.writeUInt32BE(ct.length + TAG_BYTES, 0);
  out.writeUInt8(flags, 4);
  ct.copy(out, 5);
  cipher.getAuthTag().copy(out, 5 + ct.length);
  return out;
}

/** Chunk `index`'s plaintext from its sealed bytes (ciphertext | tag); throws when it does not authenticate. */
export function openChunk(c: ChunkContext, index: number, flags: number, sealed: Buffer): Buffer {
  const { iv, aad } = nonceAndAad(c, index, flags);
  const d = createDecipheriv('aes-256-gcm', c.key, iv);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plain = d.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  d.final();
  return plain;
}
