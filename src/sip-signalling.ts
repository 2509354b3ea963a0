import type { Logger } from './observability/logger.js';
import type { MetricsRegistry } from './observability/metrics.js';
import type { Clock } from './clock.js';
import type { DeepReadonly, DrachtioConfig, RouteConfig, TrunkConfig } from './config/schema.js';
import { DrachtioLink } from './sip/drachtio-link.js';
import { LinkedRegistrations } from './sip/link-registrations.js';
import { InboundCalls, type AdmitRequest, type AdmitResult } from './sip/inbound.js';
import { OutboundDialer, type DialRequest, type DialResult, type FreeswitchDialer } from './sip/outbound.js';
import type { TrunkRegistrationConfig, TrunkRegistrationStatus } from './sip/registration.js';

/** Trunks that register: `register: true` with a username and a password. */
export function registeringTrunks(trunks: readonly DeepReadonly<TrunkConfig>[]): TrunkRegistrationConfig[] {
  return trunks
    .filter((t) => t.register && t.username && t.password)
    .map((t) => ({
      name: t.name, registrar: t.registrar, secondaryRegistrar: t.secondaryRegistrar,
      username: t.username!, password: t.password!, expiresSec: t.expiresSec,
    }));
}

/** A SIP call fsbridge took or placed ended on the SIP side (once per call). */
export interface SipCallEnded {
  callId: string;
  direction: 'inbound' | 'outbound';
  /** Who ended it: the far end (caller / callee), FreeSWITCH's leg, or fsbridge (e.g. drachtio-server lost). */
  by: 'caller' | 'callee' | 'freeswitch' | 'fsbridge';
  /** Q.850 cause name. */
  cause: string;
  /** The final status when the call failed before answer. */
  sipStatus?: number;
  /** Why fsbridge ended it (SIP_DRACHTIO_LOST), when it did. */
  code?: string;
}

export interface SipSignallingOptions {
  drachtio: DeepReadonly<DrachtioConfig>;
  trunks: readonly DeepReadonly<TrunkConfig>[];
  routes: readonly DeepReadonly<RouteConfig>[];
  answerTimeoutMs: number;
  /** How fsbridge makes FreeSWITCH place the FreeSWITCH leg of an outbound call. */
  freeswitch: FreeswitchDialer;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** Admission of an inbound trunk call (capacity, draining; a cluster's shared limits). */
  admit: (req: AdmitRequest) => AdmitResult | Promise<AdmitResult>;
  /**
   * Whether this node takes new calls now: OPTIONS (a load balancer's health probe, e.g.
   * Kamailio's dispatcher) is answered 200 while it does, 503 while it is full, draining or
   * without FreeSWITCH.
   */
  accepting: () => boolean;
  /** A SIP call ended on the SIP side: before FreeSWITCH took it, or after (BYE, drachtio lost). */
  onCallEnded: (e: SipCallEnded) => void;
  /** An outbound dial got a provisional answer (180/183); may come more than once. */
  onRinging?: (callId: string) => void;
  /** drachtio-server refused the secret. */
  onFatal: (code: string) => void;
  /**
   * On a node of a cluster: the trunks are registered only while this node holds the registrar
   * lease, with `contactHost` (the load balancer) as the Contact, and are not unregistered when it
   * stops (the next holder refreshes the same bindings).
   */
  registrar?: { lease: RegistrarGate; contactHost?: string };
}

/** Whether this node registers the cluster's trunks (cluster/registrar-lease.ts). */
export interface RegistrarGate {
  readonly held: boolean;
  on(event: 'acquired' | 'lost', fn: () => void): unknown;
}

/** The host of a SIP URI (`sip:127.0.0.1:5080;transport=udp` → `127.0.0.1`). */
function uriHost(uri: string): string {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)/i.exec(uri.trim());
  return m ? m[1].replace(/^\[|\]$/g, '') : '';
}

/**
 * fsbridge's SIP signalling through drachtio-server: the link, the trunk registrations that
 * follow it (registered again after every reconnect), inbound trunk calls bridged into
 * FreeSWITCH, and the outbound dialer. start() does not wait for drachtio-server (the link
 * retries); close() unregisters (Expires: 0), stops taking calls and disconnects. Idempotent.
 * When the link drops, every SIP call (set up or being set up) ends at once with
 * SIP_DRACHTIO_LOST: drachtio-server's dialogs do not survive it.
 */
export class SipSignalling {
  private readonly link: DrachtioLink;
  private regs: LinkedRegistrations;
  private inbound: InboundCalls | null = null;
  private dialer: OutboundDialer | null = null;
  private closed = false;

  constructor(private readonly o: SipSignallingOptions) {
    this.link = new DrachtioLink({ logger: o.logger.child({ component: 'drachtio' }), metrics: o.metrics });
    this.regs = this.newRegistrations();
  }

  private newRegistrations(): LinkedRegistrations {
    const o = this.o;
    return new LinkedRegistrations(this.link, registeringTrunks(o.trunks), {
      logger: o.logger.child({ component: 'registration' }), metrics: o.metrics, clock: o.clock, staggerMs: 250,
      ...(o.registrar?.contactHost ? { contactHost: o.registrar.contactHost } : {}),
    });
  }

  get connected(): boolean { return this.link.connected; }

