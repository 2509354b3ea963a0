import { Writable } from 'node:stream';
import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { LogLimiter } from '../../src/observability/log-limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { reportListenerErrors, stderrListenerErrors, TypedEmitter } from '../../src/typed-emitter.js';

type Events = { tick: [n: number] };
type Line = { level: number; code?: string; event?: string; suppressed?: number; err?: { message: string; stack: string } };

function capture() {
  const lines: Line[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Line); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}
const flush = (): Promise<void> => new Promise((res) => setImmediate(res));

t.test('with a reporter: a throwing listener is logged and counted, the other listeners still run', async (t) => {
  const { lines, logger } = capture();
  const metrics = new MetricsRegistry();
  const em = new TypedEmitter<Events>(reportListenerErrors({ logger, metrics, code: 'TEST_LISTENER_THREW' }));
  const seen: string[] = [];
  em.on('tick', (n) => seen.push(`a${n}`));
  em.on('tick', () => { throw new Error('boom'); });
  em.on('tick', (n) => seen.push(`c${n}`));
  t.equal(em.safeEmit('tick', 1), true);
  t.equal(em.safeEmit('tick', 2), true);
  await flush();
  t.same(seen, ['a1', 'c1', 'a2', 'c2']);
  t.equal(metrics.errorCount('TEST_LISTENER_THREW'), 2);
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 50, code: 'TEST_LISTENER_THREW', event: 'tick', err: { message: 'boom' } });
  t.match(lines[0].err?.stack, /Error: boom/);
});

t.test('with a limiter: every error is counted, lines are rate limited', async (t) => {
  const { lines, logger } = capture();
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const em = new TypedEmitter<Events>(reportListenerErrors({
    logger, metrics, code: 'TEST_LISTENER_THREW', limiter: new LogLimiter({ clock, intervalMs: 10_000 }),
  }));
  em.on('tick', () => { throw new Error('per message'); });
  for (let i = 0; i < 500; i++) em.safeEmit('tick', i);
  clock.advance(10_000);
  em.safeEmit('tick', 500);
  await flush();
  t.equal(metrics.errorCount('TEST_LISTENER_THREW'), 501);
  t.same(lines.map((l) => l.suppressed), [0, 499]);
});

t.test('without a reporter the default is not silent: one stderr line with event and stack, 1st/10th/100th…', async (t) => {
  const written: string[] = [];
  const orig = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => { written.push(String(s)); return true; }) as typeof process.stderr.write;
  let ran = 0;
  try {
    const em = new TypedEmitter<Events>();
    em.on('tick', () => { throw new Error('nobody listens for me'); });
    em.on('tick', () => { ran++; });
    for (let i = 0; i < 150; i++) em.safeEmit('tick', i);
  } finally {
    process.stderr.write = orig;
  }
  t.equal(ran, 150, 'the other listener ran every time');
  t.equal(written.length, 3, 'occurrences 1, 10 and 100');
  const recs = written.map((w) => { t.ok(w.endsWith('\n') && w.indexOf('\n') === w.length - 1, 'one line'); return JSON.parse(w) as Record<string, unknown>; });
  t.same(recs.map((r) => r.occurrences), [1, 10, 100]);
  t.equal(recs[0].event, 'tick');
  t.match(recs[0].err, /Error: nobody listens for me\n\s+at /);
});

t.test('stderrListenerErrors: non-Error values and separate events', async (t) => {
  const written: string[] = [];
  const h = stderrListenerErrors((l) => written.push(l));
  h('a string', 'x');
  h(42, 'y');
  h(42, 'y');
  t.same(written.map((w) => JSON.parse(w) as Record<string, unknown>).map((r) => [r.event, r.err, r.occurrences]), [['x', 'a string', 1], ['y', '42', 1]]);
});

t.test('an owner can still replace the handler after construction', async (t) => {
  const em = new TypedEmitter<Events>();
  const got: [unknown, string][] = [];
  em.onListenerError = (err, event) => got.push([err, event]);
  const e = new Error('x');
  em.on('tick', () => { throw e; });
  em.safeEmit('tick', 1);
  t.same(got, [[e, 'tick']]);
});
