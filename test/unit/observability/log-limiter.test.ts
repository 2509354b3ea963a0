import fc from 'fast-check';
import t from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { LogLimiter, SUPPRESSED } from '../../../src/observability/log-limiter.js';

t.test('the first occurrence is due at once, repeats within intervalMs are counted but suppressed', async (t) => {
  const clock = new ManualClock();
  const l = new LogLimiter({ clock, intervalMs: 10_000 });
  t.equal(l.intervalMs, 10_000);
  t.equal(l.hit('A'), 0, 'first: due, nothing suppressed before it');
  for (let i = 0; i < 99; i++) t.equal(l.hit('A'), SUPPRESSED);
  clock.advance(9_999);
  t.equal(l.hit('A'), SUPPRESSED, '1 ms before the interval ends');
  t.equal(l.pending('A'), 100);
  clock.advance(1);
  t.equal(l.hit('A'), 100, 'the next line is due after intervalMs and reports the 100 suppressed');
  t.equal(l.hit('A'), SUPPRESSED, 'the interval restarts at each line');
  t.equal(l.count('A'), 103, 'every occurrence counted');
});

t.test('keys are independent', async (t) => {
  const clock = new ManualClock();
  const l = new LogLimiter({ clock });
  t.equal(l.hit('A'), 0);
  t.equal(l.hit('B'), 0, 'another key is logged at once');
  t.equal(l.hit('A'), SUPPRESSED);
  t.equal(l.count('A'), 2);
  t.equal(l.count('B'), 1);
  t.equal(l.count('C'), 0);
});

t.test('flush reports what each key suppressed since its last line, once', async (t) => {
  const clock = new ManualClock();
  const l = new LogLimiter({ clock, intervalMs: 1000 });
  l.hit('A'); l.hit('A'); l.hit('A');
  l.hit('B');
  const got: [string, number][] = [];
  l.flush((k, n) => got.push([k, n]));
  t.same(got, [['A', 2]], 'B suppressed nothing: no summary');
  l.flush((k, n) => got.push([k, n]));
  t.same(got, [['A', 2]], 'a second flush reports nothing new');
  t.equal(l.hit('A'), SUPPRESSED, 'the flush line counts as a line: the interval restarts');
  clock.advance(1000);
  t.equal(l.hit('A'), 1);
  t.equal(l.count('A'), 5);
});

t.test('keys beyond maxKeys share one slot reported as *', async (t) => {
  const l = new LogLimiter({ clock: new ManualClock(), maxKeys: 2 });
  t.equal(l.hit('A'), 0);
  t.equal(l.hit('B'), 0);
  t.equal(l.hit('C'), 0, 'the first overflowing key is logged');
  t.equal(l.hit('D'), SUPPRESSED, 'later new keys share its slot');
  t.equal(l.count('*'), 2);
  const got: [string, number][] = [];
  l.flush((k, n) => got.push([k, n]));
  t.same(got, [['*', 1]]);
});

t.test('property: lines ≤ 1 + span/intervalMs (+1 flush), and the lines account for every occurrence', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 5000 }),
    fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 400 }),
    (intervalMs, gaps) => {
      const clock = new ManualClock();
      const l = new LogLimiter({ clock, intervalMs });
      let lines = 0;
      let accounted = 0;
      let span = 0;
      for (const [i, g] of gaps.entries()) {
        if (i > 0) { clock.advance(g); span += g; }
        const s = l.hit('K');
        if (s !== SUPPRESSED) { lines++; accounted += 1 + s; }
      }
      l.flush((_k, n) => { lines++; accounted += n; });
      return lines <= 2 + Math.floor(span / intervalMs) && accounted === gaps.length && l.count('K') === gaps.length;
    },
  ));
  t.pass();
});
