/**
 * G.711 μ-law and A-law (ITU-T G.711) for the twin's RTP: 16-bit linear PCM <-> 8-bit codes.
 * Pure; decode tables are built once at load.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** Encodes one 16-bit sample as μ-law. Silence (0) encodes to 0xFF. */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

/** Decodes one μ-law code to 16-bit linear. */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exp = (u >> 4) & 0x07;
  const mant = u & 0x0f;
  const mag = (((mant << 3) + BIAS) << exp) - BIAS;
  return sign ? -mag : mag;
}

/** Encodes one 16-bit sample as A-law. Silence encodes to 0xD5. */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  s >>= 3; // 13-bit magnitude
  let code: number;
  if (s < 32) {
    code = s >> 1;
  } else {
    let exp = 1;
    while (exp < 7 && s >= 64 << (exp - 1)) exp++;
    code = (exp << 4) | ((s >> exp) & 0x0f);
  }
  return (code | sign) ^ 0x55;
}

/** Decodes one A-law code to 16-bit linear. */
export function alawToLinear(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  const exp = (a >> 4) & 0x07;
  const mant = a & 0x0f;
  let mag = exp === 0 ? (mant << 4) + 8 : ((mant << 4) + 0x108) << (exp - 1);
  mag = Math.min(mag, 32767);
  return a & 0x80 ? mag : -mag;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

/** The G.711 variants the fsbridge profile offers (static payload types 0 and 8). */
export type G711Codec = 'PCMU' | 'PCMA';

/** Decodes a G.711 payload (one byte per sample) to 16-bit PCM. */
export function decodeG711(codec: G711Codec, payload: Uint8Array): Int16Array {
  const table = codec === 'PCMU' ? ULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]];
  return out;
}

/** Encodes 16-bit PCM as a G.711 payload. */
export function encodeG711(codec: G711Codec, pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length);
  const enc = codec === 'PCMU' ? linearToUlaw : linearToAlaw;
  for (let i = 0; i < pcm.length; i++) out[i] = enc(pcm[i]);
  return out;
}
