import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { CampaignsTable } from '../store/tables.js';
import { closesAt, isOpen, nextOpen } from './calling-window.js';
import type { CampaignSpec } from './campaign-spec.js';
import type { CampaignStore, ContactState, DueContact, OpenAttempt } from './campaign-store.js';
import type { DncStore } from './dnc-store.js';
import { outcomeOf, type AttemptOutcome, type OutcomeFacts } from './outcome.js';
import { nextStep } from './retry-rules.js';
import type { AmdRequest } from '../analysis/amd-request.js';

const DAY_MS = 86_400_000;
/** Contacts read per hopper refill. */
const HOPPER_SIZE = 50;
/** How long a campaign whose hopper came back empty waits before the next refill. */
const EMPTY_REFILL_MS = 1000;
/** Most calls started in one tick (a bound on the tick's length). */
const MAX_STARTS_PER_TICK = 200;
/**
 * Most contacts one tick looks at (deferred, ended or called): then the event loop gets a turn
 * and the next tick goes on. SQLite's queries run in this thread.
 */
const EXAMINE_PER_TICK = 200;
/**
 * How often the campaigns' rows are read again: states changed through another node, campaigns
 * created elsewhere, imports that stopped half-way (failed once untouched this long).
 */
const SWEEP_MS = 60_000;
/** When a contact whose call fsbridge refused to place (full, draining) is tried again. */
const NOT_PLACED_RETRY_MS = 5000;
/**
 * How long the campaign places no call on this node after one was refused: a limit shared by a
 * cluster's nodes is full (this node's own view cannot see the others' calls), and trying the next
 * contacts at once would only store and undo more attempts.
 */
const NOT_PLACED_PAUSE_MS = 500;
/** A call is not started when its window closes sooner than this (its INVITE must leave inside it). */
const WINDOW_MARGIN_MS = 2000;

/** One call of a campaign, for the daemon to place. */
export interface CampaignDial {
  callId: string;
  campaignId: string;
  tenant: string;
  bot: string;
  trunk: string;
  to: string;
  from?: string;
  timeoutSec: number;
  /** The contact's variables and the campaign's ids: the bot's custom parameters. */
  params: Record<string, string>;
  offlinePrompt?: string;
  amd?: AmdRequest;
  /** The campaign's pacing.maxConcurrent and reserveSlots (a cluster counts them across its nodes). */
  maxConcurrent: number;
  reserveSlots: number;
}

/** What the dialer needs from the daemon. */
export interface CampaignDialPort {
  /** Why one more campaign call may not start now (node, tenant or trunk full, or at its reserve), or null. */
  blocked(c: { tenant: string; trunk: string; reserveSlots: number }): string | null;
  /** The tenant's per-number daily cap from its configuration (null: none). */
  numberCap(tenant: string): number | null;
  /** Places the call; resolves with its record's facts when it ended. Never rejects. */
  dial(d: CampaignDial): Promise<OutcomeFacts>;
}

/** A campaign's lifecycle event (status webhooks). */
export interface CampaignEvent {
  event: 'campaign.started' | 'campaign.paused' | 'campaign.resumed' | 'campaign.cancelled' | 'campaign.completed' | 'contact.finished';
  campaignId: string;
  tenant: string;
  bot: string;
  atMs: number;
  /** contact.finished: the contact and how it ended. */
  contact?: { seq: number; number: string; state: string; outcome: string; attempts: number };
}

export interface CampaignDialerOptions {
  store: CampaignStore;
  dnc: DncStore;
  port: CampaignDialPort;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Longest wait between two ticks (ms). */
  tickMs?: number;
  /**
   * A node of a cluster: contacts taken into the hopper are leased to this node for `ms`
   * (CampaignStore.dueLeased), `skipLocked` with PostgreSQL; and the campaigns' rows are read
   * again as often (campaigns another node's API created start here within it).
   */
  lease?: { ms: number; skipLocked: boolean };
  onEvent?: (e: CampaignEvent) => void;
}

/** A campaign the dialer follows (running, paused, or cancelled with calls still in flight). */
class Runtime {
  inflight = 0;
  hopper: DueContact[] = [];
  refillAfterMs = 0;
  /** Earliest start of its next call (its calls per second), on the monotonic clock. */
  nextStartMs = -Infinity;
  /** Attempts started on the UTC day `day`. */
  day = -1;
  dayCount = 0;
  /** Contacts per state, kept as they move (seeded from the store). */
  counts = new Map<string, number>();
  constructor(readonly id: string, readonly spec: CampaignSpec, public state: string) {}
  move(from: string, to: string): void {
    this.counts.set(from, (this.counts.get(from) ?? 0) - 1);
    this.counts.set(to, (this.counts.get(to) ?? 0) + 1);
  }
}

