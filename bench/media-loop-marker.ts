/**
 * A recoverable tag in the first samples of each simulated caller frame, so that a frame can be
 * recognised wherever it shows up (at the bot, back at the simulated FreeSWITCH) after any of the
 * media loop's conversions: L16 as is, μ-law + base64 (twilio) and back, L16 base64 (exotel,
 * streamAudio).
 *
 * Why it survives μ-law: every tag sample is the decoded value of a μ-law code, and encoding a
 * decoded value gives the same code back (true for every code except the negative zero 0x7F,
 * which no tag uses). L16 paths carry the samples unchanged.
 *
 * Layout of the first TAG_SAMPLES samples: decode(MAGIC), then call index and sequence number as
 * base-100 digits, each carried by decode(0x80 + digit). Pure functions, no I/O.
 */
import { ulawDecode, ulawEncode } from '../src/media/g711.js';

/** Samples per 20 ms frame at 8 kHz. */
export const FRAME_SAMPLES = 160;
/** Bytes per 20 ms L16 frame at 8 kHz. */
export const FRAME_BYTES = FRAME_SAMPLES * 2;
/** Samples used by the tag at the start of a frame. */
export const TAG_SAMPLES = 6;
/** Largest call index + 1 and sequence number + 1 a tag can carry. */
export const MAX_CALLS = 100 * 100;
export const MAX_SEQ = 100 * 100 * 100;

const MAGIC = 0xa5;
const DIGIT_BASE = 0x80;

/** μ-law code → 16-bit sample. */
const DECODE = new Int16Array(256);
ulawDecode(Uint8Array.from({ length: 256 }, (_, i) => i), DECODE);
/** 16-bit sample (offset by 32768) → μ-law code. */
const ENCODE = new Uint8Array(65536);
{
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  ulawEncode(all, ENCODE);
}
// Check the round-trip property the tag relies on, once.
for (const c of [MAGIC, ...Array.from({ length: 100 }, (_, d) => DIGIT_BASE + d)]) {
  if (ENCODE[DECODE[c] + 32768] !== c) throw new Error(`μ-law code ${c} does not round-trip`);
}

/** The "voice" behind the tag: a deterministic two-tone signal at about −12 dBFS, one frame long. */
const BODY = new Int16Array(FRAME_SAMPLES);
for (let i = 0; i < FRAME_SAMPLES; i++) BODY[i] = Math.round(5000 * Math.sin(i * 0.2) + 3000 * Math.sin(i * 0.031));

/** Writes one L16 little-endian frame with the tag of (call, seq) into `out` (FRAME_BYTES long). */
export function writeTaggedFrame(out: Buffer, call: number, seq: number): void {
  for (let i = TAG_SAMPLES; i < FRAME_SAMPLES; i++) out.writeInt16LE(BODY[i], 2 * i);
  writeTag(out, call, seq);
}

/** Rewrites only the tag samples of a frame already written by {@link writeTaggedFrame}. */
export function writeTag(out: Buffer, call: number, seq: number): void {
  out.writeInt16LE(DECODE[MAGIC], 0);
  out.writeInt16LE(DECODE[DIGIT_BASE + (Math.floor(call / 100) % 100)], 2);
  out.writeInt16LE(DECODE[DIGIT_BASE + (call % 100)], 4);
  out.writeInt16LE(DECODE[DIGIT_BASE + (Math.floor(seq / 10000) % 100)], 6);
  out.writeInt16LE(DECODE[DIGIT_BASE + (Math.floor(seq / 100) % 100)], 8);
  out.writeInt16LE(DECODE[DIGIT_BASE + (seq % 100)], 10);
}

/** A decoded tag. */
export interface Tag {
  call: number;
  seq: number;
}

function fromCodes(code: (k: number) => number): Tag | null {
  if (code(0) !== MAGIC) return null;
  const d: number[] = [];
  for (let k = 1; k < TAG_SAMPLES; k++) {
    const v = code(k) - DIGIT_BASE;
    if (v < 0 || v > 99) return null;
    d.push(v);
  }
  return { call: d[0] * 100 + d[1], seq: d[2] * 10000 + d[3] * 100 + d[4] };
}

/** Reads the tag of the frame starting at byte `off` of an L16 little-endian buffer, or null. */
export function readTagL16(buf: Buffer, off: number): Tag | null {
  if (off + 2 * TAG_SAMPLES > buf.length) return null;
  return fromCodes((k) => ENCODE[buf.readInt16LE(off + 2 * k) + 32768]);
}

/** Reads the tag of the frame starting at byte `off` of a μ-law buffer, or null. */
export function readTagUlaw(buf: Buffer, off: number): Tag | null {
  if (off + TAG_SAMPLES > buf.length) return null;
  return fromCodes((k) => buf[off + k]);
}
