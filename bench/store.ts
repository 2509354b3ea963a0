/**
 * The store's cost to the daemon's event loop: a burst of call records (offer, answer, connect,
 * end: four writes per call) pushed through the StoreWriter into SQLite and into a real PostgreSQL
 * (when installed), while the event loop's delay is sampled; the baseline is the same sampling for
 * the same time with no store in the same process. Prints writes/s, the longest batch and the
 * event-loop delay p99/max against the baseline.
 *
 * `npm run bench` includes it; `node dist/bench/store.js [--calls N]` (after `npm run build`) prints it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Store } from '../src/store/store.js';
import { StoreWriter, batchMaxFor } from '../src/store/writer.js';
import { endedRow, offeredRow } from '../src/store/call-rows.js';
import { systemClock } from '../src/clock.js';
import { MetricsRegistry } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/logger.js';
import type { CallRecord } from '../src/calls/call-record.js';
import { launchPostgres, postgresInstalled } from './lib/postgres.js';

export interface StoreBenchRow {
  backend: string;
  calls: number;
  writes: number;
  seconds: number;
  writesPerSec: number;
  batches: number;
  longestBatchMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  baseP99Ms: number;
  baseMaxMs: number;
}

function record(i: number, t0: number): CallRecord {
  const at = (ms: number) => new Date(t0 + i * 10 + ms).toISOString();
  return {
    callId: `bench-${i}`, fsUuid: `uuid-${i}`, direction: 'inbound', bot: 'bench', tenant: 'default', from: `+4420${String(i).padStart(8, '0')}`, to: '8100',
    offeredAt: at(0), answeredAt: at(100), connectedAt: at(200), endedAt: at(60_000), durationMs: 60_000, billableMs: 59_900,
    cause: 'NORMAL_CLEARING', causeCode: 16, endedBy: 'caller',
  };
}

/** Event-loop delay (ms) while `work` runs; the histogram's resolution is 1 ms. */
async function sampleLoop(work: () => Promise<void>): Promise<{ p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  h.disable();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

async function runOne(backend: string, store: Store, calls: number): Promise<StoreBenchRow> {
  let batches = 0;
  let longest = 0;
  const writer = new StoreWriter({
    sink: {
      apply: async (ops) => {
        const s = performance.now();
        await store.apply(ops);
        longest = Math.max(longest, performance.now() - s);
        batches++;
      },
      ping: () => store.ping(),
    },
    clock: systemClock, logger: silentLogger(), metrics: new MetricsRegistry(), queueMax: 10 * calls, batchMax: batchMaxFor(store.kind),
  });
  const t0 = Date.now();
  let seconds = 0;
  // 20 ms ticks, as the media loop has them: each tick offers a slice of the calls and ends earlier ones
  const loop = await sampleLoop(async () => {
    const start = performance.now();
    const perTick = Math.max(1, Math.ceil(calls / 50));
    for (let tick = 0, i = 0; i < calls; tick++) {
      for (let k = 0; k < perTick && i < calls; k++, i++) {
        const r = record(i, t0);
        writer.push({ kind: 'call-offered', row: offeredRow(r, 'bench') });
        writer.push({ kind: 'call-progress', callId: r.callId, fsUuid: r.fsUuid, answeredAt: t0 + 100, connectedAt: null });
        writer.push({ kind: 'call-progress', callId: r.callId, fsUuid: r.fsUuid, answeredAt: t0 + 100, connectedAt: t0 + 200 });
        writer.push({ kind: 'call-ended', row: endedRow(r, 'bench') });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await writer.flush();
    seconds = (performance.now() - start) / 1000;
  });
  const base = await sampleLoop(() => new Promise((r) => setTimeout(r, Math.max(200, seconds * 1000))));
  return {
    backend, calls, writes: calls * 4, seconds, writesPerSec: (calls * 4) / seconds, batches, longestBatchMs: longest,
    loopP99Ms: loop.p99, loopMaxMs: loop.max, baseP99Ms: base.p99, baseMaxMs: base.max,
  };
}

export async function runStoreBench(o: { calls?: number } = {}): Promise<{ rows: StoreBenchRow[]; notes: string[] }> {
  const calls = o.calls ?? 2000;
  const rows: StoreBenchRow[] = [];
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-bench-store-'));
  try {
    const sqlite = await Store.open({ location: { kind: 'sqlite', path: join(dir, 'bench.db') } });
    rows.push(await runOne('SQLite (file, WAL)', sqlite, calls));
    await sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (postgresInstalled()) {
    const pg = await launchPostgres();
    try {
      const url = await pg.createDatabase('bench');
      const store = await Store.open({ location: { kind: 'postgres', connectionString: url }, password: pg.password });
      rows.push(await runOne('PostgreSQL (loopback, fsync off)', store, calls));
      await store.close();
    } finally {
      await pg.destroy();
    }
  } else {
    notes.push('PostgreSQL not measured: not installed (apt-get install postgresql).');
  }
  return { rows, notes };
}

export function formatStoreBench(r: { rows: StoreBenchRow[]; notes: string[] }): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  return [
    '## Store: call records and the event loop',
    '',
    'A burst of calls offered over one second (4 writes per call: offer, answer, connect, end) pushed through',
    'the StoreWriter, then flushed; event-loop delay sampled meanwhile, and for the same time with no store',
    '(baseline, same process). `node dist/bench/store.js`.',
    '',
    '| store | calls | writes | s | writes/s | batches | longest batch ms | loop delay p99 / max ms | baseline p99 / max ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.backend} | ${x.calls} | ${x.writes} | ${f(x.seconds, 2)} | ${f(x.writesPerSec, 0)} | ${x.batches} | ${f(x.longestBatchMs)} | ${f(x.loopP99Ms)} / ${f(x.loopMaxMs)} | ${f(x.baseP99Ms)} / ${f(x.baseMaxMs)} |`),
    ...(r.notes.length ? ['', ...r.notes] : []),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--calls');
  const res = await runStoreBench({ calls: i > 0 ? Number(process.argv[i + 1]) : undefined });
  console.log(formatStoreBench(res));
}