/** An attempt's end not yet stored (the database was away): retried at each tick. */
interface PendingFinish { callId: string; f: { outcome: string; sipStatus: number | null; endedAt: number }; next: { state: ContactState; dueAt?: number } }

/**
 * Dials the running campaigns of this node. Each tick, campaigns take turns (one call each per
 * pass, so a tenant's campaigns share its capacity fairly) while they have room: their own
 * concurrency and calls per second, their daily cap, and the node's, tenant's and trunk's
 * capacity less the slots kept for inbound calls. Contacts come from a small hopper refilled by an
 * indexed query of due contacts, never a scan. At the moment of dialling a contact must be inside
 * its calling window (else it waits for the window), not on a DNC list (else it ends `dnc`) and
 * under the per-number daily cap.
 *
 * Exactly once: the attempt is stored (and its contact moved to `dialling`) before the call is
 * placed; the outcome is stored when the call ends. At start, attempts an earlier run left
 * `dialling` are resolved from their calls' records (or counted `failed`), then retried per the
 * rules. Lifecycle: start() once, close() stops dialling (calls in flight go on to their end).
 */
export class CampaignDialer {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly pendingFinishes: PendingFinish[] = [];
  private running: Promise<void> | null = null;
  private again = false;
  private cancelTimer: (() => void) | null = null;
  private closed = false;
  private storeDown = false;
  private rotation = 0;
  /** Contacts looked at by the tick running now. */
  private examined = 0;
  /** When the campaigns' rows were last read again (monotonic). */
  private lastSweepMs = 0;
  /** Calls placed whose outcome is not stored yet. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Outcomes being stored. */
  private readonly finishing = new Set<Promise<void>>();

  constructor(private readonly o: CampaignDialerOptions) {}

  /** Resolves attempts an earlier run left open, loads the running campaigns, starts ticking. */
  async start(): Promise<{ resolved: number }> {
    const now = this.o.clock.wallMs();
    const open = await this.o.store.openAttempts(this.o.nodeId);
    for (const a of open) await this.resolveOpen(a, now);
    if (open.length > 0) this.o.logger.warn({ attempts: open.length, code: 'CAMPAIGN_ATTEMPT_RECOVERED' }, 'campaign attempts left open by an earlier run resolved from their call records');
    await this.sweep();
    this.lastSweepMs = this.o.clock.nowMs();
    this.o.metrics.addCollector(() => this.collect());
    this.schedule(0);
    return { resolved: open.length };
  }

  /**
   * Reads the campaigns' rows again (at start, then every SWEEP_MS): follows the running and
   * paused ones, takes the state of those it follows that another node paused, resumed or
   * cancelled, and fails imports that stopped (their contacts are partial).
   */
  private async sweep(): Promise<void> {
    const now = this.o.clock.wallMs();
    await this.o.store.failStaleImports(now - SWEEP_MS, now);
    const rows = await this.o.store.inStates(['running', 'paused']);
    const seen = new Set(rows.map((r) => r.id));
    for (const row of rows) await this.load(row);
    for (const id of [...this.runtimes.keys()]) {
      if (seen.has(id)) continue;
      const row = await this.o.store.get(id);
      if (row) await this.load(row);
    }
  }

  /** Stops dialling; resolves when the outcomes of calls in flight are stored (or given up). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.running;
    await Promise.all(this.inFlight);
    await this.flushFinishes().catch(() => {});
  }

  /** Follows a campaign the API created, paused, resumed or cancelled (its row as stored now). */
  async load(row: CampaignsTable): Promise<void> {
    let rt = this.runtimes.get(row.id);
    if (!rt) {
      const fresh = new Runtime(row.id, JSON.parse(row.spec) as CampaignSpec, row.state);
      fresh.day = Math.floor(this.o.clock.wallMs() / DAY_MS);
      fresh.dayCount = await this.o.store.attemptsSince(row.id, fresh.day * DAY_MS);
      fresh.counts = new Map(Object.entries(await this.o.store.counts(row.id)));
      // another load may have made it meanwhile: that one is followed
      rt = this.runtimes.get(row.id) ?? fresh;
      this.runtimes.set(row.id, rt);
    }
    if (rt.state !== row.state) {
      rt.state = row.state;
      // a cancel ended the pending contacts in the store: the gauges follow it
      const counts = await this.o.store.counts(row.id);
      rt.counts = new Map([...[...rt.counts.keys()].map((k): [string, number] => [k, 0]), ...Object.entries(counts)]);
    }
    if (rt.state === 'cancelled' || rt.state === 'completed' || rt.state === 'failed') {
      rt.hopper = [];
      if (rt.inflight === 0) this.forget(rt);
    }
    if (rt.state === 'paused') rt.hopper = [];
    this.wake();
  }

