import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { WebSocketServer } from 'ws';
import { BotConnection } from '../../../src/bots/client.js';
import { BotInputReporter } from '../../../src/bots/input-reporter.js';
import { ManualClock } from '../../../src/clock.js';
import { createLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';

type Line = { level: number; code?: string; event?: string; suppressed?: number; msg: string };

function capture() {
  const lines: Line[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Line); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}
const flush = (): Promise<void> => new Promise((res) => setImmediate(res));

t.test('a listener that throws on every message: BOT_LISTENER_THREW counted each time, logged rate limited, others run', async (t) => {
  const { lines, logger } = capture();
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const c = new BotConnection({ url: 'ws://127.0.0.1:1/bot', logger, metrics, clock });
  t.teardown(() => c.close());
  let ran = 0;
  c.on('message', () => { throw new Error('listener bug'); });
  c.on('message', () => { ran++; });
  for (let i = 0; i < 200; i++) c.safeEmit('message', Buffer.from('x'), false);
  clock.advance(10_000);
  c.safeEmit('message', Buffer.from('x'), false);
  await flush();
  t.equal(ran, 201);
  t.equal(metrics.errorCount('BOT_LISTENER_THREW'), 201);
  const l = lines.filter((x) => x.code === 'BOT_LISTENER_THREW');
  t.same(l.map((x) => [x.level, x.event, x.suppressed]), [[50, 'message', 0], [50, 'message', 199]]);
});

t.test('BOT_SEND_DROPPED: every drop counted, first logged, then a summary per interval, the rest at close', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  t.teardown(() => new Promise<void>((r) => { for (const s of wss.clients) s.terminate(); wss.close(() => r()); }));
  const { lines, logger } = capture();
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  // a negative bound drops every message: the bot "never reads"
  const c = new BotConnection({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/bot`, logger, metrics, clock, maxBufferedBytes: -1 });
  t.teardown(() => c.close());
  const opened = new Promise<void>((r) => c.once('open', () => r()));
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.connect();
  await opened;
  for (let i = 0; i < 1000; i++) t.equal(c.send('x'), false);
  clock.advance(10_000);
  c.send('x');
  c.send('x');
  c.close();
  await closed;
  await flush();
  t.equal(metrics.errorCount('BOT_SEND_DROPPED'), 1002);
  const l = lines.filter((x) => x.code === 'BOT_SEND_DROPPED');
  t.same(l.map((x) => [x.msg, x.suppressed]), [
    ['bot not reading, dropping messages', 0],
    ['bot not reading, dropping messages', 999],
    ['repeated warnings suppressed', 1],
  ]);
});

t.test('BotInputReporter: bad messages counted each time, logged first then per interval, close reports the rest', async (t) => {
  const { lines, logger } = capture();
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const r = new BotInputReporter(logger, metrics, clock, 10_000);
  for (let i = 0; i < 3000; i++) {
    r.report({ kind: 'error', code: 'BOT_BAD_JSON' });
    clock.advance(20); // 50 bad frames a second for 60 s
  }
  r.close();
  r.close();
  await flush();
  t.equal(metrics.errorCount('BOT_BAD_JSON'), 3000);
  const l = lines.filter((x) => x.code === 'BOT_BAD_JSON');
  t.ok(l.length <= 1 + 6 + 1, `few lines (${l.length})`);
  const accounted = l.reduce((n, x) => n + (x.suppressed ?? 0) + (x.msg === 'bad message from bot dropped' ? 1 : 0), 0);
  t.equal(accounted, 3000);
});
