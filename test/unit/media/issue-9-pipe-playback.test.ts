// Issue 9: the pipe writer's pure core, on the injected clock: one frame per 20 ms from start(),
// bot audio or silence, a lead of silence first, marks when their audio has played, clear at once.
import t, { type Test } from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { PipePlayback, type PipePlaybackOptions } from '../../../src/media/pipe-playback.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ramp } from './playback-helpers.js';

function setup(t: Test, extra: Partial<PipePlaybackOptions> = {}, dropWritten?: () => number) {
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  const log: string[] = [];
  const frames: Int16Array[] = [];
  let full = false;
  const pp = new PipePlayback({
    clock, metrics, logger: silentLogger(), sampleRateHz: 8000, ...extra,
    actions: {
      writeFrame: (pcm) => {
        if (full) return false;
        frames.push(Int16Array.from(pcm));
        log.push(`${clock.nowMs()}:${pcm.some((x) => x !== 0) ? 'audio' : 'silence'}`);
        return true;
      },
      markPlayed: (name) => log.push(`${clock.nowMs()}:mark:${name}`),
      ...(dropWritten ? { dropWritten: () => { log.push(`${clock.nowMs()}:drop`); return dropWritten(); } } : {}),
    },
  });
  t.teardown(() => pp.close());
  return { clock, metrics, pp, log, frames, setFull: (v: boolean) => { full = v; } };
}

t.test('start writes the lead of silence, then exactly one frame per 20 ms, silence while the bot is quiet', async (t) => {
  const { pp, clock, log } = setup(t);
  pp.start();
  t.same(log, ['0:silence', '0:silence', '0:silence'], 'two lead frames and tick 0');
  clock.advance(100);
  t.same(log.slice(3), ['20:silence', '40:silence', '60:silence', '80:silence', '100:silence']);
  t.ok(pp.running);
});

t.test('bot audio goes out whole and in order, one frame per tick, however it arrives', async (t) => {
  const { pp, clock, frames } = setup(t, { leadFrames: 1 });
  pp.start();
  const audio = ramp(300, 1);
  pp.pushAudio(audio.subarray(0, 1000));
  pp.pushAudio(audio.subarray(1000));
  clock.advance(400);
  const out = frames.slice(2).flatMap((f) => Array.from(f));
  t.same(out.slice(0, audio.length), Array.from(audio), 'the audio, sample for sample');
  t.ok(out.slice(audio.length).every((x) => x === 0), 'then silence');
  t.equal(pp.audioFrames, 15);
});

t.test('a partial frame waits one tick for the rest; when the bot pauses it is padded', async (t) => {
  const { pp, clock, frames } = setup(t, { leadFrames: 1 });
  pp.start(); // lead + tick 0
  pp.pushAudio(ramp(10, 1)); // 80 samples at t=0
  clock.advance(20); // tick at 20: the bot pushed 20 ms ago -> paused -> padded
  const f = frames[2];
  t.same(Array.from(f.subarray(0, 80)), Array.from(ramp(10, 1)));
  t.ok(f.subarray(80).every((x) => x === 0), 'padded with silence');
  clock.advance(5);
  pp.pushAudio(ramp(10, 1)); // t=25
  clock.advance(15); // tick at 40: pushed 15 ms ago, less than a frame -> waits
  t.ok(frames[3].every((x) => x === 0), 'silence while the rest may still come');
  pp.pushAudio(ramp(10, 81)); // t=40, the rest
  clock.advance(20); // tick at 60
  t.same(Array.from(frames[4]), Array.from(ramp(20, 1)), 'then the whole frame');
});

t.test('a mark is answered when the frame before it has played: its tick + (lead + 1) frames', async (t) => {
  const { pp, clock, log } = setup(t);
  pp.start();
  pp.pushAudio(ramp(40, 1));
  pp.mark('A');
  clock.advance(200);
  // audio written at 20 and 40; the frame of 40 plays 80..100
  t.same(log.filter((l) => l.includes('mark')), ['100:mark:A']);
});