  /** Calls in flight of a campaign on this node (0 when not followed). */
  inflight(id: string): number { return this.runtimes.get(id)?.inflight ?? 0; }
  /** Contacts per state of a followed campaign, as this node counts them. */
  counts(id: string): Record<string, number> | undefined {
    const rt = this.runtimes.get(id);
    return rt && Object.fromEntries([...rt.counts].filter(([, n]) => n > 0));
  }

  /** Runs a tick soon (something changed: a call ended, a campaign was added). */
  wake(): void {
    if (this.closed) return;
    // during a tick: the next one follows it at once (a timer set now would be replaced)
    if (this.running) this.again = true; else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.cancelTimer?.();
    this.cancelTimer = this.o.clock.setTimeout(() => { this.cancelTimer = null; void this.tick(); }, delayMs);
  }

  /** One round of decisions; not re-entered (a wake during it runs another right after). */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) { this.again = true; return this.running; }
    this.running = this.runTick().then((waitMs) => {
      this.running = null;
      if (this.closed) return;
      if (this.again) { this.again = false; this.schedule(0); } else this.schedule(waitMs);
    });
    return this.running;
  }

  /** Resolves once no tick runs and every ended call's outcome is stored (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running || this.finishing.size > 0) {
      await this.running;
      await Promise.all(this.finishing);
    }
  }

  /** The decisions of one tick; resolves with how long to wait for the next. */
  private async runTick(): Promise<number> {
    let waitMs = this.o.tickMs ?? 1000;
    this.examined = 0;
    try {
      await this.flushFinishes();
      if (this.o.clock.nowMs() - this.lastSweepMs >= Math.min(SWEEP_MS, this.o.lease?.ms ?? SWEEP_MS)) {
        this.lastSweepMs = this.o.clock.nowMs();
        await this.sweep();
      }
      const list = [...this.runtimes.values()].filter((r) => r.state === 'running');
      if (list.length > 0) this.rotation = (this.rotation + 1) % list.length;
      const order = [...list.slice(this.rotation), ...list.slice(0, this.rotation)];
      let starts = 0;
      let progress = true;
      while (progress && starts < MAX_STARTS_PER_TICK && !this.closed) {
        progress = false;
        for (const rt of order) {
          if (this.closed || rt.state !== 'running') continue;
          const now = this.o.clock.wallMs();
          const wait = this.blockedFor(rt, now);
          if (wait !== null) { if (wait > 0) waitMs = Math.min(waitMs, wait); continue; }
          const k = await this.nextContact(rt);
          if (!k) continue;
          if (await this.begin(rt, k)) { progress = true; starts++; }
        }
      }
      if (this.storeDown) {
        this.storeDown = false;
        this.o.logger.info('campaign store reachable again');
      }
    } catch (err) {
      if (!this.storeDown) {
        this.storeDown = true;
        this.o.metrics.error('CAMPAIGN_STORE_FAILED');
        this.o.logger.error({ err, code: 'CAMPAIGN_STORE_FAILED' }, 'campaign dialling paused: the store is not reachable');
      }
    }
    return waitMs;
  }

  /**
   * Whether the campaign may start a call now: null (yes), 0 (no, until something changes: a
   * call ends), or ms to wait (its calls per second; its daily cap until the next day).
   */
  private blockedFor(rt: Runtime, now: number): number | null {
    const s = rt.spec;
    if (rt.inflight >= s.pacing.maxConcurrent) return 0;
    const mono = this.o.clock.nowMs();
    if (mono < rt.nextStartMs) return rt.nextStartMs - mono;
    const day = Math.floor(now / DAY_MS);
    if (day !== rt.day) { rt.day = day; rt.dayCount = 0; }
    if (s.caps.perDay !== null && rt.dayCount >= s.caps.perDay) return (day + 1) * DAY_MS - now;
    if (this.o.port.blocked({ tenant: s.tenant, trunk: s.trunk, reserveSlots: s.pacing.reserveSlots }) !== null) return 0;
    return null;
  }

  /** The next contact of the hopper that may be called now; the others are deferred or ended. */
  private async nextContact(rt: Runtime): Promise<DueContact | null> {
    const s = rt.spec;
    for (;;) {
      if (this.examined >= EXAMINE_PER_TICK) { this.again = true; return null; }
      const now = this.o.clock.wallMs();
      if (rt.hopper.length === 0) {
        if (now < rt.refillAfterMs) return null;
        const lease = this.o.lease;
        rt.hopper = lease
          ? await this.o.store.dueLeased(rt.id, now, HOPPER_SIZE, { nodeId: this.o.nodeId, untilMs: now + lease.ms, skipLocked: lease.skipLocked })
          : await this.o.store.due(rt.id, now, HOPPER_SIZE);
        if (rt.hopper.length === 0) {
          rt.refillAfterMs = now + EMPTY_REFILL_MS;
          await this.maybeComplete(rt);
          return null;
        }
      }
      if (rt.state !== 'running') return null;
      const k = rt.hopper.shift()!;
      this.examined++;
      const zone = k.time_zone ?? s.timeZone;
      if (!this.callable(s, zone, now)) { await this.holdZone(rt, k.time_zone, zone, now); continue; }
      if (await this.o.dnc.blocks(s.tenant, k.number)) {
        await this.endContact(rt, k, 'dnc', 'dnc', now);
        continue;
      }
      const cap = minCap(s.caps.perNumberPerDay, this.o.port.numberCap(s.tenant));
      const dayStart = now - (now % DAY_MS);
      if (cap !== null && await this.o.store.attemptsToNumber(s.tenant, k.number, dayStart) >= cap) {
        const at = nextOpen(s.windows, zone, dayStart + DAY_MS);
        if (at === null) await this.endContact(rt, k, 'expired', 'window-closed', now);
        else await this.o.store.defer(rt.id, k.seq, at, now);
        continue;
      }
      // the awaits above took time: the window once more, right before the attempt is stored
      const t = this.o.clock.wallMs();
      if (!this.callable(s, zone, t)) { await this.holdZone(rt, k.time_zone, zone, t); continue; }
      return k;
    }
  }

  /** Whether a call may start at `t` in `zone`: a window is open, and stays open 2 s more. */
  private callable(s: CampaignSpec, zone: string, t: number): boolean {
    return isOpen(s.windows, zone, t) && (closesAt(s.windows, zone, t) ?? Infinity) - t >= WINDOW_MARGIN_MS;
  }

  /**
   * The window of `zone` is closed (or about to close): every due contact of the campaign in it
   * (own zone `own`; null: the campaign's) waits for the next opening in one statement, or ends
   * `expired` when none comes; the hopper drops them.
   */
  private async holdZone(rt: Runtime, own: string | null, zone: string, t: number): Promise<void> {
    const w = rt.spec.windows;
    const at = nextOpen(w, zone, isOpen(w, zone, t) ? (closesAt(w, zone, t) ?? t) + 1 : t);
    if (at === null) {
      const n = await this.o.store.expireZone(rt.id, own, t);
      rt.counts.set('pending', (rt.counts.get('pending') ?? 0) - n);
      rt.counts.set('expired', (rt.counts.get('expired') ?? 0) + n);
    } else {
      await this.o.store.deferZone(rt.id, own, t, at);
    }
    // a statement of up to ZONE_BATCH rows weighs as much as a hopper of contacts looked at
    this.examined += HOPPER_SIZE;
    rt.hopper = rt.hopper.filter((c) => c.time_zone !== own);
  }

  /** Stores the attempt, then places the call. false when the contact changed meanwhile. */
  private async begin(rt: Runtime, k: DueContact): Promise<boolean> {
    const s = rt.spec;
    const callId = randomUUID();
    const attempt = k.attempts + 1;
    const now = this.o.clock.wallMs();
    const stored = await this.o.store.beginAttempt({
      call_id: callId, campaign_id: rt.id, seq: k.seq, attempt, tenant: s.tenant, number: k.number, node_id: this.o.nodeId,
      state: 'dialling', outcome: null, sip_status: null, started_at: now, ended_at: null,
    }, this.o.lease !== undefined);
    if (!stored) return false;
    rt.move('pending', 'dialling');
    rt.inflight++;
    rt.dayCount++;
    rt.nextStartMs = nextStart(rt.nextStartMs, this.o.clock.nowMs(), 1000 / s.pacing.callsPerSecond);
    this.o.metrics.counter('fsbridge_campaign_attempts_started_total', 'Campaign attempts placed, by campaign and tenant').inc({ campaign: rt.id, tenant: s.tenant });
    const params: Record<string, string> = { ...(k.vars ? JSON.parse(k.vars) as Record<string, string> : {}), campaignId: rt.id, campaignContact: String(k.seq), campaignAttempt: String(attempt) };
    const done = this.o.port.dial({
      callId, campaignId: rt.id, tenant: s.tenant, bot: s.bot, trunk: s.trunk, to: k.number, timeoutSec: s.ringTimeoutSec, params,
      maxConcurrent: s.pacing.maxConcurrent, reserveSlots: s.pacing.reserveSlots,
      ...(s.callerId ? { from: s.callerId } : {}), ...(s.offlinePrompt ? { offlinePrompt: s.offlinePrompt } : {}),
      ...(s.amd ? { amd: s.amd } : {}),
    }).then((facts) => {
      const f = this.finished(rt, k, callId, attempt, facts);
      this.finishing.add(f);
      return f.finally(() => this.finishing.delete(f));
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return true;
  }

  private async finished(rt: Runtime, k: DueContact, callId: string, attempt: number, facts: OutcomeFacts): Promise<void> {
    const now = this.o.clock.wallMs();
    if (facts.notPlaced) return this.notPlaced(rt, callId, now, facts.errorCode ?? null);
    const outcome = outcomeOf(facts);
    const step = nextStep(outcome, attempt, rt.spec.retry);
    // a cancelled campaign retries nothing: a contact that would be retried ends cancelled
    const next: { state: ContactState; dueAt?: number } = step.final ? { state: step.state }
      : rt.state === 'cancelled' ? { state: 'cancelled' } : { state: 'pending', dueAt: now + step.delayMs };
    rt.inflight--;
    this.o.metrics.counter('fsbridge_campaign_attempts_total', 'Campaign attempts ended, by campaign, tenant and outcome').inc({ campaign: rt.id, tenant: rt.spec.tenant, outcome });
    const f = { outcome, sipStatus: facts.sipStatus ?? null, endedAt: now };
    let state = next.state;
    try {
      state = await this.o.store.finishAttempt(callId, f, next);
    } catch {
      this.pendingFinishes.push({ callId, f, next });
    }
    rt.move('dialling', state);
    if (state !== 'pending') this.emit(rt, 'contact.finished', { seq: k.seq, number: k.number, state, outcome, attempts: attempt });
    if (rt.inflight === 0 && (rt.state === 'cancelled' || rt.state === 'completed')) this.forget(rt);
    this.wake();
  }

  /**
   * fsbridge refused to place the call it had stored the attempt of (the node, tenant or trunk
   * filled up after the check, or it is draining): no INVITE was sent, so the attempt is undone.
   */
  private async notPlaced(rt: Runtime, callId: string, now: number, code: string | null): Promise<void> {
    rt.inflight--;
    rt.dayCount--;
    rt.nextStartMs = Math.max(rt.nextStartMs, this.o.clock.nowMs() + NOT_PLACED_PAUSE_MS);
    this.o.logger.info({ callId, campaignId: rt.id, code }, 'campaign call not placed: the contact is tried again');
    try {
      rt.move('dialling', await this.o.store.undoAttempt(callId, now, now + NOT_PLACED_RETRY_MS));
    } catch (err) {
      // still `dialling` in the store: the next start resolves it (failed, retried per the rules)
      this.o.metrics.error('CAMPAIGN_STORE_FAILED');
      this.o.logger.error({ err, callId, code: 'CAMPAIGN_STORE_FAILED' }, 'an attempt not placed could not be undone');
    }
    if (rt.inflight === 0 && (rt.state === 'cancelled' || rt.state === 'completed')) this.forget(rt);
    this.wake();
  }

  /**
   * Resolves the attempts a dead node of the cluster left open, once its calls were closed
   * (Store.takeOverNode): from their calls' records, retried per the rules by any node. Returns how many.
   */
  async adopt(deadNode: string): Promise<number> {
    const now = this.o.clock.wallMs();
    const open = await this.o.store.openAttempts(deadNode);
    for (const a of open) await this.resolveOpen(a, now);
    if (open.length > 0) this.wake();
    return open.length;
  }

  /** An attempt an earlier run left open: its outcome from its call's record (none: failed). */
  private async resolveOpen(a: OpenAttempt, now: number): Promise<void> {
    const outcome: AttemptOutcome = a.call_state === 'ended'
      ? outcomeOf({ result: a.result, sipStatus: a.call_sip_status, answeredAt: a.answered_at, connectedAt: a.connected_at, cause: a.cause, errorCode: a.error_code, answeredBy: a.answered_by })
      : 'failed';
    const row = await this.o.store.get(a.campaign_id);
    const spec = row ? JSON.parse(row.spec) as CampaignSpec : null;
    const step = spec ? nextStep(outcome, a.attempt, spec.retry) : { final: true as const, state: 'exhausted' as const };
    const next: { state: ContactState; dueAt?: number } = step.final ? { state: step.state }
      : row?.state === 'cancelled' ? { state: 'cancelled' } : { state: 'pending', dueAt: now + step.delayMs };
    this.o.metrics.error('CAMPAIGN_ATTEMPT_RECOVERED');
    this.o.metrics.counter('fsbridge_campaign_attempts_total', 'Campaign attempts ended, by campaign, tenant and outcome').inc({ campaign: a.campaign_id, tenant: a.tenant, outcome });
    await this.o.store.finishAttempt(a.call_id, { outcome, sipStatus: a.call_sip_status, endedAt: now }, next);
  }

  private async endContact(rt: Runtime, k: DueContact, state: ContactState, outcome: string, now: number): Promise<void> {
    await this.o.store.finalize(rt.id, k.seq, state, outcome, now);
    rt.move('pending', state);
    this.emit(rt, 'contact.finished', { seq: k.seq, number: k.number, state, outcome, attempts: k.attempts });
  }

  /** A running campaign with nothing left to call and no call in flight is completed. */
  private async maybeComplete(rt: Runtime): Promise<void> {
    if (rt.inflight > 0 || rt.state !== 'running') return;
    if (await this.o.store.hasOpenContacts(rt.id)) return;
    if (await this.o.store.setState(rt.id, ['running'], 'completed', this.o.clock.wallMs())) {
      rt.state = 'completed';
      this.forget(rt);
      this.o.logger.info({ campaignId: rt.id, tenant: rt.spec.tenant }, 'campaign completed');
      this.emit(rt, 'campaign.completed');
    }
  }

  private async flushFinishes(): Promise<void> {
    while (this.pendingFinishes.length > 0) {
      const p = this.pendingFinishes[0];
      await this.o.store.finishAttempt(p.callId, p.f, p.next);
      this.pendingFinishes.shift();
    }
  }

  private emit(rt: Runtime, event: CampaignEvent['event'], contact?: CampaignEvent['contact']): void {
    try {
      this.o.onEvent?.({ event, campaignId: rt.id, tenant: rt.spec.tenant, bot: rt.spec.bot, atMs: this.o.clock.wallMs(), ...(contact ? { contact } : {}) });
    } catch (err) {
      this.o.logger.error({ err }, 'campaign event listener threw');
    }
  }

  private collect(): void {
    for (const rt of this.runtimes.values()) this.publish(rt);
  }

  /** A campaign's gauges (its last figures stay once it is no longer followed). */
  private publish(rt: Runtime): void {
    const l = { campaign: rt.id, tenant: rt.spec.tenant };
    this.o.metrics.gauge('fsbridge_campaign_active_calls', 'Calls in flight, by campaign and tenant').set(rt.inflight, l);
    const contacts = this.o.metrics.gauge('fsbridge_campaign_contacts', 'Contacts by campaign, tenant and state');
    for (const [state, n] of rt.counts) contacts.set(n, { ...l, state });
  }

  /** Stops following a campaign that is over (its gauges keep their last figures). */
  private forget(rt: Runtime): void {
    this.publish(rt);
    this.runtimes.delete(rt.id);
  }
}

/**
 * When the call after one started at `mono` may start: on a grid of `interval` ms, so that a start
 * the event loop delayed does not push the later ones back (the rate stays the configured one),
 * never closer than half an interval to this one; after a pause (more than an interval late) the
 * grid starts again from now.
 */
export function nextStart(scheduled: number, mono: number, interval: number): number {
  if (mono - scheduled > interval) return mono + interval;
  return Math.max(scheduled + interval, mono + interval / 2);
}

function minCap(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
