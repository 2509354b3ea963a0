import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Clock } from '../clock.js';
import { Call, type CallOffer } from './call.js';
import type { CallRecord, CallRecordSink, EndedBy } from './call-record.js';
import { causeFromName } from './hangup-causes.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';

export interface CallManagerOptions {
  maxConcurrent: number;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  records: CallRecordSink;
  /** The tenant of a bot (calls without a bot, or of an unknown bot: `default`). */
  tenantOf?: (bot: string | null) => string;
  /** A tenant's limits, checked at admission. */
  limitsOf?: (tenant: string) => TenantLimits | undefined;
}

export type AdmissionRefusal = 'CALL_OVER_CAPACITY' | 'CALL_DRAINING' | 'TENANT_CONCURRENCY_LIMIT' | 'TENANT_DAILY_LIMIT'
  // the limits shared by the nodes of a cluster (cluster/cluster-node.ts)
  | 'TRUNK_CONCURRENCY_LIMIT' | 'CAMPAIGN_CONCURRENCY_LIMIT' | 'CLUSTER_LIMITS_UNAVAILABLE';
export type Admission = { ok: true; call: Call } | { ok: false; code: AdmissionRefusal };

/** A tenant's limits (null: none). */
export interface TenantLimits { maxConcurrentCalls: number | null; callsPerDay: number | null }

const DAY_MS = 86_400_000;

/**
 * Owns the live calls: admission (capacity, draining), lookup by call id,
 * and the one record per ended call. Calls leave the manager when they end. Emits `call` for
 * every admitted call (before its flow runs).
 */
