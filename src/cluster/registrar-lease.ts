import pg from 'pg';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';

/**
 * The key of the session advisory lock the trunk registrar holds: the two-int4 form, whose key
 * space does not overlap the one-bigint form the shared limits lock (PostgreSQL's documentation).
 */
const LOCK_CLASS = 0x66736272; // 'fsbr'
const LOCK_OBJECT = 1;

export interface RegistrarLeaseOptions {
  /** The store's PostgreSQL URL with its password. */
  connectionString: string;
  /** How often a node without the lease tries again, and the holder checks its connection (ms). */
  retryMs: number;
  /** The session's `application_name`: a takeover of this node ends the session (store/node-rows.ts). */
  applicationName: string;
  /** Whether this node can register now (its drachtio-server is connected); a holder that cannot lets go. */
  eligible: () => boolean;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
}

/**
 * Which node of a cluster registers the trunks: the one holding a session advisory lock in the
 * shared PostgreSQL, so that the operator's registrar sees one registration per trunk, not one
 * per node. The lock lives as long as the holder's database session: when its node dies (the
 * kernel closes the socket, or TCP keepalive finds it gone) PostgreSQL releases it, and the next
 * node to try takes it. The session is named (`application_name`) so that the takeover of a node
 * that hangs, or whose host lost power (TCP would notice only after hours), ends it. A holder that
 * loses its connection, or can no longer register (`eligible`), lets the lease go (`lost`).
 * Lifecycle: start() once, close() releases it.
 */
export class RegistrarLease extends TypedEmitter<{ acquired: []; lost: [] }> {
  private client: pg.Client | null = null;
  private holding = false;
  private closed = false;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly o: RegistrarLeaseOptions) {
    super(reportListenerErrors({ logger: o.logger, metrics: o.metrics, code: 'CLUSTER_LISTENER_THREW' }));
  }

  get held(): boolean { return this.holding; }

  start(): void { void this.round(); }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    const c = this.client;
    this.client = null;
    this.drop();
    // ending the session releases the lock
    await c?.end().catch(() => {});
  }

  /** One try (or, for the holder, one check of its connection); then the next is scheduled. */
  private async round(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.client) {
        const c = new pg.Client({
          connectionString: this.o.connectionString, application_name: this.o.applicationName, keepAlive: true,
          connectionTimeoutMillis: 5000, query_timeout: 5000,
        });
        c.on('error', () => this.lose(c));
        c.on('end', () => this.lose(c));
        this.client = c;
        await c.connect();
      }
      const c = this.client;
      if (this.holding && !this.o.eligible()) {
        await c.query('select pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_OBJECT]);
        this.drop();
      } else if (this.holding) {
        await c.query('select 1');
      } else if (this.o.eligible()) {
        const r = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_CLASS, LOCK_OBJECT]);
        if (r.rows[0]?.ok && !this.closed && this.client === c) {
          this.holding = true;
          this.o.metrics.gauge('fsbridge_cluster_registrar', 'This node registers the trunks for the cluster (1) or not (0)').set(1);
          this.o.logger.info('trunk registrar lease acquired: this node registers the trunks');
          this.safeEmit('acquired');
        }
      }
    } catch (err) {
      this.o.logger.debug({ err: (err as Error).message }, 'trunk registrar lease: database not reachable');
      if (this.client) this.lose(this.client);
    }
    if (!this.closed) this.cancelTimer = this.o.clock.setTimeout(() => { this.cancelTimer = null; void this.round(); }, this.o.retryMs);
  }

  /** The session `c` failed: its lock is gone with it. */
  private lose(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = null;
    c.end().catch(() => {});
    this.drop();
  }

  private drop(): void {
    if (!this.holding) return;
    this.holding = false;
    this.o.metrics.gauge('fsbridge_cluster_registrar', 'This node registers the trunks for the cluster (1) or not (0)').set(0);
    this.o.logger.warn('trunk registrar lease lost: this node stops refreshing the trunk registrations');
    this.safeEmit('lost');
  }
}
