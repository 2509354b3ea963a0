import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { StoreTables } from '../store/tables.js';
import type { StoreWriter } from '../store/writer.js';
import { CampaignStore } from './campaign-store.js';
import { DncStore } from './dnc-store.js';
import { CampaignDialer, type CampaignDialPort, type CampaignEvent } from './dialer.js';
import { CampaignService, type Reply } from './campaign-service.js';
import { DncService } from './dnc-service.js';
import { campaignHookRow, type CampaignHookTarget } from './campaign-webhooks.js';
import { toE164 } from './number-timezone.js';

export interface CampaignsOptions {
  db: () => Kysely<StoreTables>;
  writer: StoreWriter;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  port: CampaignDialPort;
  /** On a node of a cluster: how long the contacts in its hopper are leased to it. */
  lease?: { ms: number; skipLocked: boolean };
  botTenant(name: string): string | undefined;
  trunkTenant(name: string): string | undefined;
  cannotDial(): string | null;
  /** Where the events of a campaign of `tenant` with `bot` go (statusCallbacks with `campaign`). */
  hookTargets(tenant: string, bot: string): CampaignHookTarget[];
  /** A call's id, tenant and the number of its far end (outbound: the callee; inbound: the caller), live or stored. */
  callParty(callId: string): Promise<{ callId: string; tenant: string; number: string } | undefined>;
}

/**
 * Outbound campaigns of one node, wired together: the store's campaign and DNC rows, the dialer,
 * the API's services, and campaign events into the webhook outbox. start() after the store is
 * open; stopDialling() when the node drains; close() once its calls ended.
 */
export class Campaigns {
  readonly store: CampaignStore;
  readonly dncStore: DncStore;
  readonly dialer: CampaignDialer;
  readonly campaigns: CampaignService;
  readonly dnc: DncService;
  private lastAt = 0;

  constructor(private readonly o: CampaignsOptions) {
    this.store = new CampaignStore(o.db);
    this.dncStore = new DncStore(o.db);
    const emit = (e: CampaignEvent) => this.hook(e);
    this.dialer = new CampaignDialer({
      store: this.store, dnc: this.dncStore, port: o.port, nodeId: o.nodeId, clock: o.clock,
      logger: o.logger, metrics: o.metrics, onEvent: emit, ...(o.lease ? { lease: o.lease } : {}),
    });
    this.campaigns = new CampaignService({
      store: this.store, dialer: this.dialer, clock: o.clock, logger: o.logger,
      botTenant: o.botTenant, trunkTenant: o.trunkTenant, cannotDial: o.cannotDial, emit,
    });
    this.dnc = new DncService({ store: this.dncStore, clock: o.clock });
  }

  async start(): Promise<void> {
    const { resolved } = await this.dialer.start();
    if (resolved > 0) this.o.logger.info({ attempts: resolved }, 'campaign attempts of the earlier run resolved');
  }

  /** Stops placing campaign calls (the calls in flight go on). */
  async close(): Promise<void> {
    await this.dialer.close();
  }

  async callDnc(callId: string, scope: string | null): Promise<Reply> {
    const party = await this.o.callParty(callId);
    if (!party || (scope !== null && party.tenant !== scope)) return { status: 404, body: { error: { code: 'API_NOT_FOUND', message: 'no such call' } } };
    const e164 = toE164(party.number);
    if (!e164) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems: ['the call\'s far end has no E.164 number'] } } };
    const added = await this.dncStore.add(party.tenant, [e164], `call:${party.callId}`, this.o.clock.wallMs());
    this.o.logger.info({ callId: party.callId, tenant: party.tenant }, 'far end added to the do-not-call list');
    return { status: 200, body: { tenant: party.tenant, callId: party.callId, added: added > 0 } };
  }

  /**
   * A bot asked (native `dnc`) to put its call's far end on the tenant's do-not-call list. A
   * number that is not E.164, or a store that does not answer, is logged and counted.
   */
  async botDnc(callId: string, tenant: string, number: string): Promise<void> {
    const e164 = toE164(number);
    if (!e164) {
      this.o.logger.warn({ callId, code: 'CAMPAIGN_DNC_FAILED' }, 'the bot asked for DNC, but the far end has no E.164 number');
      this.o.metrics.error('CAMPAIGN_DNC_FAILED');
      return;
    }
    try {
      await this.dncStore.add(tenant, [e164], `bot:${callId}`, this.o.clock.wallMs());
      this.o.logger.info({ callId, tenant }, 'far end added to the do-not-call list at the bot\'s request');
    } catch (err) {
      this.o.metrics.error('CAMPAIGN_DNC_FAILED');
      this.o.logger.error({ err, callId, code: 'CAMPAIGN_DNC_FAILED' }, 'the bot asked for DNC, but the store is not reachable');
    }
  }

  /** A campaign event into the outbox, for each target that asked for campaign events. */
  private hook(e: CampaignEvent): void {
    const at = this.o.clock.wallMs();
    for (const t of this.o.hookTargets(e.tenant, e.bot)) {
      // strictly increasing, so that the outbox's order is the events' order
      this.lastAt = Math.max(at, this.lastAt + 1);
      this.o.writer.push({ kind: 'webhook', row: campaignHookRow(e, t, this.o.nodeId, this.lastAt) });
    }
  }
}
