import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Call } from '../calls/call.js';
import type { CallRecord } from '../calls/call-record.js';
import type { StoreWriter } from '../store/writer.js';
import { statusRequest, type StatusEvent } from './status-payload.js';

/** Where one call's status callbacks go (a bot's or a tenant's `statusCallback`). */
export interface CallbackTarget {
  url: string;
  events: readonly (StatusEvent | 'campaign')[];
  format: 'twilio' | 'json';
  secret: string;
}

export interface StatusCallbacksOptions {
  /** The targets of a call (its bot's, its tenant's). */
  targets: (call: Call) => CallbackTarget[];
  writer: StoreWriter;
  nodeId: string;
  clock: Clock;
  accountSid: string;
}

/**
 * Turns a call's events into status callbacks in the outbox (through the StoreWriter, in order
 * with the call's own records): `initiated` when it is admitted, `ringing` at the first
 * provisional answer of an outbound dial, `answered`, `completed` with its record. The
 * WebhookDeliverer sends them.
 */
export class StatusCallbacks {
  private readonly ringers = new Map<string, () => void>();
  private lastAt = 0;

  constructor(private readonly o: StatusCallbacksOptions) {}

  /** Follows an admitted call until it ends. */
  track(call: Call): void {
    const targets = this.o.targets(call);
    if (targets.length === 0) return;
    const sequence = new Map<string, number>();
    const emit = (event: StatusEvent, record?: CallRecord) => {
      for (const t of targets) {
        if (!t.events.includes(event)) continue;
        const seq = sequence.get(t.url) ?? 0;
        sequence.set(t.url, seq + 1);
        this.enqueue(call, t, event, seq, record);
      }
    };
    emit('initiated');
    let rang = false;
    this.ringers.set(call.callId, () => { if (!rang) { rang = true; emit('ringing'); } });
    call.on('state', (_from, to) => { if (to === 'answered') emit('answered'); });
    call.once('ended', (rec) => {
      this.ringers.delete(call.callId);
      emit('completed', rec);
    });
  }

  /** An outbound call's dial got its first provisional answer (180/183). */
  ringing(callId: string): void {
    this.ringers.get(callId)?.();
  }

  private enqueue(call: Call, t: CallbackTarget, event: StatusEvent, sequence: number, record?: CallRecord): void {
    const now = this.o.clock.wallMs();
    // strictly increasing, so that the outbox's order is the events' order
    this.lastAt = Math.max(now, this.lastAt + 1);
    const i = call.init;
    const req = statusRequest({
      event, callId: call.callId, accountSid: this.o.accountSid, tenant: i.tenant, bot: i.bot, from: i.from, to: i.to,
      direction: i.direction, atMs: now, sequence, record,
    }, t.format, t.url, t.secret);
    this.o.writer.push({
      kind: 'webhook',
      row: {
        id: randomUUID(), node_id: this.o.nodeId, call_id: call.callId, tenant: i.tenant, event, url: t.url,
        content_type: req.contentType, body: req.body, headers: JSON.stringify(req.headers), created_at: this.lastAt,
        due_at: now, attempts: 0, state: 'pending', last_status: null, last_error: null, sent_at: null,
      },
    });
  }
}