t.test('a mark with no audio before it is answered when the audio already written has played', async (t) => {
  const { pp, clock, log } = setup(t);
  pp.start();
  pp.mark('first');
  clock.advance(20);
  t.same(log.filter((l) => l.includes('mark')), ['20:mark:first'], 'nothing was playing: at the next tick');
  pp.pushAudio(ramp(20, 1));
  clock.advance(20); // written at 40, played by 100
  pp.mark('after');
  clock.advance(100);
  t.same(log.filter((l) => l.includes('mark')), ['20:mark:first', '100:mark:after']);
});

t.test('clear drops the queue and answers every pending mark at once, in order; silence follows', async (t) => {
  const { pp, clock, log } = setup(t);
  pp.start();
  pp.pushAudio(ramp(100, 1));
  pp.mark('A');
  pp.pushAudio(ramp(100, 1));
  pp.mark('B');
  clock.advance(110);
  pp.clear();
  t.same(log.filter((l) => l.includes('mark')), ['110:mark:A', '110:mark:B']);
  const n = log.length;
  clock.advance(60);
  t.same(log.slice(n), ['120:silence', '140:silence', '160:silence'], 'nothing of the cleared audio is written');
  t.equal(pp.queuedMs, 0);
});

t.test('marks before start wait for their audio (no lag bound)', async (t) => {
  const { pp, clock, log } = setup(t, { maxLagMs: Infinity });
  pp.pushAudio(ramp(20, 1));
  pp.mark('A');
  clock.advance(500);
  t.same(log, [], 'nothing is written before start');
  pp.start();
  clock.advance(100);
  t.same(log.filter((l) => l.includes('mark')), ['560:mark:A'], 'written at 500, played by 560');
});

t.test('stop (the reader went away): no more writes, marks of written audio answered; start again writes the lead again (no lag bound)', async (t) => {
  const { pp, clock, log } = setup(t, { maxLagMs: Infinity });
  pp.start();
  pp.pushAudio(ramp(20, 1));
  pp.mark('A');
  pp.pushAudio(ramp(20, 1));
  pp.mark('B');
  clock.advance(20); // A's frame written at 20
  pp.stop();
  t.same(log.filter((l) => l.includes('mark')), ['20:mark:A'], 'A answered: its audio will not play');
  const n = log.length;
  clock.advance(200);
  t.equal(log.length, n, 'nothing written while stopped');
  pp.start();
  t.same(log.slice(n), ['220:silence', '220:silence', '220:audio'], 'the lead again, then B\'s audio');
});

t.test('a full pipe drops the frame and counts MEDIA_PIPE_FULL; the clock goes on', async (t) => {
  const { pp, clock, metrics, setFull } = setup(t);
  pp.start();
  setFull(true);
  clock.advance(100);
  t.equal(pp.framesRefused, 5);
  t.equal(metrics.errorCount('MEDIA_PIPE_FULL'), 5);
  setFull(false);
  clock.advance(20);
  t.equal(pp.framesRefused, 5);
});

t.test('after close nothing is written and no mark is answered', async (t) => {
  const { pp, clock, log } = setup(t);
  pp.start();
  pp.pushAudio(ramp(100, 1));
  pp.mark('A');
  pp.close();
  const n = log.length;
  clock.advance(500);
  pp.pushAudio(ramp(20, 1));
  pp.clear();
  t.equal(log.length, n);
  t.notOk(pp.running);
});

t.test('16 kHz: frames of 320 samples', async (t) => {
  const { pp, clock, frames } = setup(t, { sampleRateHz: 16000, leadFrames: 1 });
  pp.start();
  pp.pushAudio(ramp(20, 1, 16000));
  clock.advance(20);
  t.equal(frames[2].length, 320);
  t.same(Array.from(frames[2]), Array.from(ramp(20, 1, 16000)));
});

