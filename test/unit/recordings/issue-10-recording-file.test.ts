// Issue 10, recordings: the encrypted file format, its writer and reader, the stereo tap, and a
// full disk. No audio in the clear ever reaches the file; a changed byte, a moved chunk or a
// file cut short are told apart from a whole recording.
import t from 'tap';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { RecordingWriter, type RecordingFileHandle, type RecordingTarget } from '../../../src/recordings/recording-writer.js';
import { decryptRecording, scanRecording } from '../../../src/recordings/reader.js';
import { StereoTap } from '../../../src/recordings/stereo-tap.js';
import { clearRuns } from '../../helpers/recordings.js';

const dir = mkdtempSync(join(tmpdir(), 'fsbridge-rec-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A loud pseudo-random 16-bit signal (every byte pattern of it distinctive). */
function noise(n: number, seed = 1): Int16Array {
  const out = new Int16Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = ((x >>> 8) & 0xffff) - 32768; }
  return out;
}

function target(name: string, key = randomBytes(32)): RecordingTarget {
  return { path: join(dir, 'acme', name), keyId: 'rk_test', key, wrappedKey: 'wrapped', masterFp: 'fp', tenant: 'acme', callId: `call-${name}`, rateHz: 8000 };
}

async function readAll(path: string, key: Uint8Array): Promise<Buffer> {
  const rec = await scanRecording(path);
  const parts: Buffer[] = [];
  for await (const p of decryptRecording(path, rec, key)) parts.push(p);
  return Buffer.concat(parts);
}

t.test('written while the call runs, read back whole; nothing in the clear on disk', async (t) => {
  const tg = target('a.fsbrec');
  const metrics = new MetricsRegistry();
  const w = new RecordingWriter({ target: tg, logger: silentLogger(), metrics, chunkMs: 200 });
  const stereo = noise(8000 * 2 * 3); // 3 s of stereo at 8 kHz
  for (let i = 0; i < stereo.length; i += 320) w.push(stereo.subarray(i, i + 320));
  await w.close();
  const bytes = readFileSync(tg.path);
  const plain = Buffer.from(stereo.buffer);
  t.equal(statSync(tg.path).mode & 0o777, 0o600, 'the file is the daemon\'s only');
  t.equal(statSync(join(dir, 'acme')).mode & 0o777, 0o700, 'so is its directory');
  t.notOk(bytes.includes(Buffer.from('RIFF')), 'no WAV header');
  t.equal(clearRuns(bytes, plain, 997), 0, 'no 16-byte run of the audio appears in the file');
  const rec = await scanRecording(tg.path);
  t.equal(rec.complete, true, 'closed, so complete');
  t.equal(rec.chunks.length, 16, '15 chunks of 200 ms and the final one');
  t.equal(rec.plainBytes, plain.length);
  t.same(rec.header, { v: 1, callId: 'call-a.fsbrec', tenant: 'acme', keyId: 'rk_test', wrappedKey: 'wrapped', masterFp: 'fp', rateHz: 8000, channels: 2, nonce: rec.header.nonce });
  t.ok((await readAll(tg.path, tg.key)).equals(plain), 'decrypted, it is the audio written');
  t.equal(metrics.errorCount('RECORDING_WRITE_FAILED'), 0);
});

t.test('a changed byte, a chunk moved, another key, a file cut short', async (t) => {
  const tg = target('b.fsbrec');
  const w = new RecordingWriter({ target: tg, logger: silentLogger(), metrics: new MetricsRegistry(), chunkMs: 100 });
  w.push(noise(8000 * 2, 2));
  await w.close();
  const good = readFileSync(tg.path);
  const rec = await scanRecording(tg.path);

  const flipped = Buffer.from(good);
  flipped[rec.chunks[3].offset + 10] ^= 1;
  writeFileSync(tg.path, flipped);
  await t.rejects(readAll(tg.path, tg.key), { code: 'RECORDING_CORRUPT' }, 'a changed byte does not authenticate');

  // chunks 1 and 2 swapped (same length): each is authenticated with its index
  const c1 = rec.chunks[1];
  const c2 = rec.chunks[2];
  const swapped = Buffer.concat([
    good.subarray(0, c1.offset - 5), good.subarray(c2.offset - 5, c2.offset + c2.sealedBytes),
    good.subarray(c1.offset - 5, c1.offset + c1.sealedBytes), good.subarray(c2.offset + c2.sealedBytes),
  ]);
  writeFileSync(tg.path, swapped);
  await t.rejects(readAll(tg.path, tg.key), { code: 'RECORDING_CORRUPT' }, 'chunks out of order do not authenticate');

  writeFileSync(tg.path, good);
  await t.rejects(readAll(tg.path, randomBytes(32)), { code: 'RECORDING_CORRUPT' }, 'another key does not open it');

  // a crash while the 6th chunk was written
  writeFileSync(tg.path, good.subarray(0, rec.chunks[5].offset + 7));
  const cut = await scanRecording(tg.path);
  t.equal(cut.complete, false, 'cut short: not complete');
  t.equal(cut.chunks.length, 5, 'the whole chunks before the cut are read');
  t.equal((await readAll(tg.path, tg.key)).length, 5 * 3200, 'and decrypt (100 ms of 16-bit stereo each)');

  // the last chunk alone removed: the file ends on a chunk boundary, but not on the final one
  writeFileSync(tg.path, good.subarray(0, rec.chunks.at(-1)!.offset - 5));
  t.equal((await scanRecording(tg.path)).complete, false, 'a missing final chunk is seen');

  writeFileSync(tg.path, Buffer.from('RIFF....WAVEfmt '));
  await t.rejects(scanRecording(tg.path), { code: 'RECORDING_CORRUPT' }, 'not a recording');
});

t.test('a full disk stops the recording, counted, and loses nothing else', async (t) => {
  const metrics = new MetricsRegistry();
  // /dev/full answers every write with ENOSPC, as a full file system does
  const devFull = async (): Promise<RecordingFileHandle> => {
    const fd = openSync('/dev/full', 'w');
    return {
      write: async (b) => { writeSync(fd, b); },
      close: async () => { closeSync(fd); },
    };
  };
  const w = new RecordingWriter({ target: target('full.fsbrec'), logger: silentLogger(), metrics, openFile: devFull, chunkMs: 100 });
  for (let i = 0; i < 50; i++) w.push(noise(320, i));
  await w.close();
  t.equal(w.failed, true, 'the recording stopped');
  t.equal(metrics.errorCount('RECORDING_WRITE_FAILED'), 1, 'counted once');
  w.push(noise(320));
  await w.close();
  t.equal(metrics.errorCount('RECORDING_WRITE_FAILED'), 1, 'nothing more is tried');

  const m2 = new MetricsRegistry();
  writeFileSync(join(dir, 'not-a-dir.txt'), '');
  const w2 = new RecordingWriter({ target: { ...target('x'), path: join(dir, 'not-a-dir.txt', 'x.fsbrec') }, logger: silentLogger(), metrics: m2 });
  w2.push(noise(640));
  await w2.close();
  t.equal(m2.errorCount('RECORDING_WRITE_FAILED'), 1, 'a file that cannot be created is the same failure');
});

t.test('the stereo tap: caller left, bot right, on the caller\'s clock', (t) => {
  const out: number[] = [];
  const tap = new StereoTap((s) => out.push(...s), 6);
  tap.bot(Int16Array.from([1, 2, 3]));
  tap.caller(Int16Array.from([10, 20]));
  t.same(out, [10, 1, 20, 2], 'the bot\'s samples beside the caller\'s');
  out.length = 0;
  tap.caller(Int16Array.from([30, 40]));
  t.same(out, [30, 3, 40, 0], 'silence when the bot has nothing more');
  out.length = 0;
  tap.bot(Int16Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  t.equal(tap.dropped, 2, 'beyond its bound the oldest of the bot\'s samples go');
  tap.caller(Int16Array.from([0, 0, 0]));
  t.same(out, [0, 3, 0, 4, 0, 5]);
  out.length = 0;
  tap.clearBot();
  tap.caller(Int16Array.from([9]));
  t.same(out, [9, 0], 'cleared audio is never heard, so never recorded');
  t.end();
});