export class CallManager extends TypedEmitter<{ call: [Call] }> {
  private readonly byId = new Map<string, Call>();
  /** Live calls per tenant. */
  private readonly liveByTenant = new Map<string, number>();
  /** Calls offered per tenant on the UTC day `day` (days since the epoch). */
  private daily = { day: -1, counts: new Map<string, number>() };
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: CallManagerOptions) {
    super(reportListenerErrors({ logger: opts.logger, metrics: opts.metrics, code: 'CALL_LISTENER_THREW' }));
  }

  /** Admits a new call or says why not (a value, not an exception). */
  admit(offer: CallOffer): Admission {
    if (this.draining) return { ok: false, code: 'CALL_DRAINING' };
    if (this.byId.size >= this.opts.maxConcurrent) return { ok: false, code: 'CALL_OVER_CAPACITY' };
    const init = this.withTenant(offer);
    const refused = this.overTenantLimit(init.tenant);
    if (refused) {
      this.opts.metrics.counter('fsbridge_tenant_calls_refused_total', 'Calls refused at a tenant\'s limit, by tenant and code').inc({ tenant: init.tenant, code: refused });
      return { ok: false, code: refused };
    }
    const callId = init.callId ?? randomUUID();
    const logger = this.opts.logger.child(init.fsUuid ? { callId, fsUuid: init.fsUuid } : { callId });
    const call = new Call({ ...init, callId }, this.opts.clock, logger);
    call.onListenerError = reportListenerErrors({ logger, metrics: this.opts.metrics, code: 'CALL_LISTENER_THREW' });
    this.byId.set(callId, call);
    this.liveByTenant.set(init.tenant, (this.liveByTenant.get(init.tenant) ?? 0) + 1);
    this.today().set(init.tenant, (this.today().get(init.tenant) ?? 0) + 1);
    this.activeGauge().set(this.byId.size);
    this.tenantGauge().set(this.liveByTenant.get(init.tenant)!, { tenant: init.tenant });
    this.opts.metrics.counter('fsbridge_calls_total', 'Calls admitted').inc({ direction: init.direction });
    this.opts.metrics.counter('fsbridge_tenant_calls_total', 'Calls admitted, by tenant').inc({ tenant: init.tenant, direction: init.direction });
    call.on('ended', (rec) => this.onEnded(call, rec));
    call.on('state', (_from, to) => {
      if (to !== 'answered' && to !== 'connected') return;
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      this.opts.records.progressed?.({ callId, fsUuid: call.fsUuid, answeredAt: iso(call.answeredAtMs), connectedAt: iso(call.connectedAtMs) });
    });
    this.opts.records.offered?.({
      callId, fsUuid: init.fsUuid, direction: init.direction, bot: init.bot, from: init.from, to: init.to, tenant: init.tenant,
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
    offer: CallOffer, endedBy: EndedBy, causeName: string,
    extra: { code?: string; sipStatus?: number; result?: string } = {},
  ): CallRecord {
    const init = this.withTenant(offer);
    const call = new Call({ ...init, callId: init.callId ?? randomUUID() }, this.opts.clock, this.opts.logger.child({ fsUuid: init.fsUuid }));
    call.annotate({ sipStatus: extra.sipStatus, result: extra.result });
    call.beginEnding(endedBy, causeName, extra.code);
    const rec = call.finish(causeFromName(causeName));
    this.countEnded(rec);
    void this.opts.records.write(rec);
    return rec;
  }

  /**
   * Seeds today's counts of calls per tenant (from the store, at start), so that a restart does
   * not reset the daily caps.
   */
  seedDailyCounts(counts: ReadonlyMap<string, number>): void {
    const day = Math.floor(this.opts.clock.wallMs() / DAY_MS);
    this.daily = { day, counts: new Map(counts) };
  }

  /** Today's calls per tenant. */
  private today(): Map<string, number> {
    const day = Math.floor(this.opts.clock.wallMs() / DAY_MS);
    if (day !== this.daily.day) this.daily = { day, counts: new Map() };
    return this.daily.counts;
  }

  private overTenantLimit(tenant: string): AdmissionRefusal | null {
    const l = this.opts.limitsOf?.(tenant);
    if (!l) return null;
    if (l.maxConcurrentCalls !== null && (this.liveByTenant.get(tenant) ?? 0) >= l.maxConcurrentCalls) return 'TENANT_CONCURRENCY_LIMIT';
    if (l.callsPerDay !== null && (this.today().get(tenant) ?? 0) >= l.callsPerDay) return 'TENANT_DAILY_LIMIT';
    return null;
  }

  private withTenant(offer: CallOffer): CallOffer & { tenant: string } {
    return { ...offer, tenant: offer.tenant ?? this.opts.tenantOf?.(offer.bot) ?? 'default' };
  }

  /** A tenant's live calls and today's calls (what its limits are checked against). */
  tenantLoad(tenant: string): { live: number; today: number } {
    return { live: this.liveByTenant.get(tenant) ?? 0, today: this.today().get(tenant) ?? 0 };
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
    const left = (this.liveByTenant.get(call.init.tenant) ?? 1) - 1;
    if (left > 0) this.liveByTenant.set(call.init.tenant, left); else this.liveByTenant.delete(call.init.tenant);
    this.activeGauge().set(this.byId.size);
    this.tenantGauge().set(left, { tenant: call.init.tenant });
    this.countEnded(rec);
    void this.opts.records.write(rec);
    if (this.byId.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private countEnded(rec: CallRecord): void {
    this.opts.metrics.counter('fsbridge_calls_ended_total', 'Calls ended, by cause').inc({ cause: rec.cause });
    this.opts.metrics.counter('fsbridge_tenant_calls_ended_total', 'Calls ended, by tenant and cause').inc({ tenant: rec.tenant, cause: rec.cause });
  }

  /** Live calls per tenant (a tenant's series stays, at 0, once its calls ended). */
  private tenantGauge() {
    return this.opts.metrics.gauge('fsbridge_tenant_active_calls', 'Calls currently live, by tenant');
  }

  private activeGauge() {
    return this.opts.metrics.gauge('fsbridge_active_calls', 'Calls currently live');
  }
}
