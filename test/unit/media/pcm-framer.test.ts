import t from 'tap';
import { readFileSync } from 'node:fs';
import { PcmFramer } from '../../../src/media/pcm-framer.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const fixture = new Uint8Array(readFileSync(CAPTURES + '/audio-stream/first-binary-frame/mono-8k.pcm'));

function collect(framer: PcmFramer, parts: Uint8Array[]): number[] {
  const out: number[] = [];
  for (const p of parts) for (const v of framer.push(p)) out.push(v);
  return out;
}

t.test('a captured 20 ms frame gives 160 little-endian samples', async (t) => {
  t.equal(fixture.length, 320);
  const f = new PcmFramer(1024);
  const pcm = f.push(fixture);
  t.equal(pcm.length, 160);
  const dv = new DataView(fixture.buffer, fixture.byteOffset, fixture.byteLength);
  t.equal(pcm[0], dv.getInt16(0, true));
  t.equal(pcm[159], dv.getInt16(318, true));
  t.notOk(f.hasCarry);
});

t.test('two frames split at every byte offset give the same samples', async (t) => {
  const stream = new Uint8Array(640);
  stream.set(fixture, 0);
  stream.set(fixture.map((b) => b ^ 0x5a), 320);
  const whole = collect(new PcmFramer(1024), [stream]);
  t.equal(whole.length, 320);
  for (let a = 0; a <= 640; a++) {
    for (const b of [a, Math.min(640, a + 1), Math.min(640, a + 3), Math.min(640, a + 320)]) {
      const got = collect(new PcmFramer(1024), [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
      if (got.join() !== whole.join()) { t.fail(`split ${a}/${b}`); return; }
    }
  }
  t.pass('every split equal');
});

t.test('unaligned input buffers are handled', async (t) => {
  const backing = new Uint8Array(330);
  backing.set(fixture, 1);
  const pcm = new PcmFramer(1024).push(backing.subarray(1, 321));
  t.same(Array.from(pcm), Array.from(new PcmFramer(1024).push(fixture)));
});

t.test('the view is reused for repeated lengths; reset drops the carry', async (t) => {
  const f = new PcmFramer(1024);
  const v1 = f.push(fixture);
  const v2 = f.push(fixture);
  t.equal(v1, v2);
  f.push(new Uint8Array([1, 2, 3]));
  t.ok(f.hasCarry);
  f.reset();
  t.notOk(f.hasCarry);
  t.same(Array.from(f.push(new Uint8Array([0x34, 0x12]))), [0x1234]);
  t.throws(() => f.push(new Uint8Array(1025)), RangeError);
});

t.test('messages bigger than the first scratch grow it, and samples stay exact', async (t) => {
  const f = new PcmFramer(65536);
  const big = new Uint8Array(20001);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const a = f.push(big);
  t.equal(a.length, 10000);
  t.equal(a[9999], ((big[19999] << 8) | big[19998]) << 16 >> 16);
  t.ok(f.hasCarry, 'the odd byte is carried');
  const b = f.push(new Uint8Array([0x12, 0x34, 0x56]));
  t.equal(b.length, 2);
  t.equal(b[0], ((0x12 << 8) | big[20000]) << 16 >> 16);
  t.equal(b[1], ((0x56 << 8) | 0x34) << 16 >> 16);
});
