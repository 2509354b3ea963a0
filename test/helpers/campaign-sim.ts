// A campaign run on a fake clock against a real store: the dialer as the daemon wires it, with a
// dial port that plays the far ends (outcomes drawn per number and attempt) and writes each call's
// record as the daemon would. Everything the dialer did is kept to be checked against the rules.
import { createHash } from 'node:crypto';
import { ManualClock } from '../../src/clock.js';
import { Store } from '../../src/store/store.js';
import { parseStoreUrl } from '../../src/config/store-url.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { CampaignStore } from '../../src/campaigns/campaign-store.js';
import { DncStore } from '../../src/campaigns/dnc-store.js';
import { CampaignDialer, type CampaignDial, type CampaignEvent } from '../../src/campaigns/dialer.js';
import { CampaignService } from '../../src/campaigns/campaign-service.js';
import type { OutcomeFacts } from '../../src/campaigns/outcome.js';

/** One call the dialer placed, as the far end saw it. */
export interface PlacedCall { d: CampaignDial; atMs: number; endsAtMs: number; facts: OutcomeFacts }

export type FarEnd = (number: string, attempt: number) => { kind: 'answer' | 'busy' | 'no-answer' | 'failed' | 'invalid' | 'bot-down'; seconds: number };

/** Far ends drawn from a hash of number and attempt: about 45 % answer, the rest spread over failures. */
export const hashedFarEnd: FarEnd = (number, attempt) => {
  const h = createHash('sha256').update(`${number}/${attempt}`).digest().readUInt32BE(0) % 100;
  if (h < 45) return { kind: 'answer', seconds: 30 + (h * 7) % 150 };
  if (h < 65) return { kind: 'busy', seconds: 2 };
  if (h < 83) return { kind: 'no-answer', seconds: 30 };
  if (h < 92) return { kind: 'failed', seconds: 1 };
  if (h < 96) return { kind: 'invalid', seconds: 1 };
  return { kind: 'bot-down', seconds: 12 };
};

export interface SimOptions {
  url: string;
  password?: string;
  startIso: string;
  /** Concurrency the "trunk" has (the port blocks above it less the campaign's reserve). */
  trunkSlots: number;
  tenantCallsPerDay?: number;
  farEnd?: FarEnd;
  nodeId?: string;
  /** The tenant's per-number daily cap (its configuration's callsPerNumberPerDay). */
  numberCap?: number;
  /** Calls the daemon refuses to place after their attempt was stored (full, draining). */
  refuse?: (d: CampaignDial) => boolean;
}

export class CampaignSim {
  readonly clock: ManualClock;
  readonly metrics = new MetricsRegistry();
  readonly placed: PlacedCall[] = [];
  readonly events: CampaignEvent[] = [];
  /** Times the port said no (and so no call may have started then). */
  blockedChecks = 0;
  live = 0;
  maxLive = 0;
  /** Calls per UTC day (the tenant cap the port enforces). */
  readonly perDay = new Map<number, number>();
  store!: Store;
  campaigns!: CampaignStore;
  dnc!: DncStore;
  dialer!: CampaignDialer;
  service!: CampaignService;

  constructor(private readonly o: SimOptions) {
    this.clock = new ManualClock(Date.parse(o.startIso));
  }

  async open(): Promise<this> {
    const loc = parseStoreUrl(this.o.url);
    if (typeof loc === 'string') throw new Error(loc);
    this.store = await Store.open({ location: loc, password: this.o.password });
    this.campaigns = new CampaignStore(() => this.store.db);
    this.dnc = new DncStore(() => this.store.db);
    this.dialer = new CampaignDialer({
      store: this.campaigns, dnc: this.dnc, nodeId: this.o.nodeId ?? 'sim', clock: this.clock, logger: silentLogger(), metrics: this.metrics,
      tickMs: 60_000, onEvent: (e) => this.events.push(e),
      port: {
        blocked: (c) => {
          const day = Math.floor(this.clock.wallMs() / 86_400_000);
          if (this.live + 1 + c.reserveSlots > this.o.trunkSlots) return 'trunk full';
          if (this.o.tenantCallsPerDay !== undefined && (this.perDay.get(day) ?? 0) >= this.o.tenantCallsPerDay) return 'tenant daily cap';
          return null;
        },
        numberCap: () => this.o.numberCap ?? null,
        dial: (d) => this.dial(d),
      },
    });
    this.service = new CampaignService({
      store: this.campaigns, dialer: this.dialer, clock: this.clock, logger: silentLogger(),
      botTenant: (n) => (n === 'bot' ? 'acme' : undefined), trunkTenant: (n) => (n === 'trunk' ? 'acme' : undefined),
      cannotDial: () => null, emit: (e) => this.events.push(e),
    });
    return this;
  }

