// The StoreWriter: calls never wait for the database; writes are applied in order and in batches;
// while the database is away they stay queued (bounded) and are retried with backoff; a write the
// database refuses is dropped alone.
import t from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { StoreWriter, type StoreSink } from '../../../src/store/writer.js';
import type { StoreOp } from '../../../src/store/store.js';

const op = (i: number): StoreOp => ({ kind: 'node-seen', nodeId: `n${i}`, atMs: i });
const tick = () => new Promise((r) => setImmediate(r));

function fakeSink() {
  const applied: StoreOp[][] = [];
  const s = {
    up: true,
    refuse: new Set<string>(),
    applied,
    async apply(ops: readonly StoreOp[]) {
      await tick();
      if (!s.up) throw new Error('connection refused');
      if (ops.some((o) => o.kind === 'node-seen' && s.refuse.has(o.nodeId))) throw new Error('constraint');
      applied.push([...ops]);
    },
    async ping() { if (!s.up) throw new Error('connection refused'); },
  };
  return s satisfies StoreSink;
}

const flat = (a: StoreOp[][]) => a.flat().map((o) => (o as { nodeId: string }).nodeId);

t.test('writes are applied in order, grouped while a batch is in flight', async (t) => {
  const sink = fakeSink();
  const clock = new ManualClock();
  const w = new StoreWriter({ sink, clock, logger: silentLogger(), metrics: new MetricsRegistry(), queueMax: 1000 });
  for (let i = 0; i < 5; i++) w.push(op(i));
  t.equal(w.queued, 5, 'push returns at once');
  t.equal(await w.flush(), 0);
  t.same(flat(sink.applied), ['n0', 'n1', 'n2', 'n3', 'n4']);
  t.ok(sink.applied.length < 5, `grouped into ${sink.applied.length} batches`);
});

t.test('a database away: writes stay queued, are retried with backoff and flushed when it is back', async (t) => {
  const sink = fakeSink();
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  const w = new StoreWriter({ sink, clock, logger: silentLogger(), metrics, queueMax: 1000, retry: { initialMs: 100, maxMs: 400 } });
  sink.up = false;
  w.push(op(1));
  w.push(op(2));
  for (let i = 0; i < 5; i++) await tick();
  t.equal(w.available, false, 'unavailable');
  t.equal(w.queued, 2, 'nothing lost');
  t.equal(metrics.errorCount('STORE_UNAVAILABLE'), 1, 'counted once per outage');
  clock.advance(100);
  for (let i = 0; i < 5; i++) await tick();
  t.equal(w.queued, 2, 'still away after the first retry');
  w.push(op(3));
  sink.up = true;
  clock.advance(200);
  for (let i = 0; i < 10; i++) await tick();
  t.equal(w.available, true, 'back');
  t.equal(w.queued, 0);
  t.same(flat(sink.applied), ['n1', 'n2', 'n3'], 'in order, once each');
  t.equal(metrics.errorCount('STORE_UNAVAILABLE'), 1);
});

t.test('a write the database refuses is dropped alone', async (t) => {
  const sink = fakeSink();
  const metrics = new MetricsRegistry();
  const w = new StoreWriter({ sink, clock: new ManualClock(), logger: silentLogger(), metrics, queueMax: 1000 });
  sink.refuse.add('n2');
  for (let i = 1; i <= 3; i++) w.push(op(i));
  t.equal(await w.flush(), 0);
  t.same(flat(sink.applied), ['n1', 'n3']);
  t.equal(metrics.errorCount('STORE_WRITE_FAILED'), 1);
  t.equal(w.available, true, 'a refused write is not an outage');
});

t.test('a refused last write of a batch: the others are applied once, not again', async (t) => {
  const sink = fakeSink();
  const metrics = new MetricsRegistry();
  const w = new StoreWriter({ sink, clock: new ManualClock(), logger: silentLogger(), metrics, queueMax: 1000 });
  sink.refuse.add('n3');
  for (let i = 1; i <= 3; i++) w.push(op(i));
  t.equal(await w.flush(), 0);
  w.push(op(4));
  t.equal(await w.flush(), 0);
  t.same(flat(sink.applied), ['n1', 'n2', 'n4'], 'n1 and n2 once each');
  t.equal(metrics.errorCount('STORE_WRITE_FAILED'), 1);
});

t.test('queueMax bounds memory: the oldest writes are dropped and counted', async (t) => {
  const sink = fakeSink();
  const metrics = new MetricsRegistry();
  const w = new StoreWriter({ sink, clock: new ManualClock(), logger: silentLogger(), metrics, queueMax: 3, retry: { initialMs: 100, maxMs: 100 } });
  sink.up = false;
  for (let i = 1; i <= 5; i++) w.push(op(i));
  for (let i = 0; i < 5; i++) await tick();
  t.equal(w.queued, 3);
  t.equal(metrics.errorCount('STORE_QUEUE_FULL'), 2);
  sink.up = true;
  t.equal(await w.flush(), 0);
  t.same(flat(sink.applied), ['n3', 'n4', 'n5'], 'the newest three');
});

t.test('flush at shutdown with the database away says how many writes are left', async (t) => {
  const sink = fakeSink();
  const w = new StoreWriter({ sink, clock: new ManualClock(), logger: silentLogger(), metrics: new MetricsRegistry(), queueMax: 10 });
  sink.up = false;
  w.push(op(1));
  t.equal(await w.flush(), 1);
  w.close();
});
