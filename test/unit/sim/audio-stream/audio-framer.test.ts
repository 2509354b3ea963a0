import t from 'tap';
import { AudioFramer, normaliseBufferMs } from '../../../../src/sim/freeswitch/audio-stream/audio-framer.js';

function run(f: AudioFramer, frames: number): Buffer[] {
  const out: Buffer[] = [];
  const pcm = new Int16Array(160).map((_, i) => i * 10 - 800);
  for (let i = 0; i < frames; i++) f.push(pcm, (m) => out.push(m));
  return out;
}

t.test('message sizes match the captures', async (t) => {
  t.same(run(new AudioFramer(8000, 'mono', 20), 3).map((b) => b.length), [320, 320, 320]);
  t.same(run(new AudioFramer(16000, 'mono', 20), 2).map((b) => b.length), [640, 640]);
  t.same(run(new AudioFramer(8000, 'stereo', 20), 1).map((b) => b.length), [640]);
  t.same(run(new AudioFramer(16000, 'stereo', 20), 1).map((b) => b.length), [1280]);
  t.same(run(new AudioFramer(8000, 'mono', 100), 10).map((b) => b.length), [1600, 1600]);
  t.equal(run(new AudioFramer(8000, 'mono', 100), 4).length, 0, 'sent only when the buffer is full');
});

t.test('mono 8k is the input, little-endian; stereo puts the caller left', async (t) => {
  const [m] = run(new AudioFramer(8000, 'mono', 20), 1);
  t.equal(m!.readInt16LE(0), -800);
  t.equal(m!.readInt16LE(2), -790);
  const [s] = run(new AudioFramer(8000, 'stereo', 20), 1);
  t.equal(s!.readInt16LE(4), -790);
  t.equal(s!.readInt16LE(6), 0);
  const [w] = run(new AudioFramer(16000, 'mono', 20), 1);
  t.equal(w!.readInt16LE(2), -800); // second output sample of the first input sample
});

t.test('STREAM_BUFFER_SIZE normalisation', async (t) => {
  t.equal(normaliseBufferMs('100'), 100);
  t.equal(normaliseBufferMs('30'), 20);
  t.equal(normaliseBufferMs(undefined), 20);
  t.equal(normaliseBufferMs('abc'), 20);
});
