// Issue 8: a bot that sends marks faster than file playback plays them wrote one warn line per
// mark past 1,024 (721,922 lines, 168 MB in a 10-minute soak at 100 calls). Every occurrence must
// still be counted; the log gets the first line per call and then at most one line per 10 s.
import { Writable } from 'node:stream';
import t from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { FilePlayback } from '../../../src/media/file-playback.js';
import { StreamPlayback } from '../../../src/media/stream-playback.js';
import { createLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { LogLimiter } from '../../../src/observability/log-limiter.js';
import { RecordingActions, ramp } from './playback-helpers.js';

type Line = { level: number; code?: string; suppressed?: number; msg: string };

function capture() {
  const lines: Line[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Line); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

const flush = (): Promise<void> => new Promise((res) => setImmediate(res));

const MAX_MARKS = 1024; // PlayoutBuffer default
const EXTRA = 5000;
const SOAK_MS = 60_000;
const INTERVAL_MS = 10_000;

for (const mode of ['file', 'stream'] as const) {
  t.test(`${mode} playback: ${EXTRA} marks past the limit over 60 s are all counted, a handful of lines logged`, async (t) => {
    const clock = new ManualClock();
    const actions = new RecordingActions();
    const metrics = new MetricsRegistry();
    const { lines, logger } = capture();
    const common = { clock, actions, metrics, logger, sampleRateHz: 8000, maxBufferMs: 300_000 };
    const pb = mode === 'file' ? new FilePlayback(common) : new StreamPlayback(common);
    t.teardown(() => pb.close());

    // 120 s of speech first: FreeSWITCH never reports a file played (file mode: each segment times
    // out after duration + 3 s; stream mode: real time), so in 60 s the marks after it stay pending.
    pb.pushAudio(ramp(120_000));
    const total = MAX_MARKS + EXTRA;
    const stepMs = SOAK_MS / total;
    for (let i = 0; i < total; i++) {
      pb.mark(`m${i}`);
      clock.advance(stepMs);
    }
    await flush();
    t.equal(metrics.errorCount('MEDIA_TOO_MANY_MARKS'), EXTRA, 'every refused mark is counted');
    t.equal(actions.marks.length, EXTRA, 'every refused mark is answered at once');

    const warns = (): Line[] => lines.filter((l) => l.code === 'MEDIA_TOO_MANY_MARKS');
    const during = warns();
    t.ok(during.length >= 1, 'the first occurrence is logged');
    t.ok(during.length <= 1 + SOAK_MS / INTERVAL_MS, `at most one line per 10 s after the first (got ${during.length})`);
    t.equal(during[0].suppressed, 0, 'the first line suppressed nothing');
    t.ok(during.slice(1).every((l) => (l.suppressed ?? 0) > 0), 'later lines carry the count suppressed since the previous one');

    pb.close();
    await flush();
    const all = warns();
    t.ok(all.length <= 1 + SOAK_MS / INTERVAL_MS + 1, 'close adds at most one summary');
    t.ok(all.every((l) => l.level === 40), 'all at warn level');
    // each regular line stands for itself plus what it suppressed; the close summary only for what it suppressed
    const accounted = all.reduce((n, l) => n + (l.suppressed ?? 0) + (l.msg === 'repeated warnings suppressed' ? 0 : 1), 0);
    t.equal(accounted, EXTRA, 'the lines account for every occurrence');
  });
}

t.test('100 calls flooding marks share the daemon\'s limiter: a few lines in all, every mark counted', async (t) => {
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  const { lines, logger } = capture();
  const shared = new LogLimiter({ clock, intervalMs: INTERVAL_MS });
  const calls = Array.from({ length: 100 }, () => {
    const actions = new RecordingActions();
    const pb = new FilePlayback({ clock, actions, metrics, logger, sampleRateHz: 8000, maxBufferMs: 300_000, sharedLogs: shared });
    pb.pushAudio(ramp(120_000));
    for (let i = 0; i < MAX_MARKS; i++) pb.mark(`m${i}`);
    return pb;
  });
  t.teardown(() => { for (const pb of calls) pb.close(); });
  const perCall = 50;
  for (let k = 0; k < perCall; k++) {
    for (const pb of calls) pb.mark('extra');
    clock.advance(SOAK_MS / perCall);
  }
  for (const pb of calls) pb.close();
  await flush();
  t.equal(metrics.errorCount('MEDIA_TOO_MANY_MARKS'), 100 * perCall, 'every refused mark is counted');
  const warns = lines.filter((l) => l.code === 'MEDIA_TOO_MANY_MARKS');
  t.ok(warns.length <= 1 + SOAK_MS / INTERVAL_MS, `one line, then at most one per 10 s for all calls together (got ${warns.length})`);
});
