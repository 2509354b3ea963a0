import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { StoreOp } from './store.js';

/** Buckets of fsbridge_store_batch_ms. */
const BATCH_MS_BUCKETS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000] as const;

/** Batch size by database: SQLite's writes run in this thread, PostgreSQL's in its server. */
export function batchMaxFor(kind: 'sqlite' | 'postgres'): number {
  return kind === 'sqlite' ? 25 : 500;
}

/** What the writer needs from the database. */
export interface StoreSink {
  apply(ops: readonly StoreOp[]): Promise<void>;
  ping(): Promise<void>;
}

export interface StoreWriterOptions {
  sink: StoreSink;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Most writes held while the database is away; beyond it the oldest are dropped (STORE_QUEUE_FULL). */
  queueMax: number;
  /**
   * Most writes in one transaction. SQLite runs in this thread (better-sqlite3 is synchronous):
   * keep its batches short ({@link batchMaxFor}) so that no batch holds the event loop for long.
   */
  batchMax?: number;
  /** Retry delays while the database is away: first, then doubling up to max, in ms. */
  retry?: { initialMs: number; maxMs: number };
}

/**
 * The one way writes reach the store: callers `push()` and go on (nothing on a call's path awaits
 * the database). Writes are applied in order, in batches, as soon as the previous batch is done,
 * so under load they group by themselves. When the database is unreachable the writes stay queued
 * (up to queueMax) and are retried with backoff until it is back; `available` says which.
 *
 * A batch that fails while the database answers a ping holds a write the database refuses: the
 * batch is then applied one write at a time and the refused one dropped (STORE_WRITE_FAILED),
 * so one bad write never blocks the others.
 */
export class StoreWriter {
  private queue: StoreOp[] = [];
  /** Writes dropped from the front of the queue (queue full) since the batch in flight was taken. */
  private droppedFromFront = 0;
  private running: Promise<void> | null = null;
  private cancelRetry: (() => void) | null = null;
  private retryMs: number;
  private down = false;
  private closed = false;
  private readonly batchMax: number;
  private readonly retry: { initialMs: number; maxMs: number };

  constructor(private readonly o: StoreWriterOptions) {
    this.batchMax = o.batchMax ?? 500;
    this.retry = o.retry ?? { initialMs: 500, maxMs: 10_000 };
    this.retryMs = this.retry.initialMs;
  }

  /** Whether the last attempt reached the database. */
  get available(): boolean { return !this.down; }
  /** Writes not yet applied. */
  get queued(): number { return this.queue.length; }

  push(op: StoreOp): void {
    if (this.queue.length >= this.o.queueMax) {
      this.queue.shift();
      this.droppedFromFront++;
      this.o.metrics.counter('fsbridge_store_dropped_total', 'Store writes dropped because the queue was full').inc();
      this.o.metrics.error('STORE_QUEUE_FULL');
      this.o.logger.error({ code: 'STORE_QUEUE_FULL', queueMax: this.o.queueMax }, 'store queue full: oldest write dropped');
    }
    this.queue.push(op);
    if (!this.running && !this.cancelRetry && !this.closed) this.running = this.drain();
  }

  /**
   * Applies everything queued now (stopping at the first failure). Resolves with how many writes
   * are still queued. Used at shutdown; pending retries are cancelled.
   */
  async flush(): Promise<number> {
    this.cancelRetry?.();
    this.cancelRetry = null;
    while (this.running) await this.running;
    if (this.queue.length > 0) {
      this.running = this.drain();
      await this.running;
    }
    return this.queue.length;
  }

  /** Stops retrying; what is still queued stays queued (see flush()). */
  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.batchMax);
        this.droppedFromFront = 0;
        const started = this.o.clock.nowMs();
        const ok = await this.applyBatch(batch);
        if (!ok) { this.scheduleRetry(); return; }
        // the batch is the queue's front, less what a full queue dropped from it meanwhile
        this.queue.splice(0, batch.length - Math.min(this.droppedFromFront, batch.length));
        this.o.metrics.counter('fsbridge_store_writes_total', 'Writes applied to the store').inc({}, batch.length);
        this.o.metrics.histogram('fsbridge_store_batch_ms', 'Time to apply one batch of store writes, in ms', BATCH_MS_BUCKETS).observe(this.o.clock.nowMs() - started);
        if (this.down) {
          this.down = false;
          this.retryMs = this.retry.initialMs;
          this.o.logger.info({ queued: this.queue.length }, 'store reachable again: queued writes applied');
        }
        // let the event loop run between batches (a synchronous database would otherwise hold it
        // for the whole backlog)
        if (this.queue.length > 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.running = null;
    }
  }

  /** true when the whole batch is in the store (or the writes it refused were dropped). */
  private async applyBatch(batch: StoreOp[]): Promise<boolean> {
    try {
      await this.o.sink.apply(batch);
      return true;
    } catch (err) {
      if (!(await this.reachable())) { this.markDown(err); return false; }
      for (const op of batch) {
        try {
          await this.o.sink.apply([op]);
        } catch (e) {
          if (!(await this.reachable())) { this.markDown(e); return false; }
          this.o.metrics.error('STORE_WRITE_FAILED');
          this.o.logger.error({ err: e, code: 'STORE_WRITE_FAILED', op: op.kind }, 'the store refused a write: dropped');
        }
      }
      return true;
    }
  }

  private async reachable(): Promise<boolean> {
    try { await this.o.sink.ping(); return true; } catch { return false; }
  }

  private markDown(err: unknown): void {
    if (!this.down) {
      this.down = true;
      this.o.metrics.error('STORE_UNAVAILABLE');
      this.o.logger.error({ err, code: 'STORE_UNAVAILABLE', queued: this.queue.length }, 'store unreachable: writes are queued until it is back');
    }
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retry.maxMs, this.retryMs * 2);
    this.cancelRetry = this.o.clock.setTimeout(() => {
      this.cancelRetry = null;
      if (!this.running && this.queue.length > 0) this.running = this.drain();
    }, delay);
  }
}
