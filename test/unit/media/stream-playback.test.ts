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

t.test('a burst is sent in real time: one 40 ms chunk per 40 ms, audio intact (lead 20 ms)', async (t) => {
  const { sp, actions, clock, at } = setup(t, { leadMs: 20 });
  const audio = ramp(200);
  sp.pushAudio(audio);
  t.same(at, ['0:send:320']);
  clock.advance(400);
  t.same(at, ['0:send:320', '40:send:320', '80:send:320', '120:send:320', '160:send:320']);
  t.same(actions.sent.flatMap((s) => Array.from(s.pcm)), Array.from(audio));
  t.notOk(sp.active, 'the pacer stops when idle');
});

t.test('marks are answered when the audio before them has been sent and has played (lead 20 ms)', async (t) => {
  const { sp, clock, at } = setup(t, { leadMs: 20 });
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

t.test('issue 9: with the default lead (40 ms) a second chunk goes out one frame after the first, then one per 40 ms', async (t) => {
  const { sp, actions, clock, at } = setup(t);
  const audio = ramp(200);
  sp.pushAudio(audio);
  clock.advance(400);
  t.same(at, ['0:send:320', '20:send:320', '60:send:320', '100:send:320', '140:send:320']);
  t.same(actions.sent.flatMap((s) => Array.from(s.pcm)), Array.from(audio));
});

/**
 * A bot speaking in real time (20 ms every 20 ms) while the timers wake up late: `lateMs(k)` is
 * how late the k-th timer fires. Returns the far end's timeline: when each frame of bot audio
 * plays (sentUntil), and what was dropped.
 */
function realTimeBot(t: Test, lateMs: (k: number) => number, opts: Partial<StreamPlaybackOptions>, seconds: number) {
  const clock = new ManualClock();
  const actions = new RecordingActions();
  const metrics = new MetricsRegistry();
  let k = 0;
  const lateClock = {
    nowMs: () => clock.nowMs(), wallMs: () => clock.wallMs(),
    setTimeout: (fn: () => void, d: number) => clock.setTimeout(fn, d + lateMs(k++)),
  };
  const sp = new StreamPlayback({ clock: lateClock, actions, metrics, logger: silentLogger(), sampleRateHz: 8000, ...opts });
  t.teardown(() => sp.close());
  // the far end plays what it got back to back; a gap when it ran dry
  let farEndUntil = 0;
  let gapsMs = 0;
  const origSend = actions.sendText.bind(actions);
  actions.sendText = (text: string) => {
    const now = clock.nowMs();
    if (farEndUntil < now) { if (farEndUntil > 0) gapsMs += now - farEndUntil; farEndUntil = now; }
    origSend(text);
    farEndUntil += (actions.sent[actions.sent.length - 1].pcm.length * 1000) / 8000;
  };
  const holds: number[] = [];
  // a first burst of 100 ms keeps audio queued, so the pacer runs all along (as with a bot whose
  // messages arrive with jitter, or marks pending)
  sp.pushAudio(ramp(100));
  for (let ms = 0; ms < seconds * 1000; ms += 20) {
    sp.pushAudio(ramp(20));
    holds.push(sp.queuedMs);
    clock.advance(20);
  }
  return { holds, gapsMs, metrics, sp };
}

t.test('issue 9: timers up to 20 ms late leave no gap at the far end with the default lead; with lead 20 they do', async (t) => {
  const jitter = (k: number) => (k % 3 === 0 ? 15 : 0);
  const lead40 = realTimeBot(t, jitter, {}, 20);
  t.equal(lead40.gapsMs, 0, 'no gap');
  t.ok(Math.max(...lead40.holds.slice(50)) <= 160, `queued audio stays at the first burst's (max ${Math.max(...lead40.holds.slice(50))} ms)`);
  const lead20 = realTimeBot(t, jitter, { leadMs: 20, maxLagMs: Infinity }, 20);
  t.ok(lead20.gapsMs > 0, `gaps with lead 20: ${lead20.gapsMs} ms`);
});

t.test('issue 9: stalls longer than the lead: the hold returns within maxLagMs instead of growing with each stall', async (t) => {
  // a 100 ms stall every second for 30 s: 3 s of slip in all
  const stalls = (k: number) => (k % 50 === 49 ? 100 : 0);
  const bounded = realTimeBot(t, stalls, {}, 30);
  const last = bounded.holds.slice(-50);
  t.ok(Math.max(...last) <= 100 + 200 + 100, `queued in the last second ≤ the first burst + maxLagMs + one stall (max ${Math.max(...last)} ms)`);
  t.ok(bounded.sp.droppedLagMs > 0, `oldest audio dropped: ${bounded.sp.droppedLagMs} ms`);
  t.ok(bounded.metrics.errorCount('MEDIA_PLAYBACK_BEHIND') > 0, 'counted');
  const ratchet = realTimeBot(t, stalls, { maxLagMs: Infinity }, 30);
  t.ok(Math.max(...ratchet.holds.slice(-50)) > 1000, `without the bound the hold ratchets (${Math.max(...ratchet.holds.slice(-50))} ms)`);
});
