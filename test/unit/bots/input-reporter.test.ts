import { Writable } from 'node:stream';
import t from 'tap';
import { BotInputReporter } from '../../../src/bots/input-reporter.js';
import { createLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';

t.test('counts every error/ignored command, logs the first of each code once', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  const logger = createLogger({ level: 'debug', destination: dest });
  const metrics = new MetricsRegistry();
  const r = new BotInputReporter(logger, metrics);
  t.equal(r.report({ kind: 'clear' }), false);
  for (let i = 0; i < 3; i++) t.equal(r.report({ kind: 'error', code: 'BOT_BAD_BASE64', detail: 'media.payload' }), true);
  t.equal(r.report({ kind: 'ignored', code: 'BOT_UNKNOWN_EVENT' }), true);
  await new Promise((res) => setImmediate(res));
  t.equal(metrics.errorCount('BOT_BAD_BASE64'), 3);
  t.equal(metrics.errorCount('BOT_UNKNOWN_EVENT'), 1);
  t.same(lines.map((l) => [l.code, l.level]), [['BOT_BAD_BASE64', 40], ['BOT_UNKNOWN_EVENT', 20]]);
  t.equal(lines[0].detail, 'media.payload');
});