  /** Calls refused by `refuse` (never placed). */
  readonly refused: CampaignDial[] = [];

  private dial(d: CampaignDial): Promise<OutcomeFacts> {
    const now = this.clock.wallMs();
    if (this.o.refuse?.(d)) {
      this.refused.push(d);
      return Promise.resolve({ notPlaced: true, answeredAt: null, connectedAt: null, errorCode: 'CALL_OVER_CAPACITY' });
    }
    const day = Math.floor(now / 86_400_000);
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    const fe = (this.o.farEnd ?? hashedFarEnd)(d.to, Number(d.params.campaignAttempt));
    const ms = fe.seconds * 1000;
    const answered = fe.kind === 'answer' || fe.kind === 'bot-down';
    const facts: OutcomeFacts = {
      answer: { result: 'answered', answeredAt: now + 5000, connectedAt: now + 5100, cause: 'NORMAL_CLEARING' },
      'bot-down': { result: 'answered', answeredAt: now + 5000, connectedAt: null, cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'BOT_CONNECT_FAILED' },
      busy: { result: 'busy', sipStatus: 486, answeredAt: null, connectedAt: null, cause: 'USER_BUSY' },
      'no-answer': { result: 'no-answer', sipStatus: 487, answeredAt: null, connectedAt: null, cause: 'NO_ANSWER' },
      failed: { result: 'failed', sipStatus: 503, answeredAt: null, connectedAt: null, cause: 'NORMAL_TEMPORARY_FAILURE' },
      invalid: { result: 'rejected', sipStatus: 404, answeredAt: null, connectedAt: null, cause: 'UNALLOCATED_NUMBER' },
    }[fe.kind];
    const call: PlacedCall = { d, atMs: now, endsAtMs: now + ms, facts };
    this.placed.push(call);
    return new Promise((resolve) => {
      this.clock.setTimeout(() => {
        this.live--;
        const end = this.clock.wallMs();
        // the call's record, as the daemon's call manager writes it
        void this.store.apply([{
          kind: 'call-ended',
          row: {
            call_id: d.callId, node_id: 'sim', direction: 'outbound', bot: d.bot, from_number: d.from ?? '', to_number: d.to, fs_uuid: '',
            state: 'ended', offered_at: now, answered_at: answered ? now + 5000 : null, connected_at: fe.kind === 'answer' ? now + 5100 : null,
            ended_at: end, duration_ms: end - now, billable_ms: answered ? end - now - 5000 : 0, cause: facts.cause ?? null, cause_code: null,
            ended_by: answered ? 'callee' : 'fsbridge', sip_status: facts.sipStatus ?? null, result: facts.result ?? null, transfer_target: null,
            error_code: facts.errorCode ?? null, tenant: d.tenant,
          },
        }]).then(() => resolve(facts));
      }, ms);
    });
  }

  /** Lets every promise the last timers started settle (store writes, the dialer's tick). */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await this.dialer.settled();
    }
  }

  /**
   * Runs the clock to `untilIso`, timer by timer (each of the dialer's wake-ups and each call's
   * end happens at its own instant), letting the dialer finish each step. `at(ms)` runs once the
   * clock reached each of the given instants.
   */
  async runUntil(untilIso: string, at: { atIso: string; run: () => Promise<void> }[] = []): Promise<void> {
    const end = Date.parse(untilIso);
    const pending = [...at].sort((a, b) => Date.parse(a.atIso) - Date.parse(b.atIso));
    for (let steps = 0; steps < 2_000_000; steps++) {
      const now = this.clock.wallMs();
      if (now >= end) return;
      const next = this.clock.nextTimerAt();
      const nextWall = next === null ? end : Math.min(end, this.clock.wallMs() + (next - this.clock.nowMs()));
      const hook = pending[0] && Date.parse(pending[0].atIso) <= nextWall ? pending.shift()! : undefined;
      const target = hook ? Date.parse(hook.atIso) : nextWall;
      this.clock.advance(Math.max(0, target - now));
      await this.settle();
      if (hook) { await hook.run(); await this.settle(); }
    }
    throw new Error('simulation did not reach its end');
  }

  async close(): Promise<void> {
    const closed = this.dialer.close();
    // calls still in flight end (their far ends hang up) before the dialer is done
    this.clock.advance(3_600_000);
    await this.settle();
    await closed;
    await this.store.close();
  }
}
