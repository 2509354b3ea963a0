import t, { type Test } from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { FilePlayback, type FilePlaybackOptions } from '../../../src/media/file-playback.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { RecordingActions, ramp } from './playback-helpers.js';

function setup(t: Test, extra: Partial<FilePlaybackOptions> = {}) {
  const clock = new ManualClock();
  const actions = new RecordingActions();
  const metrics = new MetricsRegistry();
  const fp = new FilePlayback({ clock, actions, metrics, logger: silentLogger(), sampleRateHz: 8000, ...extra });
  t.teardown(() => fp.close());
  return { clock, actions, metrics, fp };
}

const file = (n: number): string => `/usr/local/freeswitch/var/cache/freeswitch/u_${n}.tmp.r8`;

t.test('a burst: segments grow 200 → 400 → 800 → 1600 ms, 2 in flight, audio intact and in order', async (t) => {
  const { fp, actions } = setup(t);
  const audio = ramp(3000);
  fp.pushAudio(audio);
  t.same(actions.log, ['send:1600', 'send:3200']);
  t.ok(actions.sent.every((s) => s.rate === 8000));
  fp.onPlay(file(0));
  fp.onPlay(file(1));
  t.same(actions.broadcasts, [file(0), file(1)]);
  fp.onPlaybackStop(file(0));
  t.equal(actions.sent.at(-1)!.pcm.length, 6400);
  fp.onPlay(file(2));
  fp.onPlaybackStop(file(1));
  t.equal(actions.sent.at(-1)!.pcm.length, 12800);
  fp.onPlay(file(3));
  t.equal(fp.queuedMs, 0);
  t.same(actions.sent.flatMap((s) => Array.from(s.pcm)), Array.from(audio));
  t.same(actions.broadcasts, [0, 1, 2, 3].map(file));
});

t.test('a waiting partial segment goes out after idleFlushMs, or at once when FreeSWITCH runs dry', async (t) => {
  const { fp, actions, clock } = setup(t);
  fp.pushAudio(ramp(1000));
  t.same(actions.log, ['send:1600', 'send:3200']);
  fp.onPlay(file(0)); fp.onPlay(file(1));
  fp.onPlaybackStop(file(0));
  t.equal(actions.sent.length, 2, '400 ms waiting for an 800 ms target');
  clock.advance(60);
  t.same(actions.log.filter((l) => l.startsWith('send')), ['send:1600', 'send:3200', 'send:3200']);
  // a new spurt starts small again; when nothing is in flight, 200 ms is enough to send
  fp.onPlay(file(2));
  fp.onPlaybackStop(file(1));
  fp.onPlaybackStop(file(2));
  fp.pushAudio(ramp(150));
  t.equal(actions.sent.length, 3);
  fp.pushAudio(ramp(100));
  t.equal(actions.sent.at(-1)!.pcm.length, 1600);
  t.equal(actions.sent.length, 4);
  fp.onPlay(file(3));
  fp.onPlaybackStop(file(3));
  t.equal(actions.sent.length, 4, 'less than segmentMs waits even when FreeSWITCH is idle');
  clock.advance(60);
  t.equal(actions.sent.at(-1)!.pcm.length, 400, 'the 50 ms rest goes out after idleFlushMs');
});

t.test('marks sit on segment ends and are answered, in order, at PLAYBACK_STOP', async (t) => {
  const { fp, actions } = setup(t);
  fp.pushAudio(ramp(300));
  fp.mark('A');
  fp.pushAudio(ramp(100));
  fp.mark('B');
  t.same(actions.log, ['send:1600', 'send:800']);
  fp.onPlay(file(0)); fp.onPlay(file(1));
  fp.onPlaybackStop(file(0));
  t.same(actions.log, ['send:1600', 'send:800', 'broadcast:' + file(0), 'broadcast:' + file(1), 'send:800']);
  t.same(actions.marks, []);
  fp.onPlay(file(2));
  fp.onPlaybackStop(file(1));
  t.same(actions.marks, ['A']);
  fp.onPlaybackStop(file(2));
  t.same(actions.marks, ['A', 'B']);
  fp.mark('C');
  t.same(actions.marks, ['A', 'B', 'C'], 'nothing pending: answered at once');
});

t.test('a mark right after sent audio waits for that segment', async (t) => {
  const { fp, actions } = setup(t);
  fp.pushAudio(ramp(200));
  fp.mark('end');
  t.same(actions.marks, []);
  fp.onPlay(file(0));
  fp.onPlaybackStop('/some/other/file.wav');
  t.same(actions.marks, []);
  fp.onPlaybackStop(file(0));
  t.same(actions.marks, ['end']);
});

t.test('a partial segment is sent once the bot pauses for idleFlushMs', async (t) => {
  const { fp, actions, clock } = setup(t, { idleFlushMs: 60 });
  fp.pushAudio(ramp(20));
  clock.advance(20);
  fp.pushAudio(ramp(20));
  clock.advance(59);
  t.same(actions.log, []);
  clock.advance(1);
  t.same(actions.log, ['send:320']);
});

