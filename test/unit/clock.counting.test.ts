import t from 'tap';
import { CountingClock, ManualClock } from '../../src/clock.js';

t.test('CountingClock counts timers until they fire or are cancelled, once each', (t) => {
  const inner = new ManualClock();
  const c = new CountingClock(inner);
  let fired = 0;
  const cancelA = c.setTimeout(() => { fired++; }, 100);
  const cancelB = c.setTimeout(() => { fired++; }, 200);
  t.equal(c.pendingTimers, 2);
  inner.advance(100);
  t.equal(fired, 1);
  t.equal(c.pendingTimers, 1, 'a fired timer is no longer pending');
  cancelA(); // cancelling a timer that fired changes nothing
  t.equal(c.pendingTimers, 1);
  cancelB();
  cancelB();
  t.equal(c.pendingTimers, 0, 'cancelled once, counted once');
  inner.advance(1000);
  t.equal(fired, 1, 'a cancelled timer never fires');
  t.equal(c.nowMs(), inner.nowMs());
  t.end();
});
