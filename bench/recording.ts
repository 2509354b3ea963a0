/**
 * What recording a call costs the media loop (src/recordings/): the stereo tap per 20 ms frame, the
 * AES-256-GCM seal of a one-second chunk, and the whole writer (tap, seal, file writes) over ten
 * minutes of call audio written to a temporary file at 100 times real time. The baseline, in the same process, is the
 * μ-law encode of the same frame: the work fsbridge already does per frame for a Twilio bot.
 *
 * `npm run bench` calls runRecordingBench(); `node dist/bench/recording.js` prints the table.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ulawEncode } from '../src/media/g711.js';
import { StereoTap } from '../src/recordings/stereo-tap.js';
import { chunkContext, encodeHeader, sealChunk } from '../src/recordings/format.js';
import { RecordingWriter } from '../src/recordings/recording-writer.js';
import { silentLogger } from '../src/observability/logger.js';
import { MetricsRegistry } from '../src/observability/metrics.js';
import { formatTable, measureRate, type MeasureOptions } from './lib/measure.js';
import { aperiodicSignal } from './lib/recording.js';

const FRAME = 160;

export interface RecordingBenchResult {
  /** µs per 20 ms frame (8 kHz). */
  ulawEncodeUs: number;
  tapUs: number;
  /** µs to seal one second of 8 kHz stereo (32 000 bytes). */
  sealChunkUs: number;
  /** tap per frame plus a fiftieth of a seal, over the μ-law encode of the frame. */
  perFrameRatio: number;
  /** The whole writer over `seconds` of audio into a file: CPU ms per call-second, and the file's overhead. */
  writer: { seconds: number; cpuMsPerCallSecond: number; wallMs: number; fileBytes: number; audioBytes: number };
}

export async function runRecordingBench(opts: MeasureOptions & { seconds?: number } = {}): Promise<RecordingBenchResult> {
  const caller = aperiodicSignal(2, 3);
  const bot = aperiodicSignal(2, 5);
  const frames = caller.length / FRAME;
  let k = 0;
  const codes = new Uint8Array(FRAME);
  const ulawRate = measureRate(() => { k = (k + 1) % frames; ulawEncode(caller.subarray(k * FRAME, k * FRAME + FRAME), codes); return codes[5]; }, opts);

  let sink = 0;
  const tap = new StereoTap((s) => { sink = s[7]; }, 8000 * 4);
  const tapRate = measureRate(() => {
    k = (k + 1) % frames;
    tap.bot(bot.subarray(k * FRAME, k * FRAME + FRAME));
    tap.caller(caller.subarray(k * FRAME, k * FRAME + FRAME));
    return sink;
  }, opts);

  const header = { v: 1 as const, callId: 'bench', tenant: 't', keyId: 'rk', wrappedKey: '', masterFp: '', rateHz: 8000, channels: 2 as const, nonce: randomBytes(8).toString('hex') };
  const ctx = chunkContext(randomBytes(32), encodeHeader(header), header);
  const second = Buffer.from(aperiodicSignal(2, 9).buffer);
  let idx = 0;
  const sealRate = measureRate(() => sealChunk(ctx, idx++, false, second)[9], { ...opts, roundMs: opts.roundMs ?? 200 });

  // the whole writer, as a call drives it: 50 frames per call-second, at 100 times real time (10 ms
  // of wall time per call-second, so the disk keeps up as it does for real calls)
  const seconds = opts.seconds ?? 600;
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-bench-rec-'));
  try {
    const path = join(dir, 'r.fsbrec');
    const w = new RecordingWriter({ target: { path, keyId: 'rk', key: randomBytes(32), wrappedKey: '', masterFp: '', tenant: 't', callId: 'bench', rateHz: 8000 }, logger: silentLogger(), metrics: new MetricsRegistry() });
    const wtap = new StereoTap((s) => w.push(s), 8000 * 4);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let s = 0; s < seconds; s++) {
      for (let f = 0; f < 50; f++) {
        k = (k + 1) % frames;
        wtap.bot(bot.subarray(k * FRAME, k * FRAME + FRAME));
        wtap.caller(caller.subarray(k * FRAME, k * FRAME + FRAME));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await w.close();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (w.failed) throw new Error('the writer failed');
    const tapUs = 1e6 / tapRate;
    const sealChunkUs = 1e6 / sealRate;
    return {
      ulawEncodeUs: 1e6 / ulawRate, tapUs, sealChunkUs,
      perFrameRatio: (tapUs + sealChunkUs / 50) / (1e6 / ulawRate),
      writer: { seconds, cpuMsPerCallSecond: (cpu.user + cpu.system) / 1000 / seconds, wallMs, fileBytes: statSync(path).size, audioBytes: seconds * 32000 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRecordingBench(r: RecordingBenchResult): string {
  const table = formatTable([
    { case: 'μ-law encode of a 20 ms frame (baseline)', 'µs': r.ulawEncodeUs, 'per frame vs baseline': 1 },
    { case: 'stereo tap, one 20 ms frame each way', 'µs': r.tapUs, 'per frame vs baseline': r.tapUs / r.ulawEncodeUs },
    { case: 'AES-256-GCM seal of a 1 s chunk (32 000 bytes)', 'µs': r.sealChunkUs, 'per frame vs baseline': r.sealChunkUs / 50 / r.ulawEncodeUs },
  ]);
  const w = r.writer;
  return `${table}

Per frame, recording costs ${(r.tapUs + r.sealChunkUs / 50).toFixed(2)} µs (tap + 1/50 of a seal): ${r.perFrameRatio.toFixed(2)}× the μ-law encode of that frame.
The whole writer (tap, seal, file writes) over ${w.seconds} s of call audio: ${w.cpuMsPerCallSecond.toFixed(3)} ms of CPU per call-second, ${w.wallMs.toFixed(0)} ms of wall time; file ${w.fileBytes} bytes for ${w.audioBytes} bytes of audio (+${(((w.fileBytes - w.audioBytes) / w.audioBytes) * 100).toFixed(3)} %).`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`Recording cost, node ${process.version}`);
  console.log(formatRecordingBench(await runRecordingBench()));
}
