import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../../src/media/g711.js';

const dir = fileURLToPath(new URL('../../fixtures/g711/', import.meta.url));
const load = (name: string): Buffer => readFileSync(dir + name);

function int16(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(2 * i);
  return out;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const linear = int16(load('linear-s16le.raw'));
const codes = new Uint8Array(load('codes.raw'));

t.test('golden inputs are what the README says', async (t) => {
  t.equal(linear.length, 65536);
  for (let i = 0; i < 65536; i++) if (linear[i] !== i - 32768) { t.fail(`linear[${i}]`); break; }
  t.equal(codes.length, 256);
});

t.test('μ-law encode matches sox -D on all 65,536 inputs', async (t) => {
  const out = new Uint8Array(65536);
  ulawEncode(linear, out);
  t.equal(firstDiff(out, load('ulaw-encode.raw')), -1);
});

t.test('A-law encode matches sox -D on all 65,536 inputs', async (t) => {
  const out = new Uint8Array(65536);
  alawEncode(linear, out);
  t.equal(firstDiff(out, load('alaw-encode.raw')), -1);
});

t.test('μ-law decode matches sox on all 256 codes', async (t) => {
  const out = new Int16Array(256);
  ulawDecode(codes, out);
  t.equal(firstDiff(out, int16(load('ulaw-decode-s16le.raw'))), -1);
});

t.test('A-law decode matches sox on all 256 codes', async (t) => {
  const out = new Int16Array(256);
  alawDecode(codes, out);
  t.equal(firstDiff(out, int16(load('alaw-decode-s16le.raw'))), -1);
});

t.test('n limits the samples written; the rest of out is untouched', async (t) => {
  const pcm = new Int16Array([1000, -1000, 2000, -2000]);
  for (const enc of [ulawEncode, alawEncode]) {
    const out = new Uint8Array(4).fill(0xaa);
    enc(pcm, out, 2);
    t.not(out[0], 0xaa);
    t.same([out[2], out[3]], [0xaa, 0xaa]);
  }
  for (const dec of [ulawDecode, alawDecode]) {
    const out = new Int16Array(4).fill(7);
    dec(new Uint8Array([0x00, 0x80, 0x55, 0xd5]), out, 3);
    t.equal(out[3], 7);
  }
});