t.test('clear takes back what the pipe holds and writes as much silence at once (the level stays)', async (t) => {
  const { pp, clock, log } = setup(t, {}, () => 3);
  pp.start();
  pp.pushAudio(ramp(200, 1));
  clock.advance(60);
  const n = log.length;
  pp.clear();
  t.same(log.slice(n), ['60:drop', '60:silence', '60:silence', '60:silence']);
  clock.advance(20);
  t.same(log.slice(n + 4), ['80:silence'], 'then one frame per tick, silence');
});

t.test('clear before start takes nothing back', async (t) => {
  const { pp, log } = setup(t, {}, () => 3);
  pp.pushAudio(ramp(100, 1));
  pp.clear();
  t.same(log, []);
});

t.test('a real-time bot\'s backlog from before the pipe played is cut to maxLagMs (40 ms) once it stood for half a second', async (t) => {
  // a real-time bot (20 ms every 20 ms) whose first 200 ms arrive before FreeSWITCH plays the pipe
  const { pp, clock, log, metrics } = setup(t);
  let k = 0;
  const speak = (ms: number) => { for (let i = 0; i < ms / 20; i++) { pp.pushAudio(ramp(20, 1 + (k++ % 50) * 160)); if (k === 5) pp.mark('early'); clock.advance(20); } };
  speak(200);
  pp.start();
  speak(300);
  t.ok(pp.queuedMs >= 180, `0.3 s in, the backlog stands: ${pp.queuedMs} ms`);
  t.equal(pp.droppedLagMs, 0, 'nothing dropped yet');
  speak(1000);
  t.ok(pp.queuedMs <= 40, `a second later: ${pp.queuedMs} ms`);
  t.ok(pp.droppedLagMs >= 140, `dropped: ${pp.droppedLagMs} ms`);
  t.equal(metrics.counter('fsbridge_playback_backlog_dropped_ms_total', '').get(), pp.droppedLagMs, 'counted in ms');
  t.equal(metrics.errorCount('MEDIA_PLAYBACK_BEHIND'), 0, 'not an error');
  t.ok(log.some((l) => l.endsWith(':mark:early')), 'the mark placed in the backlog is answered');
});

t.test('a burst (speech synthesis) pushed before the pipe plays is never cut; nor is a bot that pauses', async (t) => {
  const burst = setup(t);
  burst.pp.pushAudio(ramp(3000, 1));
  burst.clock.advance(200);
  burst.pp.start();
  burst.clock.advance(4000);
  t.equal(burst.pp.droppedLagMs, 0);
  t.equal(burst.log.filter((l) => l.endsWith(':audio')).length, 150, 'all 3 s written');
  // speaks 100 ms every 200 ms (real time while it speaks, then quiet): the queue empties each time
  const talky = setup(t);
  talky.pp.start();
  for (let i = 0; i < 20; i++) { talky.pp.pushAudio(ramp(100, 1)); talky.clock.advance(200); }
  t.equal(talky.pp.droppedLagMs, 0);
});

t.test('after an event-loop stall the backlog of a real-time bot is cut back within two seconds', async (t) => {
  const { pp, clock } = setup(t);
  pp.start();
  for (let i = 0; i < 50; i++) { pp.pushAudio(ramp(20, 1)); clock.advance(20); }
  t.ok(pp.queuedMs <= 20, 'steady state: at most a frame queued');
  // 300 ms of the bot's audio arrive while the pacer is stalled (its timer fires only afterwards)
  for (let i = 0; i < 15; i++) pp.pushAudio(ramp(20, 1));
  clock.advance(300);
  for (let i = 0; i < 100; i++) { pp.pushAudio(ramp(20, 1)); clock.advance(20); }
  t.ok(pp.queuedMs <= 40, `queued two seconds later: ${pp.queuedMs} ms`);
});
