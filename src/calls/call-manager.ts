import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Clock } from '../clock.js';
import { Call, type CallInit } from './call.js';
import type { CallRecord, CallRecordSink, EndedBy } from './call-record.js';
import { causeFromName } from './hangup-causes.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';

export interface CallManagerOptions {
  maxConcurrent: number;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  records: CallRecordSink;
}

export type Admission = { ok: true; call: Call } | { ok: false; code: 'CALL_OVER_CAPACITY' | 'CALL_DRAINING' };

/**
 * Owns the live calls: admission (capacity, draining), lookup by call id,
 * and the one record per ended call. Calls leave the manager when they end. Emits `call` for
 * every admitted call (before its flow runs).
 */
export class CallManager extends TypedEmitter<{ call: [Call] }> {
  private readonly byId = new Map<string, Call>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: CallManagerOptions) {
    super(reportListenerErrors({ logger: opts.logger, metrics: opts.metrics, code: 'CALL_LISTENER_THREW' }));
  }

  /** Admits a new call or says why not (a value, not an exception). */
  admit(init: Omit<CallInit, 'callId'> & { callId?: string }): Admission {
    if (this.draining) return { ok: false, code: 'CALL_DRAINING' };
    if (this.byId.size >= this.opts.maxConcurrent) return { ok: false, code: 'CALL_OVER_CAPACITY' };
    const callId = init.callId ?? randomUUID();
    const logger = this.opts.logger.child(init.fsUuid ? { callId, fsUuid: init.fsUuid } : { callId });
    const call = new Call({ ...init, callId }, this.opts.clock, logger);
    call.onListenerError = reportListenerErrors({ logger, metrics: this.opts.metrics, code: 'CALL_LISTENER_THREW' });
    this.byId.set(callId, call);
    this.activeGauge().set(this.byId.size);
    this.opts.metrics.counter('fsbridge_calls_total', 'Calls admitted').inc({ direction: init.direction });
    call.on('ended', (rec) => this.onEnded(call, rec));
    call.on('state', (_from, to) => {
      if (to !== 'answered' && to !== 'connected') return;
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      this.opts.records.progressed?.({ callId, fsUuid: call.fsUuid, answeredAt: iso(call.answeredAtMs), connectedAt: iso(call.connectedAtMs) });
    });
    this.opts.records.offered?.({
      callId, fsUuid: init.fsUuid, direction: init.direction, bot: init.bot, from: init.from, to: init.to,
      offeredAt: new Date(call.offeredAtMs).toISOString(),
    });
    this.safeEmit('call', call);
    return { ok: true, call };
  }

  /**
   * Writes the one record of a call that never became a live call with a channel: refused at
   * admission (`endedBy: fsbridge`), or a SIP call that ended before FreeSWITCH took it (e.g.
   * the caller cancelled). `code` is the error code, when there is one.
   */
  recordUnconnected(
    init: Omit<CallInit, 'callId'> & { callId?: string }, endedBy: EndedBy, causeName: string,
    extra: { code?: string; sipStatus?: number; result?: string } = {},
  ): CallRecord {
    const call = new Call({ ...init, callId: init.callId ?? randomUUID() }, this.opts.clock, this.opts.logger.child({ fsUuid: init.fsUuid }));
    call.annotate({ sipStatus: extra.sipStatus, result: extra.result });
    call.beginEnding(endedBy, causeName, extra.code);
    const rec = call.finish(causeFromName(causeName));
    this.opts.metrics.counter('fsbridge_calls_ended_total', 'Calls ended, by cause').inc({ cause: rec.cause });
    void this.opts.records.write(rec);
    return rec;
  }

  get(callId: string): Call | undefined { return this.byId.get(callId); }
  list(): Call[] { return [...this.byId.values()]; }
  get size(): number { return this.byId.size; }
  get isDraining(): boolean { return this.draining; }

  /** Stops admitting calls. */
  startDraining(): void { this.draining = true; }

  /** Resolves when no call is live, or after `timeoutMs` with false. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.byId.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.opts.clock.setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => { cancel(); resolve(true); };
      this.idleWaiters.push(done);
    });
  }

  private onEnded(call: Call, rec: CallRecord): void {
    this.byId.delete(call.callId);
    this.activeGauge().set(this.byId.size);
    this.opts.metrics.counter('fsbridge_calls_ended_total', 'Calls ended, by cause').inc({ cause: rec.cause });
    void this.opts.records.write(rec);
    if (this.byId.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private activeGauge() {
    return this.opts.metrics.gauge('fsbridge_active_calls', 'Calls currently live');
  }
}
