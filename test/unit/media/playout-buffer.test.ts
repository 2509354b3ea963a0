import t from 'tap';
import fc from 'fast-check';
import { PlayoutBuffer } from '../../../src/media/playout-buffer.js';

type Cmd =
  | { kind: 'push'; samples: number[] }
  | { kind: 'mark' }
  | { kind: 'pull'; n: number }
  | { kind: 'clear' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 40 }) }),
  fc.record({ kind: fc.constant('mark' as const) }),
  fc.record({ kind: fc.constant('pull' as const), n: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

type Item = { s: number } | { m: string };

t.test('behaves like a simple queue model with drop-oldest (fast-check)', async (t) => {
  fc.assert(
    fc.property(
      fc.array(cmdArb, { maxLength: 80 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
      (cmds, maxMs, initMs) => {
        // 1000 Hz: one sample per ms, so maxBufferMs is the bound in samples
        const buf = new PlayoutBuffer({ sampleRateHz: 1000, maxBufferMs: maxMs, initialBufferMs: initMs });
        const q: Item[] = [];
        let passedEarly: string[] = [];
        let dropped = 0;
        let cleared = 0;
        let markN = 0;
        const count = (): number => q.filter((x) => 's' in x).length;
        for (const c of cmds) {
          if (c.kind === 'push') {
            buf.push(Int16Array.from(c.samples));
            for (const v of c.samples) q.push({ s: v });
            while (count() > maxMs) {
              for (;;) {
                const head = q.shift()!;
                if ('m' in head) passedEarly.push(head.m);
                else { dropped++; break; }
              }
            }
          } else if (c.kind === 'mark') {
            const name = `m${markN++}`;
            if (!buf.mark(name)) return false;
            q.push({ m: name });
          } else if (c.kind === 'pull') {
            const out = new Int16Array(c.n);
            const r = buf.pull(out, c.n);
            const want: number[] = [];
            const marks = passedEarly;
            passedEarly = [];
            while (q.length > 0) {
              const head = q[0];
              if ('m' in head) { marks.push(head.m); q.shift(); continue; }
              if (want.length === c.n) break;
              want.push(head.s);
              q.shift();
            }
            if (r.samples !== want.length) return false;
            if (Array.from(out.subarray(0, r.samples)).join() !== want.join()) return false;
            if (r.marks.join() !== marks.join()) return false;
          } else {
            const names = buf.clear();
            const want = [...passedEarly, ...q.filter((x): x is { m: string } => 'm' in x).map((x) => x.m)];
            cleared += count();
            q.length = 0;
            passedEarly = [];
            if (names.join() !== want.join()) return false;
          }
          if (buf.bufferedSamples !== count()) return false;
          if (buf.bufferedSamples > maxMs) return false;
          if (buf.droppedSamples !== dropped) return false;
          if (buf.clearedSamples !== cleared) return false;
        }
        return true;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass('model held');
});

t.test('marks are reported once, in order, after the audio before them', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 8000 });
  b.mark('start');
  b.push(new Int16Array(160).fill(1));
  b.mark('a');
  b.mark('b');
  b.push(new Int16Array(100).fill(2));
  b.mark('c');
  const out = new Int16Array(160);
  t.same(b.pull(out, 0).marks, ['start']);
  t.same(b.pull(out, 159).marks, []);
  t.equal(b.samplesBeforeNextMark(), 1);
  t.same(b.pull(out, 1).marks, ['a', 'b']);
  const r = b.pull(out, 160);
  t.equal(r.samples, 100);
  t.same(r.marks, ['c']);
  t.equal(b.pendingMarks, 0);
  t.equal(b.samplesBeforeNextMark(), -1);
});

t.test('clear returns pending marks and empties the buffer', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 8000 });
  b.push(new Int16Array(320));
  b.mark('x');
  b.push(new Int16Array(320));
  b.mark('y');
  t.same(b.clear(), ['x', 'y']);
  t.equal(b.bufferedSamples, 0);
  t.equal(b.clearedSamples, 640);
  t.same(b.clear(), []);
  t.same(b.pull(new Int16Array(10)).marks, []);
});

t.test('overflow drops the oldest and counts it; marks passed by the drop come out on the next pull', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 1000, maxBufferMs: 10, initialBufferMs: 4 });
  b.push(Int16Array.from([1, 2, 3, 4, 5, 6]));
  b.mark('old');
  b.push(Int16Array.from([7, 8, 9, 10, 11, 12, 13, 14]));
  t.equal(b.bufferedSamples, 10);
  t.equal(b.droppedSamples, 4);
  t.equal(b.overflows, 1);
  const out = new Int16Array(3);
  const r = b.pull(out);
  t.same(Array.from(out), [5, 6, 7]);
  t.same(r.marks, ['old']);
  b.push(new Int16Array(25).map((_, i) => 100 + i));
  t.equal(b.bufferedSamples, 10);
  t.equal(b.droppedSamples, 4 + 7 + 15);
  b.pull(out);
  t.same(Array.from(out), [115, 116, 117]);
});

t.test('underruns count the moments audio runs dry, not idle pulls', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 8000 });
  const out = new Int16Array(160);
  b.pull(out);
  b.pull(out);
  t.equal(b.underruns, 0);
  b.push(new Int16Array(400));
  b.pull(out);
  b.pull(out);
  b.pull(out); // 80 of 160
  b.pull(out);
  t.equal(b.underruns, 1);
});

t.test('mark bound: refused beyond maxMarks and counted', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 8000, maxMarks: 2 });
  t.ok(b.mark('a'));
  t.ok(b.mark('b'));
  t.notOk(b.mark('c'));
  t.equal(b.refusedMarks, 1);
  t.same(b.pull(new Int16Array(1)).marks, ['a', 'b']);
  t.ok(b.mark('d'));
});

t.test('bufferedMs and a long-running ring keep positions right', async (t) => {
  const b = new PlayoutBuffer({ sampleRateHz: 8000, maxBufferMs: 100, initialBufferMs: 20 });
  const frame = new Int16Array(160);
  const out = new Int16Array(160);
  for (let k = 0; k < 5000; k++) {
    frame.fill(k & 0x7fff);
    b.push(frame);
    if (k % 7 === 0) b.mark(`k${k}`);
    const r = b.pull(out);
    if (r.samples !== 160 || out[0] !== (k & 0x7fff) || out[159] !== (k & 0x7fff)) { t.fail(`frame ${k}`); return; }
    if (k % 7 === 0 && r.marks[0] !== `k${k}`) { t.fail(`mark ${k}`); return; }
  }
  b.push(new Int16Array(400));
  t.equal(b.bufferedMs, 50);
});
