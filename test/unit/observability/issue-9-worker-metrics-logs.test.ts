// Issue 9: what the media workers send to the main thread. Their metrics are summed with the main
// thread's per series in /metrics; their log lines are written by the main thread's logger (one
// destination, one set of redactions).
import t from 'tap';
import { Writable } from 'node:stream';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { mergeSnapshots } from '../../../src/observability/metric-snapshot.js';
import { relogLine } from '../../../src/observability/forwarded-log.js';
import { createLogger } from '../../../src/observability/logger.js';

t.test('renderAll sums counters, gauges and histograms per label set with the remotes', async (t) => {
  const main = new MetricsRegistry();
  main.counter('c_total', 'c').inc({ code: 'A' }, 2);
  main.gauge('g', 'g').set(1);
  main.histogram('h', 'h', [1, 10]).observe(0.5);
  const w1 = new MetricsRegistry();
  w1.counter('c_total', 'c').inc({ code: 'A' }, 3);
  w1.counter('c_total', 'c').inc({ code: 'B' });
  w1.gauge('g', 'g').set(4);
  w1.histogram('h', 'h', [1, 10]).observe(5);
  w1.counter('only_worker_total', 'w').inc();
  let collected = 0;
  w1.addCollector(() => { collected++; });
  main.addRemote(async () => [w1.snapshot()]);
  const text = await main.renderAll();
  t.match(text, /^c_total\{code="A"\} 5$/m);
  t.match(text, /^c_total\{code="B"\} 1$/m);
  t.match(text, /^g 5$/m);
  t.match(text, /^h_bucket\{le="1"\} 1$/m);
  t.match(text, /^h_bucket\{le="10"\} 2$/m);
  t.match(text, /^h_count 2$/m);
  t.match(text, /^only_worker_total 1$/m);
  t.equal(collected, 1, 'the worker ran its collectors for the snapshot');
  t.match(main.render(), /^c_total\{code="A"\} 2$/m, 'the registry itself is unchanged');
  t.equal((await main.renderAll()).match(/^c_total\{code="A"\} 5$/m)?.length, 1, 'a second scrape does not add twice');
});

t.test('mergeSnapshots keeps the first of two histograms with other buckets, and of two kinds', (t) => {
  const a = new MetricsRegistry();
  a.histogram('h', 'h', [1]).observe(1);
  a.counter('x', 'x').inc();
  const b = new MetricsRegistry();
  b.histogram('h', 'h', [2]).observe(1);
  b.gauge('x', 'x').set(7);
  const merged = mergeSnapshots([a.snapshot(), b.snapshot()]);
  t.match(merged.find((m) => m.name === 'h'), { buckets: [1], count: 1 });
  t.match(merged.find((m) => m.name === 'x'), { kind: 'counter', values: [['', 1]] });
  t.end();
});

t.test('relogLine writes a worker\'s line with this logger: level, fields, message; redactions apply', (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', redactPersonalData: true, destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
  relogLine(log, JSON.stringify({ level: 40, time: 1, pid: 9, hostname: 'w', worker: 1, callId: 'c1', from: '+15550001', msg: 'bot connection lost' }));
  relogLine(log, JSON.stringify({ level: 20, msg: 'debug line' }));
  relogLine(log, 'not json');
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(recs.length, 2, 'below the level: not written');
  t.match(recs[0], { level: 40, worker: 1, callId: 'c1', from: '[redacted]', msg: 'bot connection lost', service: 'fsbridge' });
  t.not(recs[0].pid, 9, 'this process\'s pid');
  t.match(recs[1], { level: 40, msg: 'unreadable log line from a worker', line: 'not json' });
  t.end();
});
