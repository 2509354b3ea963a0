/**
 * G.711 μ-law and A-law (ITU-T G.711) by table lookup, bit-exact with `sox -D` (SoX 14.4.2).
 *
 * Why not plain G.711 truncation: sox first reduces a 16-bit sample to 14 bits (μ-law) or 13 bits
 * (A-law) with round-half-up and clipping at the top (libsox `SOX_SAMPLE_TO_SIGNED`), then applies
 * the classic segment search. Truncating instead (as several npm codecs do) differs on hundreds of
 * inputs. The golden files in test/fixtures/g711/ pin every one of the 65,536 inputs and 256 codes.
 *
 * Tables are built once at module load (immutable module-level data); encode/decode allocate nothing.
 */

const ULAW_BIAS = 0x84 >> 2; // 33: the μ-law bias expressed in 14-bit units
const ULAW_CLIP = 8159; // largest 14-bit magnitude before the bias is added
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]) return i;
  return ends.length;
}

/** 14-bit two's-complement sample → μ-law code. */
function linear14ToUlaw(sample: number): number {
  let mask = 0xff;
  let v = sample;
  if (v < 0) { v = -v; mask = 0x7f; }
  if (v > ULAW_CLIP) v = ULAW_CLIP;
  v += ULAW_BIAS;
  const seg = segment(v, ULAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/** 13-bit two's-complement sample → A-law code. */
function linear13ToAlaw(sample: number): number {
  let mask: number;
  let v = sample;
  if (v >= 0) mask = 0xd5;
  else { mask = 0x55; v = -v - 1; }
  const seg = segment(v, ALAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const quant = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | quant) ^ mask;
}

function ulawToLinear16(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function alawToLinear16(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Reduces a 16-bit sample to `bits` bits as libsox does: add half an LSB, floor, clip at the top. */
function reduce(sample: number, bits: number): number {
  const shift = 16 - bits;
  const max = (1 << (bits - 1)) - 1;
  const r = (sample + (1 << (shift - 1))) >> shift;
  return r > max ? max : r;
}

// Encode tables are indexed by the sample's 16-bit pattern (sample & 0xffff).
const ULAW_ENCODE = new Uint8Array(65536);
const ALAW_ENCODE = new Uint8Array(65536);
const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
for (let s = -32768; s < 32768; s++) {
  ULAW_ENCODE[s & 0xffff] = linear14ToUlaw(reduce(s, 14));
  ALAW_ENCODE[s & 0xffff] = linear13ToAlaw(reduce(s, 13));
}
for (let c = 0; c < 256; c++) {
  ULAW_DECODE[c] = ulawToLinear16(c);
  ALAW_DECODE[c] = alawToLinear16(c);
}

/** Encodes `n` samples (default `pcm.length`) of 16-bit linear PCM into μ-law codes in `out`. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): void {
  for (let i = 0; i < n; i++) out[i] = ULAW_ENCODE[pcm[i] & 0xffff];
}

/** Decodes `n` μ-law codes (default `codes.length`) into 16-bit linear PCM in `out`. */
export function ulawDecode(codes: Uint8Array, out: Int16Array, n: number = codes.length): void {
  for (let i = 0; i < n; i++) out[i] = ULAW_DECODE[codes[i]];
}

/** Encodes `n` samples (default `pcm.length`) of 16-bit linear PCM into A-law codes in `out`. */
export function alawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): void {
  for (let i = 0; i < n; i++) out[i] = ALAW_ENCODE[pcm[i] & 0xffff];
}

/** Decodes `n` A-law codes (default `codes.length`) into 16-bit linear PCM in `out`. */
export function alawDecode(codes: Uint8Array, out: Int16Array, n: number = codes.length): void {
  for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[codes[i]];
}