t.test('clear breaks playback, answers every pending mark in order, ignores stale events', async (t) => {
  const { fp, actions } = setup(t);
  fp.pushAudio(ramp(200));
  fp.mark('m1');
  fp.pushAudio(ramp(200));
  fp.mark('m2');
  fp.pushAudio(ramp(400));
  fp.mark('m3');
  t.equal(actions.sent.length, 2);
  fp.onPlay(file(0));
  fp.clear();
  t.equal(actions.breaks, 1);
  t.same(actions.marks, ['m1', 'm2', 'm3']);
  t.equal(fp.queuedMs, 0);
  t.equal(fp.inFlightSegments, 0);
  // new audio after the clear starts with a small segment again
  fp.pushAudio(ramp(200));
  fp.mark('after');
  t.equal(actions.sent.length, 3);
  t.equal(actions.sent[2].pcm.length, 1600);
  // ::play of the cleared segment arrives late, then the new one's
  fp.onPlay(file(1));
  fp.onPlaybackStop(file(0)); // stopped by the break
  fp.onPlay(file(2));
  t.same(actions.broadcasts, [file(0), file(2)]);
  t.same(actions.marks, ['m1', 'm2', 'm3']);
  fp.onPlaybackStop(file(2));
  t.same(actions.marks, ['m1', 'm2', 'm3', 'after']);
});

t.test('a segment broadcast before clear that starts after it is broken at its PLAYBACK_START', async (t) => {
  // Real FreeSWITCH: a broadcast waiting for its lead frames survives `uuid_break all` and plays.
  const { fp, actions } = setup(t);
  fp.pushAudio(ramp(200));
  fp.pushAudio(ramp(400));
  fp.onPlay(file(0));
  fp.onPlay(file(1));
  t.same(actions.broadcasts, [file(0), file(1)]);
  fp.clear();
  t.same(actions.log.filter((x) => x.startsWith('break')), ['break']);
  fp.onPlaybackStart(file(1));
  t.same(actions.log.filter((x) => x.startsWith('break')), ['break', 'break-current'], 'the late cleared file is broken');
  fp.onPlaybackStart(file(1));
  fp.pushAudio(ramp(200));
  fp.onPlay(file(2));
  fp.onPlaybackStart(file(2));
  t.same(actions.log.filter((x) => x.startsWith('break')), ['break', 'break-current'], 'only once, and never a new file');
});

t.test('a segment that never reports is assumed played after duration + grace', async (t) => {
  const { fp, actions, clock, metrics } = setup(t, { playbackGraceMs: 1000 });
  fp.pushAudio(ramp(200));
  fp.mark('x');
  fp.onPlay(file(0));
  clock.advance(1199);
  t.same(actions.marks, []);
  clock.advance(1);
  t.same(actions.marks, ['x']);
  t.equal(metrics.errorCount('MEDIA_PLAYBACK_TIMEOUT'), 1);
  t.equal(fp.segmentsTimedOut, 1);
});

t.test('a refused streamAudio loses that segment but answers its marks', async (t) => {
  const { fp, actions, metrics } = setup(t);
  fp.pushAudio(ramp(200));
  fp.mark('a');
  fp.pushAudio(ramp(200));
  fp.mark('b');
  fp.onRejected();
  t.same(actions.marks, ['a']);
  t.equal(metrics.errorCount('MEDIA_PLAYBACK_REJECTED'), 1);
  fp.onPlay(file(0));
  t.same(actions.broadcasts, [file(0)]);
  fp.onPlaybackStop(file(0));
  t.same(actions.marks, ['a', 'b']);
});

t.test('16 kHz segments, overflow and mark bounds', async (t) => {
  const { fp, actions, metrics } = setup(t, { sampleRateHz: 16000, maxBufferMs: 1000, maxInFlightSegments: 1 });
  fp.pushAudio(ramp(2000, 0, 16000));
  t.equal(actions.sent.length, 1);
  t.equal(actions.sent[0].rate, 16000);
  t.equal(actions.sent[0].pcm.length, 3200);
  t.equal(metrics.errorCount('MEDIA_PLAYOUT_OVERFLOW'), 1);
  t.ok(fp.queuedMs <= 1000);
  for (let i = 0; i < 1030; i++) fp.mark(`k${i}`);
  t.equal(metrics.errorCount('MEDIA_TOO_MANY_MARKS'), 6);
  t.equal(actions.marks.length, 6);
});

t.test('close stops every action', async (t) => {
  const { fp, actions, clock } = setup(t);
  fp.pushAudio(ramp(50));
  fp.close();
  fp.close();
  clock.advance(10_000);
  fp.pushAudio(ramp(500));
  fp.mark('z');
  fp.clear();
  t.same(actions.log, []);
});
