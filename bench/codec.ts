/**
 * G.711 throughput of fsbridge's table codec (src/media/g711.ts) against the npm packages
 * `alawmulaw` and `g711`, in one process, on 20 ms frames (160 samples at 8 kHz).
 *
 * `npm run bench` calls runCodecBench(); `node dist/bench/codec.js` (after `npx tsc`) prints the table.
 * Also reports, for each package, on how many of the 65,536 16-bit inputs its encoder differs from
 * fsbridge's (which the test suite proves bit-exact with `sox -D`).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../src/media/g711.js';
import { formatTable, measureRate, type MeasureOptions } from './lib/measure.js';

interface AlawMulawLaw {
  encode(samples: Int16Array): Uint8Array;
  decode(samples: Uint8Array): Int16Array;
}
interface AlawMulaw { alaw: AlawMulawLaw; mulaw: AlawMulawLaw }
interface G711Package {
  ulawFromPCM(data: Int16Array): Uint8Array;
  ulawToPCM(data: Uint8Array, bit?: number): Int16Array;
  alawFromPCM(data: Int16Array): Uint8Array;
  alawToPCM(data: Uint8Array, bit?: number): Int16Array;
}

/** One benchmark row. */
export interface CodecBenchResult {
  /** e.g. "ulaw-encode/fsbridge". */
  name: string;
  law: 'ulaw' | 'alaw';
  op: 'encode' | 'decode';
  impl: 'fsbridge' | 'alawmulaw' | 'g711';
  /** Samples processed per second (20 ms frames, median of the rounds). */
  samplesPerSec: number;
  /** fsbridge's rate divided by this row's rate (1 for fsbridge itself; > 1 means fsbridge is faster). */
  fsbridgeSpeedup: number;
  /** Encode rows: inputs (of 65,536) where this encoder's code differs from fsbridge's (= sox -D). */
  mismatches: number | null;
}

const FRAME_SAMPLES = 160;

function speechLikeFrames(count: number): Int16Array[] {
  // deterministic: two tones plus a little pseudo-random noise, level about −12 dBFS
  let seed = 12345;
  const frames: Int16Array[] = [];
  for (let f = 0; f < count; f++) {
    const frame = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const n = f * FRAME_SAMPLES + i;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed / 0x7fffffff - 0.5) * 2000;
      frame[i] = Math.round(5000 * Math.sin(n * 0.2) + 3000 * Math.sin(n * 0.031) + noise);
    }
    frames.push(frame);
  }
  return frames;
}

function countMismatches(encode: (pcm: Int16Array) => Uint8Array, reference: (pcm: Int16Array, out: Uint8Array) => void): number {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  const want = new Uint8Array(65536);
  reference(all, want);
  const got = encode(all);
  let d = 0;
  for (let i = 0; i < 65536; i++) if (got[i] !== want[i]) d++;
  return d;
}

/** Runs every case and returns one row per (law, op, implementation). Takes a few seconds. */
export async function runCodecBench(opts: MeasureOptions = {}): Promise<CodecBenchResult[]> {
  const require = createRequire(import.meta.url);
  const am = require('alawmulaw') as AlawMulaw;
  const g7 = require('g711') as G711Package;
  const frames = speechLikeFrames(50);
  const ulawFrames = frames.map((f) => { const o = new Uint8Array(FRAME_SAMPLES); ulawEncode(f, o); return o; });
  const alawFrames = frames.map((f) => { const o = new Uint8Array(FRAME_SAMPLES); alawEncode(f, o); return o; });
  const codes = new Uint8Array(FRAME_SAMPLES);
  const pcm = new Int16Array(FRAME_SAMPLES);
  let k = 0;
  const next = (): number => { k = k + 1 === frames.length ? 0 : k + 1; return k; };

  type Case = { law: 'ulaw' | 'alaw'; op: 'encode' | 'decode'; impl: CodecBenchResult['impl']; fn: () => number; mismatches: number | null };
  const cases: Case[] = [
    { law: 'ulaw', op: 'encode', impl: 'fsbridge', fn: () => { ulawEncode(frames[next()], codes); return codes[7]; }, mismatches: 0 },
    { law: 'ulaw', op: 'encode', impl: 'alawmulaw', fn: () => am.mulaw.encode(frames[next()])[7], mismatches: countMismatches((p) => am.mulaw.encode(p), ulawEncode) },
    { law: 'ulaw', op: 'encode', impl: 'g711', fn: () => g7.ulawFromPCM(frames[next()])[7], mismatches: countMismatches((p) => g7.ulawFromPCM(p), ulawEncode) },
    { law: 'ulaw', op: 'decode', impl: 'fsbridge', fn: () => { ulawDecode(ulawFrames[next()], pcm); return pcm[7]; }, mismatches: null },
    { law: 'ulaw', op: 'decode', impl: 'alawmulaw', fn: () => am.mulaw.decode(ulawFrames[next()])[7], mismatches: null },
    { law: 'ulaw', op: 'decode', impl: 'g711', fn: () => g7.ulawToPCM(ulawFrames[next()])[7], mismatches: null },
    { law: 'alaw', op: 'encode', impl: 'fsbridge', fn: () => { alawEncode(frames[next()], codes); return codes[7]; }, mismatches: 0 },
    { law: 'alaw', op: 'encode', impl: 'alawmulaw', fn: () => am.alaw.encode(frames[next()])[7], mismatches: countMismatches((p) => am.alaw.encode(p), alawEncode) },
    { law: 'alaw', op: 'encode', impl: 'g711', fn: () => g7.alawFromPCM(frames[next()])[7], mismatches: countMismatches((p) => g7.alawFromPCM(p), alawEncode) },
    { law: 'alaw', op: 'decode', impl: 'fsbridge', fn: () => { alawDecode(alawFrames[next()], pcm); return pcm[7]; }, mismatches: null },
    { law: 'alaw', op: 'decode', impl: 'alawmulaw', fn: () => am.alaw.decode(alawFrames[next()])[7], mismatches: null },
    { law: 'alaw', op: 'decode', impl: 'g711', fn: () => g7.alawToPCM(alawFrames[next()])[7], mismatches: null },
  ];
  const rows: CodecBenchResult[] = [];
  for (const c of cases) {
    const rate = measureRate(c.fn, opts) * FRAME_SAMPLES;
    rows.push({ name: `${c.law}-${c.op}/${c.impl}`, law: c.law, op: c.op, impl: c.impl, samplesPerSec: rate, fsbridgeSpeedup: 1, mismatches: c.mismatches });
    await new Promise((r) => setImmediate(r));
  }
  for (const r of rows) {
    const own = rows.find((x) => x.law === r.law && x.op === r.op && x.impl === 'fsbridge')!;
    r.fsbridgeSpeedup = own.samplesPerSec / r.samplesPerSec;
  }
  return rows;
}

/** The rows as a printable table. */
export function formatCodecBench(rows: CodecBenchResult[]): string {
  return formatTable(rows.map((r) => ({
    case: r.name,
    'Msamples/s': Math.round(r.samplesPerSec / 1e4) / 100,
    'fsbridge speed-up': Math.round(r.fsbridgeSpeedup * 100) / 100,
    'encode mismatches vs sox -D': r.mismatches === null ? '' : r.mismatches,
  })));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runCodecBench();
  console.log(`G.711 on 20 ms frames (${FRAME_SAMPLES} samples), node ${process.version}`);
  console.log(formatCodecBench(rows));
}
