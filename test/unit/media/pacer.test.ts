import t from 'tap';
import { ManualClock, type Clock } from '../../../src/clock.js';
import { Pacer } from '../../../src/media/pacer.js';

/** A clock whose timers fire `lateMs()` after they are due, to play a busy event loop. */
class LateClock implements Clock {
  constructor(readonly inner: ManualClock, readonly lateMs: () => number) {}
  nowMs(): number { return this.inner.nowMs(); }
  wallMs(): number { return this.inner.wallMs(); }
  setTimeout(fn: () => void, delayMs: number): () => void {
    return this.inner.setTimeout(fn, Math.max(0, delayMs) + this.lateMs());
  }
}

t.test('one tick per 20 ms on the grid, tick 0 at start', async (t) => {
  const clock = new ManualClock();
  clock.advance(3);
  const at: number[] = [];
  const p = new Pacer({ clock, onTick: (k) => at.push(k, clock.nowMs()) });
  t.teardown(() => p.stop());
  p.start();
  clock.advance(100);
  t.same(at, [0, 3, 1, 23, 2, 43, 3, 63, 4, 83, 5, 103]);
  t.equal(p.ticks, 6);
  t.equal(p.nextDeadlineMs, 123);
});

t.test('late wake-ups catch up without drift', async (t) => {
  const clock = new ManualClock();
  let late = 0;
  const lc = new LateClock(clock, () => late);
  const ks: number[] = [];
  const p = new Pacer({ clock: lc, onTick: (k) => ks.push(k) });
  t.teardown(() => p.stop());
  p.start();
  late = 7; // every wake-up is 7 ms late
  clock.advance(1000);
  // deadlines 0..1000 → ticks 0..49 emitted (tick 50 due at 1000 fires at 1007)
  t.equal(ks.length, 50);
  t.same(ks, Array.from({ length: 50 }, (_, i) => i));
  late = 45; // now two frames late each time: catch-up emits the missed ones
  clock.advance(1000);
  t.same(ks, Array.from({ length: ks.length }, (_, i) => i), 'no index skipped or repeated');
  t.ok(ks.length >= 97 && ks.length <= 101, `about 100 ticks in 2 s (${ks.length})`);
  t.ok(p.lateTicks > 0);
  t.equal(p.stalls, 0);
});

t.test('a long stall skips ahead with a counter instead of flooding', async (t) => {
  const clock = new ManualClock();
  const lateness = [500]; // only the first wake-up is late
  const lc = new LateClock(clock, () => lateness.shift() ?? 0);
  const ks: number[] = [];
  const p = new Pacer({ clock: lc, onTick: (k) => ks.push(k), maxCatchUpFrames: 5 });
  t.teardown(() => p.stop());
  p.start(); // tick 0 at 0, next wake-up at 20 + 500
  clock.advance(520);
  t.same(ks, [0, 26], 'one tick for the newest deadline');
  t.equal(p.stalls, 1);
  t.equal(p.skippedFrames, 25);
  clock.advance(40);
  t.same(ks, [0, 26, 27, 28]);
});

t.test('stop cancels the timer, start re-anchors, both idempotent', async (t) => {
  const clock = new ManualClock();
  const ks: number[] = [];
  const p = new Pacer({ clock, onTick: (k) => ks.push(k) });
  p.start();
  p.start();
  clock.advance(40);
  p.stop();
  p.stop();
  t.notOk(p.isRunning);
  clock.advance(100);
  t.same(ks, [0, 1, 2]);
  clock.advance(5);
  p.start();
  t.equal(p.nextDeadlineMs, 165);
  clock.advance(20);
  t.same(ks, [0, 1, 2, 0, 1]);
  p.stop();
});

t.test('stop from inside a tick ends the run', async (t) => {
  const clock = new ManualClock();
  let n = 0;
  const p = new Pacer({ clock, onTick: () => { if (++n === 3) p.stop(); } });
  p.start();
  clock.advance(200);
  t.equal(n, 3);
});
