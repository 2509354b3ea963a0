import t from 'tap';
import { Downsampler16kTo8k, Upsampler8kTo16k } from '../../../src/media/resample.js';

function sine(n: number, freqHz: number, rateHz: number, amp: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freqHz * i) / rateHz));
  return out;
}

function rms(x: Int16Array, from = 0): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / (x.length - from));
}

t.test('upsample writes 2n samples and keeps DC', async (t) => {
  const up = new Upsampler8kTo16k();
  const out = new Int16Array(320);
  t.equal(up.process(new Int16Array(160).fill(1000), out), 320);
  t.same(Array.from(out.subarray(8)), new Array(312).fill(1000));
  t.equal(up.process(new Int16Array(160).fill(1000), out, 10), 20);
});

t.test('downsample halves the count, carries an odd sample, keeps DC', async (t) => {
  const down = new Downsampler16kTo8k();
  const out = new Int16Array(200);
  t.equal(down.process(new Int16Array(321).fill(-500), out), 160);
  t.equal(down.process(new Int16Array(1).fill(-500), out), 1);
  t.equal(down.process(new Int16Array(320).fill(-500), out), 160);
  t.same(Array.from(out.subarray(0, 160)), new Array(160).fill(-500));
});

t.test('any frame split gives the same output as one call (both directions)', async (t) => {
  const x8 = sine(203, 440, 8000, 12000);
  const x16 = sine(407, 700, 16000, 12000);
  const whole8 = new Int16Array(406);
  new Upsampler8kTo16k().process(x8, whole8);
  const whole16 = new Int16Array(204);
  const wn = new Downsampler16kTo8k().process(x16, whole16);
  t.equal(wn, 203);
  for (let cut = 0; cut <= x8.length; cut++) {
    const up = new Upsampler8kTo16k();
    const out = new Int16Array(406);
    const k = up.process(x8.subarray(0, cut), out);
    up.process(x8.subarray(cut), out.subarray(k));
    if (out.some((v, i) => v !== whole8[i])) { t.fail(`up split at ${cut}`); return; }
  }
  for (let cut = 0; cut <= x16.length; cut++) {
    const down = new Downsampler16kTo8k();
    const out = new Int16Array(204);
    const k = down.process(x16.subarray(0, cut), out);
    const k2 = down.process(x16.subarray(cut), out.subarray(k));
    if (k + k2 !== wn || out.some((v, i) => v !== whole16[i])) { t.fail(`down split at ${cut}`); return; }
  }
  t.pass('all splits equal');
});

t.test('downsampling keeps speech band and attenuates what would alias', async (t) => {
  const pass = new Int16Array(800);
  new Downsampler16kTo8k().process(sine(1600, 1000, 16000, 10000), pass);
  const stop = new Int16Array(800);
  new Downsampler16kTo8k().process(sine(1600, 7000, 16000, 10000), stop);
  const inRms = 10000 / Math.SQRT2;
  t.ok(rms(pass, 10) > 0.9 * inRms, 'a 1 kHz tone keeps > 90 % of its level');
  t.ok(rms(stop, 10) < 0.1 * inRms, 'a 7 kHz tone is down by more than 20 dB');
});

t.test('upsampling a 1 kHz tone leaves little image energy', async (t) => {
  const out = new Int16Array(1600);
  new Upsampler8kTo16k().process(sine(800, 1000, 8000, 10000), out);
  // compare with the ideal 16 kHz tone, delayed by 2 input samples (4 output samples)
  const ideal = sine(1604, 1000, 16000, 10000);
  let err = 0;
  for (let i = 8; i < 1600; i++) err += (out[i] - ideal[i - 4]) ** 2;
  t.ok(Math.sqrt(err / 1592) < 0.02 * 10000, 'error under 2 % of the amplitude');
});

t.test('full-scale input does not wrap', async (t) => {
  const x = new Int16Array(64);
  for (let i = 0; i < 64; i++) x[i] = i % 2 ? 32767 : -32768;
  const up = new Int16Array(128);
  new Upsampler8kTo16k().process(x, up);
  t.ok(up.every((v) => v >= -32768 && v <= 32767));
  const sq = new Int16Array(64);
  for (let i = 0; i < 64; i++) sq[i] = (i >> 2) % 2 ? 32767 : -32768;
  const down = new Int16Array(32);
  new Downsampler16kTo8k().process(sq, down);
  t.ok(down.some((v) => v === 32767 || v === -32768), 'overshoot is clipped, not wrapped');
});

t.test('reset forgets history', async (t) => {
  const up = new Upsampler8kTo16k();
  const a = new Int16Array(8);
  up.process(new Int16Array([5000, 5000, 5000]), a);
  up.reset();
  const b = new Int16Array(4);
  up.process(new Int16Array([0, 0]), b);
  t.same(Array.from(b), [0, 0, 0, 0]);
  const down = new Downsampler16kTo8k();
  down.process(new Int16Array([9000, 9000, 9000]), a);
  down.reset();
  t.equal(down.process(new Int16Array([0, 0]), b), 1);
  t.equal(b[0], 0);
});
