import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { LogLimiter } from '../observability/log-limiter.js';
import type { Store } from '../store/store.js';
import type { WebhookOutboxTable } from '../store/tables.js';
import { markFailed, markSent, nextDue } from './outbox.js';

export interface WebhookDelivererOptions {
  store: () => Store;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** How often the outbox is read, in ms. */
  pollMs?: number;
  /** Per request, in ms. */
  timeoutMs?: number;
  /** Attempts before a callback is given up (WEBHOOK_GAVE_UP). */
  maxAttempts?: number;
  /** Retry delays: first, doubling up to max, in ms. */
  retry?: { initialMs: number; maxMs: number };
  /** Callbacks sent at once. */
  concurrency?: number;
}

/**
 * Sends the status callbacks this node wrote to the outbox, and retries them with backoff until a
 * 2xx answer or maxAttempts. The outbox is in the store, so a restart resumes where it stopped:
 * nothing is lost; a callback whose answer was lost in a crash is sent again with the same
 * idempotency key (`I-Twilio-Idempotency-Token`, `X-Fsbridge-Idempotency-Key`), for the receiver to
 * drop. One owner: start() and close() (which waits for the requests in flight).
 */
export class WebhookDeliverer {
  private cancelPoll: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly logs: LogLimiter;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly concurrency: number;

  constructor(private readonly o: WebhookDelivererOptions) {
    this.logs = new LogLimiter({ clock: o.clock });
    this.pollMs = o.pollMs ?? 250;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxAttempts = o.maxAttempts ?? 10;
    this.retry = o.retry ?? { initialMs: 1000, maxMs: 600_000 };
    this.concurrency = o.concurrency ?? 8;
  }

  start(): void {
    if (this.closed || this.cancelPoll) return;
    this.cancelPoll = this.o.clock.setTimeout(() => this.tick(), this.pollMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelPoll?.();
    this.cancelPoll = null;
    for (const c of this.inFlight) c.abort();
    await this.running;
  }

  private tick(): void {
    this.cancelPoll = null;
    if (this.closed) return;
    this.running = this.round().finally(() => {
      this.running = null;
      if (!this.closed) this.cancelPoll = this.o.clock.setTimeout(() => this.tick(), this.pollMs);
    });
  }

  /** One pass: the due callbacks, sent in parallel up to `concurrency`. */
  private async round(): Promise<void> {
    let due: WebhookOutboxTable[];
    try {
      due = await nextDue(this.o.store(), this.o.nodeId, this.o.clock.wallMs(), this.concurrency);
    } catch {
      return; // the store is away: the StoreWriter reports it; try again next round
    }
    await Promise.all(due.map((r) => this.send(r)));
  }

  private async send(r: WebhookOutboxTable): Promise<void> {
    const ctl = new AbortController();
    this.inFlight.add(ctl);
    const cancel = this.o.clock.setTimeout(() => ctl.abort(), this.timeoutMs);
    let status: number | null = null;
    let error = '';
    try {
      const res = await fetch(r.url, {
        method: 'POST', redirect: 'manual', signal: ctl.signal,
        headers: {
          ...(JSON.parse(r.headers) as Record<string, string>), 'content-type': r.content_type, 'user-agent': 'fsbridge',
          'i-twilio-idempotency-token': r.id, 'x-fsbridge-idempotency-key': r.id,
        },
        body: r.body,
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      error = ctl.signal.aborted ? (this.closed ? 'shutdown' : `no answer in ${this.timeoutMs} ms`) : (err as Error).message;
    } finally {
      cancel();
      this.inFlight.delete(ctl);
    }
    const store = this.o.store();
    const sent = this.o.metrics.counter('fsbridge_webhooks_total', 'Status callback attempts, by result');
    try {
      if (!error) {
        await markSent(store, r.id, status!, this.o.clock.wallMs());
        sent.inc({ result: 'sent' });
        return;
      }
      if (error === 'shutdown') return; // not an attempt: sent again after the restart
      const attempts = Number(r.attempts) + 1;
      const final = attempts >= this.maxAttempts;
      const delay = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** (attempts - 1));
      await markFailed(store, r.id, { attempts, dueAt: this.o.clock.wallMs() + delay, status, error, final });
      sent.inc({ result: final ? 'gave-up' : 'retry' });
      const code = final ? 'WEBHOOK_GAVE_UP' : 'WEBHOOK_DELIVERY_FAILED';
      this.o.metrics.error(code);
      const suppressed = this.logs.hit(code);
      if (final || suppressed >= 0) {
        this.o.logger.warn({ code, id: r.id, callId: r.call_id, event: r.event, attempts, error, ...(suppressed > 0 ? { suppressed } : {}) },
          final ? 'status callback given up' : 'status callback failed: retried later');
      }
    } catch {
      // the store went away meanwhile: the row stays pending and is sent again (same key)
    }
  }
}
