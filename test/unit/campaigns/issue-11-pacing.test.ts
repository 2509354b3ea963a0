// The campaign dialler's pacing (nextStart): starts keep their grid when the event loop delays
// one, are never closer than half an interval, and start a new grid after a pause.
import t from 'tap';
import { nextStart } from '../../../src/campaigns/dialer.js';

t.test('on time: one interval after the scheduled start', async (t) => {
  t.equal(nextStart(1000, 1000, 20), 1020);
});

t.test('a start 5 ms late does not push the next one back', async (t) => {
  t.equal(nextStart(1000, 1005, 20), 1020, 'the grid is kept');
});

t.test('a start late by more than half an interval: the next one half an interval later', async (t) => {
  t.equal(nextStart(1000, 1015, 20), 1025);
});

t.test('after a pause (more than an interval late) the grid starts again from now', async (t) => {
  t.equal(nextStart(1000, 5000, 20), 5020);
  t.equal(nextStart(-Infinity, 7, 500), 507, 'the first start of a campaign');
});

t.test('1,000 starts with random lateness below an interval keep the rate and the half-interval floor', async (t) => {
  let seed = 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  let scheduled = nextStart(-Infinity, 0, 20);
  const starts: number[] = [0];
  for (let i = 0; i < 1000; i++) {
    const at = scheduled + rand() * 8; // fired up to 8 ms late
    starts.push(at);
    scheduled = nextStart(scheduled, at, 20);
  }
  const gaps = starts.slice(1).map((s, i) => s - starts[i]);
  t.ok(Math.min(...gaps) >= 10, `closest gap ${Math.min(...gaps).toFixed(1)} ms`);
  const rate = (starts.length - 1) / ((starts[starts.length - 1] - starts[0]) / 1000);
  t.ok(rate > 49.5 && rate <= 50.5, `rate ${rate.toFixed(2)}/s with lateness (anchoring each start to its timer would give ~41.7/s)`);
});
