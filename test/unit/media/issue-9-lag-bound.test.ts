// Issue 9: 'file' playback, which cannot play without gaps, keeps within a bound of a bot that
// speaks in real time, and never drops the audio of a bot that sends faster than real time.
import t from 'tap';
import { LagBound } from '../../../src/media/lag-bound.js';

t.test('LagBound: real-time pushes are due as they come; a burst is due over its length', async (t) => {
  const b = new LagBound(200, 40);
  b.pushed(0, 20);
  b.pushed(20, 20);
  t.equal(b.lagMs(20, 20), 0, 'the second frame, started when it came: on time');
  t.equal(b.excessMs(200, 20), 0, '180 ms late: within the bound');
  t.equal(b.excessMs(300, 20), 20, '280 ms late: over it, all that is buffered (at most) is dropped');
  const long = new LagBound(200, 40);
  long.pushed(0, 1000);
  t.equal(long.excessMs(280, 1000), 120, '280 ms late with a second buffered: down to 40 ms under the bound');
  const burst = new LagBound(200, 40);
  burst.pushed(0, 10_000); // ten seconds of speech synthesis at once
  t.equal(burst.lagMs(5000, 5000), 0, 'half of it played after 5 s: on time');
  t.equal(burst.excessMs(5100, 5000), 0, '100 ms late is within the bound');
  burst.reset();
  burst.pushed(9000, 20);
  t.equal(burst.lagMs(9000, 20), 0, 'after a reset (clear) nothing is behind');
  t.equal(new LagBound(Infinity, 40).excessMs(1e9, 100), 0, 'an infinite bound never drops');
});
