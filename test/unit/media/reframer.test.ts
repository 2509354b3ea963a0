import t from 'tap';
import { Reframer } from '../../../src/media/reframer.js';

const ramp = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i);

function run(frameSamples: number, sizes: number[]) {
  const frames: number[][] = [];
  const r = new Reframer(frameSamples, (f) => frames.push([...f]));
  let at = 0;
  for (const n of sizes) { r.push(ramp(at, n)); at += n; }
  return { frames, pending: r.pending, total: at };
}

t.test('30 ms messages become 20 ms frames, in order, nothing lost', async (t) => {
  const { frames, pending } = run(160, [240, 240, 240, 240]);
  t.equal(frames.length, 6);
  t.ok(frames.every((f) => f.length === 160));
  t.same(frames.flat(), [...ramp(0, 960)]);
  t.equal(pending, 0);
});

t.test('any split of the stream gives the same frames', async (t) => {
  const want = run(160, [1600]).frames;
  for (const sizes of [[1, 159, 160, 1280], [80, 80, 80, 80, 1280], [7, 333, 1000, 260], [1599, 1], [240, 240, 240, 240, 240, 240, 160]]) {
    const got = run(160, sizes);
    t.same(got.frames, want, `sizes ${sizes.join(',')}`);
  }
});

t.test('a remainder waits; reset drops it', async (t) => {
  const frames: number[][] = [];
  const r = new Reframer(160, (f) => frames.push([...f]));
  r.push(ramp(0, 100));
  t.equal(frames.length, 0);
  t.equal(r.pending, 100);
  r.reset();
  r.push(ramp(0, 160));
  t.same(frames, [[...ramp(0, 160)]]);
});

t.test('a 20 ms message is passed through as the same view (no copy)', async (t) => {
  const seen: Int16Array[] = [];
  const r = new Reframer(160, (f) => seen.push(f));
  const m = ramp(0, 160);
  r.push(m);
  t.equal(seen[0], m);
});