  start(): void {
    const lease = this.o.registrar?.lease;
    if (!lease) this.regs.start();
    else {
      // one node of the cluster at a time: registered while it holds the lease, from scratch each time
      const begin = () => { if (this.closed) return; void this.regs.abandon(); this.regs = this.newRegistrations(); this.regs.start(); };
      lease.on('acquired', begin);
      lease.on('lost', () => { void this.stepDown(); });
      if (lease.held) begin();
    }
    this.link.on('disconnected', () => {
      if (this.closed) {
        // close(): the drain is over; what is still being set up ends as a shutdown
        this.inbound?.dropAll('SYSTEM_SHUTDOWN');
        this.dialer?.dropAll('SYSTEM_SHUTDOWN', 'SIP_OUTBOUND_FAILED');
        return;
      }
      const n = (this.inbound?.dropAll('NORMAL_TEMPORARY_FAILURE') ?? 0) + (this.dialer?.dropAll('NORMAL_TEMPORARY_FAILURE') ?? 0);
      if (n > 0) {
        this.o.metrics.error('SIP_DRACHTIO_LOST');
        this.o.logger.warn({ code: 'SIP_DRACHTIO_LOST', calls: n }, 'drachtio-server lost: its SIP calls are ended');
      }
    });
    const { drachtio: d, logger, metrics, clock } = this.o;
    this.link.connect({ host: d.host, port: d.port, secret: d.secret }).then(() => {
      if (this.closed) return;
      const common = { srf: this.link.srf, trunks: this.o.trunks as TrunkConfig[], metrics, clock };
      this.dialer = new OutboundDialer({
        ...common, freeswitch: this.o.freeswitch, drachtioSipAddress: () => this.link.sipAddress,
        freeswitchHost: uriHost(d.sipProfileUri), logger: logger.child({ component: 'sip-outbound' }),
      });
      this.dialer.on('progress', (p) => {
        logger.info({ component: 'sip-outbound', callId: p.callId, sipStatus: p.sipStatus, earlyMedia: p.earlyMedia }, 'outbound call ringing');
        this.o.onRinging?.(p.callId);
      });
      this.dialer.on('ended', (e) => this.o.onCallEnded({
        callId: e.callId, direction: 'outbound', by: e.by, cause: e.cause, ...this.lostCode(e.by),
      }));
      const dialer = this.dialer;
      this.inbound = new InboundCalls({
        ...common, sipProfileUri: d.sipProfileUri, routes: this.o.routes as RouteConfig[], admit: this.o.admit,
        answerTimeoutMs: this.o.answerTimeoutMs, logger: logger.child({ component: 'sip-inbound' }),
        claim: (req, res) => dialer.claim(req, res),
      });
      this.inbound.on('ended', (e) => this.o.onCallEnded({
        callId: e.callId, direction: 'inbound', by: e.by, cause: e.cause, sipStatus: e.sipStatus,
        ...this.lostCode(e.by),
      }));
      this.inbound.start();
      this.link.srf.options((_req, res) => {
        const status = this.o.accepting() ? 200 : 503;
        metrics.counter('fsbridge_sip_options_total', 'OPTIONS answered (a load balancer\'s health probe), by status').inc({ status: String(status) });
        try { res.send(status); } catch { /* the link dropped */ }
      });
    }, (err: { code?: string }) => {
      if (!this.closed) this.o.onFatal(err.code ?? 'SIP_DRACHTIO_AUTH_FAILED');
    });
  }

  /**
   * A node of a cluster no longer registers the trunks (it lost the lease, or stops): its
   * registrations are abandoned, not unregistered (the next holder refreshes the same bindings),
   * and it no longer reports them registered.
   */
  private async stepDown(): Promise<void> {
    await this.regs.abandon();
    for (const t of registeringTrunks(this.o.trunks)) {
      this.o.metrics.gauge('fsbridge_trunk_registered', 'Trunk registered (1) or not (0)').set(0, { trunk: t.name });
    }
  }

  /** A call fsbridge ended because the link dropped (not because fsbridge is closing) says so. */
  private lostCode(by: SipCallEnded['by']): { code?: string } {
    return by === 'fsbridge' && !this.link.connected && !this.closed ? { code: 'SIP_DRACHTIO_LOST' } : {};
  }

  /** Places an outbound call; a value, never an exception. */
  async dial(req: DialRequest): Promise<DialResult> {
    if (!this.dialer || !this.link.connected) return { result: 'failed', callId: req.callId, cause: 'NORMAL_TEMPORARY_FAILURE', code: 'SIP_OUTBOUND_FAILED' };
    return this.dialer.dial(req);
  }

  /** Ends a SIP call (inbound or outbound) by call id; false when the SIP side does not know it. */
  hangup(callId: string, causeName: string): boolean {
    return (this.inbound?.hangup(callId, causeName) ?? false) || (this.dialer?.hangup(callId, causeName) ?? false);
  }

  /** A trunk's outbound slots in use and dials waiting for one. */
  trunkLoad(trunk: string): { inUse: number; waiting: number } {
    return this.dialer?.trunkLoad(trunk) ?? { inUse: 0, waiting: 0 };
  }

  /** What the SIP side holds now (for /metrics): every count is 0 once its calls ended. */
  load(): { inboundPending: number; inboundCalls: number; outboundDials: number; outboundCalls: number; trunkSlots: number } {
    let trunkSlots = 0;
    for (const t of this.o.trunks) trunkSlots += this.dialer?.trunkLoad(t.name).inUse ?? 0;
    return {
      inboundPending: this.inbound?.pendingInvites ?? 0, inboundCalls: this.inbound?.activeCalls ?? 0,
      outboundDials: this.dialer?.dialsInProgress ?? 0, outboundCalls: this.dialer?.activeCalls ?? 0, trunkSlots,
    };
  }

  /** One entry per registering trunk (empty until drachtio-server was first reached). */
  status(): TrunkRegistrationStatus[] {
    return this.regs.status();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inbound?.close();
    this.dialer?.close();
    if (this.o.registrar) await this.stepDown(); else await this.regs.stop();
    this.link.close();
  }
}
