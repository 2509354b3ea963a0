import t, { type Test } from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { StreamPlayback, type StreamPlaybackOptions } from '../../../src/media/stream-playback.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { RecordingActions, ramp } from './playback-helpers.js';

function setup(t: Test, extra: Partial<StreamPlaybackOptions> = {}) {
  const clock = new ManualClock();
  const actions = new RecordingActions();
  const metrics = new MetricsRegistry();
  const sp = new StreamPlayback({ clock, actions, metrics, logger: silentLogger(), sampleRateHz: 8000, ...extra });
  t.teardown(() => sp.close());
  const at: string[] = [];
  const origLog = actions.log;
  const push = origLog.push.bind(origLog);
  origLog.push = (...items: string[]) => { for (const i of items) at.push(`${clock.nowMs()}:${i}`); return push(...items); };
  return { clock, actions, metrics, sp, at };
}

t.test('a burst is sent in real time: one 40 ms chunk per 40 ms, audio intact', async (t) => {
  const { sp, actions, clock, at } = setup(t);
  const audio = ramp(200);
  sp.pushAudio(audio);
  t.same(at, ['0:send:320']);
  clock.advance(400);
  t.same(at, ['0:send:320', '40:send:320', '80:send:320', '120:send:320', '160:send:320']);
  t.same(actions.sent.flatMap((s) => Array.from(s.pcm)), Array.from(audio));
  t.notOk(sp.active, 'the pacer stops when idle');
});

t.test('marks are answered when the audio before them has been sent and has played', async (t) => {
  const { sp, clock, at } = setup(t);
  sp.pushAudio(ramp(100));
  sp.mark('M');
  sp.pushAudio(ramp(40));
  sp.mark('N');
  clock.advance(300);
  t.same(at, ['0:send:320', '40:send:320', '80:send:160', '100:mark:M', '100:send:320', '140:mark:N']);
});

t.test('a mark on an idle stream is answered at once', async (t) => {
  const { sp, actions } = setup(t);
  sp.mark('now');
  t.same(actions.marks, ['now']);
});

t.test('chunk size is configurable and clamped to 20–100 ms', async (t) => {
  for (const [asked, samples] of [[20, 160], [100, 800], [500, 800], [5, 160], [50, 480]] as const) {
    const { sp, actions } = setup(t, { chunkMs: asked });
    sp.pushAudio(ramp(1000));
    t.equal(actions.sent[0].pcm.length, samples, `chunkMs ${asked}`);
  }
});

t.test('clear answers every pending mark in order, drops audio, breaks', async (t) => {
  const { sp, actions, clock } = setup(t);
  sp.pushAudio(ramp(60));
  sp.mark('a');
  sp.pushAudio(ramp(500));
  sp.mark('b');
  clock.advance(60); // chunks 0-40, 40-60 sent; 'a' due at 60
  sp.pushAudio(ramp(100));
  sp.mark('c');
  t.same(actions.marks, ['a']);
  sp.clear();
  t.equal(actions.breaks, 1);
  t.same(actions.marks, ['a', 'b', 'c']);
  t.equal(sp.queuedMs, 0);
  t.notOk(sp.active);
  const sent = actions.sent.length;
  clock.advance(200);
  t.equal(actions.sent.length, sent, 'nothing more is sent');
  sp.pushAudio(ramp(20));
  t.equal(actions.sent.length, sent + 1, 'new audio goes out at once');
});

t.test('a stalled event loop is counted and does not flood the far end', async (t) => {
  const clock = new ManualClock();
  const actions = new RecordingActions();
  const metrics = new MetricsRegistry();
  let lateMs = 0;
  const lateClock = {
    nowMs: () => clock.nowMs(),
    wallMs: () => clock.wallMs(),
    setTimeout: (fn: () => void, d: number) => clock.setTimeout(fn, d + lateMs),
  };
  const sp = new StreamPlayback({ clock: lateClock, actions, metrics, logger: silentLogger(), sampleRateHz: 8000 });
  t.teardown(() => sp.close());
  lateMs = 1000;
  sp.pushAudio(ramp(2000));
  lateMs = 0;
  clock.advance(1020);
  t.equal(metrics.errorCount('MEDIA_PACER_STALL'), 1);
  t.equal(actions.sent.length, 2, 'one chunk before and one after the stall');
});

t.test('close stops the pacer and every action', async (t) => {
  const { sp, actions, clock } = setup(t);
  sp.pushAudio(ramp(200));
  sp.mark('m');
  sp.close();
  sp.close();
  clock.advance(1000);
  sp.pushAudio(ramp(100));
  sp.clear();
  sp.onPlay('x'); sp.onRejected(); sp.onPlaybackStop('x');
  t.equal(actions.sent.length, 1);
  t.same(actions.marks, []);
});
