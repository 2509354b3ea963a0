import t from 'tap';
import { TrunkLimiter, type Release } from '../../../src/sip/trunk-limiter.js';
import { ManualClock } from '../../../src/clock.js';

const flush = () => new Promise((r) => setImmediate(r));

t.test('maxConcurrent: the third waits until one is released', async (t) => {
  const clock = new ManualClock();
  const l = new TrunkLimiter({ maxConcurrent: 2, callsPerSecond: 0, queueMax: 5 }, clock);
  const a = await l.acquire() as Release;
  const b = await l.acquire() as Release;
  let third: unknown;
  void l.acquire().then((r) => { third = r; });
  await flush();
  t.equal(third, undefined);
  t.equal(l.waiting, 1);
  a();
  a(); // idempotent
  await flush();
  t.type(third, 'function');
  t.equal(l.inUse, 2);
  b();
  (third as Release)();
  t.equal(l.inUse, 0);
});

t.test('callsPerSecond spaces starts on the clock', async (t) => {
  const clock = new ManualClock();
  const l = new TrunkLimiter({ maxConcurrent: 10, callsPerSecond: 2, queueMax: 5 }, clock);
  const got: number[] = [];
  for (let i = 0; i < 3; i++) void l.acquire().then(() => got.push(clock.nowMs()));
  await flush();
  t.same(got, [0]);
  clock.advance(499);
  await flush();
  t.same(got, [0]);
  clock.advance(1);
  await flush();
  t.same(got, [0, 500]);
  clock.advance(500);
  await flush();
  t.same(got, [0, 500, 1000]);
});

t.test('queueMax: beyond it "full" at once; abort frees a place; close refuses', async (t) => {
  const clock = new ManualClock();
  const l = new TrunkLimiter({ maxConcurrent: 1, callsPerSecond: 0, queueMax: 2 }, clock);
  await l.acquire();
  const ac = new AbortController();
  const q1 = l.acquire(ac.signal);
  const q2 = l.acquire();
  t.equal(await l.acquire(), 'full');
  ac.abort();
  t.equal(await q1, 'aborted');
  t.equal(l.waiting, 1);
  const q3 = l.acquire();
  t.equal(l.waiting, 2);
  l.close();
  t.equal(await q2, 'full');
  t.equal(await q3, 'full');
  t.equal(await l.acquire(), 'full');
});
