// Issue 9: the pipe's I/O on a real FIFO (mkfifo), its byte format, and the directory's cleanup.
import t from 'tap';
import { closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fifo, preparePipeDir } from '../../../src/media/fifo.js';
import { PipeEncoder, pipeCodecFor } from '../../../src/media/pipe-encoder.js';
import { ulawEncode, alawEncode } from '../../../src/media/g711.js';
import { ramp } from './playback-helpers.js';

function tempDir(t: import('tap').Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-pipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('Fifo: made with its mode, written, read by another reader, unlinked on close', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'call-1.L16');
  const fifo = await Fifo.create(path, 0o640);
  const st = lstatSync(path);
  t.ok(st.isFIFO(), 'a FIFO');
  t.equal(st.mode & 0o777, 0o640, 'mode 0640');
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  t.ok(fifo.write(Buffer.from([1, 2, 3, 4])));
  const buf = Buffer.alloc(16);
  t.equal(readSync(reader, buf, 0, 16, null), 4);
  t.same([...buf.subarray(0, 4)], [1, 2, 3, 4]);
  fifo.close();
  t.notOk(existsSync(path), 'unlinked');
  t.equal(readSync(reader, buf, 0, 16, null), 0, 'the reader sees the end of the file');
  closeSync(reader);
  t.notOk(fifo.write(Buffer.from([1])), 'no write after close');
  fifo.close();
});

t.test('Fifo: a reader that stops reading fills the pipe: write returns false (EAGAIN), no error, no EPIPE', async (t) => {
  const dir = tempDir(t);
  const fifo = await Fifo.create(join(dir, 'c.PCMU'));
  t.teardown(() => fifo.close());
  const reader = openSync(fifo.path, constants.O_RDONLY | constants.O_NONBLOCK);
  closeSync(reader); // the reader went away
  const frame = Buffer.alloc(160, 0xff);
  let refused = 0;
  for (let i = 0; i < 2000; i++) if (!fifo.write(frame)) refused++;
  t.ok(refused > 0, `full after ${2000 - refused} frames`);
  t.equal(fifo.writeErrors, 0, 'a full pipe is not an error');
  t.ok(fifo.drain() > 0, 'drain empties it');
  t.ok(fifo.write(frame), 'and it takes frames again');
});

t.test('Fifo.create rejects where the directory is missing, and leaves nothing', async (t) => {
  const dir = tempDir(t);
  await t.rejects(Fifo.create(join(dir, 'missing', 'x.L16')));
  writeFileSync(join(dir, 'taken.L16'), 'x');
  await t.rejects(Fifo.create(join(dir, 'taken.L16')), 'an existing path is not replaced');
  t.equal(lstatSync(join(dir, 'taken.L16')).isFile(), true);
});

t.test('preparePipeDir: made if missing; removes only FIFOs named like a pipe', async (t) => {
  const dir = join(tempDir(t), 'a', 'pipes');
  t.equal(preparePipeDir(dir), 0);
  t.equal(lstatSync(dir).mode & 0o777, 0o750);
  execFileSync('mkfifo', [join(dir, 'b2f1c3d4-0000-4000-8000-000000000001.PCMU')]);
  execFileSync('mkfifo', [join(dir, 'other-fifo')]);
  writeFileSync(join(dir, 'file.L16'), 'not a fifo');
  t.equal(preparePipeDir(dir), 1);
  t.ok(existsSync(join(dir, 'other-fifo')));
  t.ok(existsSync(join(dir, 'file.L16')));
});

t.test('pipeCodecFor: PCMU and PCMA channels get their own codec, every other one L16', async (t) => {
  t.equal(pipeCodecFor('PCMU'), 'PCMU');
  t.equal(pipeCodecFor('PCMA'), 'PCMA');
  t.equal(pipeCodecFor('L16'), 'L16');
  t.equal(pipeCodecFor('G722'), 'L16');
  t.equal(pipeCodecFor('opus'), 'L16');
  t.equal(pipeCodecFor(undefined), 'L16');
});

t.test('PipeEncoder: bytes of each codec at 8 kHz', async (t) => {
  const pcm = ramp(20, -3000);
  const l16 = new PipeEncoder('L16', 8000).encode(pcm);
  t.equal(l16.length, 320);
  t.same(Array.from({ length: 160 }, (_, i) => l16.readInt16LE(2 * i)), Array.from(pcm), 'L16: little-endian samples');
  const mu = new Uint8Array(160);
  ulawEncode(pcm, mu);
  t.same([...new PipeEncoder('PCMU', 8000).encode(pcm)], [...mu], 'PCMU: the μ-law table');
  const a = new Uint8Array(160);
  alawEncode(pcm, a);
  t.same([...new PipeEncoder('PCMA', 8000).encode(pcm)], [...a], 'PCMA: the A-law table');
  t.same([...new PipeEncoder('PCMU', 8000).silence(2)], [0xff, 0xff]);
  t.same([...new PipeEncoder('PCMA', 8000).silence(2)], [0xd5, 0xd5]);
  t.same([...new PipeEncoder('L16', 8000).silence(2)], [0, 0, 0, 0]);
});

t.test('PipeEncoder: 16 kHz frames become 8 kHz bytes (160 samples per 20 ms)', async (t) => {
  const enc = new PipeEncoder('PCMU', 16000);
  const tone = Int16Array.from({ length: 320 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
  t.equal(enc.encode(tone).length, 160);
  t.equal(new PipeEncoder('L16', 16000).encode(tone).length, 320);
});
