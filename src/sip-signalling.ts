import type { Logger } from './observability/logger.js';
import type { MetricsRegistry } from './observability/metrics.js';
import type { Clock } from './clock.js';
import type { DeepReadonly, DrachtioConfig, RouteConfig, TrunkConfig } from './config/schema.js';
import { DrachtioLink } from './sip/drachtio-link.js';
import { LinkedRegistrations } from './sip/link-registrations.js';
import { InboundCalls, type AdmitRequest, type AdmitResult, type InboundEnded } from './sip/inbound.js';
import { OutboundDialer, type DialRequest, type DialResult } from './sip/outbound.js';
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

export interface SipSignallingOptions {
  drachtio: DeepReadonly<DrachtioConfig>;
  trunks: readonly DeepReadonly<TrunkConfig>[];
  routes: readonly DeepReadonly<RouteConfig>[];
  answerTimeoutMs: number;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** Admission of an inbound trunk call (capacity, draining). */
  admit: (req: AdmitRequest) => AdmitResult;
  /** An admitted inbound call ended on the SIP side (e.g. cancelled before FreeSWITCH took it). */
  onInboundEnded: (e: InboundEnded) => void;
  /** drachtio-server refused the secret. */
  onFatal: (code: string) => void;
}

/**
 * fsbridge's SIP signalling through drachtio-server: the link, the trunk registrations that
 * follow it (registered again after every reconnect), inbound trunk calls bridged into
 * FreeSWITCH, and the outbound dialer. start() does not wait for drachtio-server (the link
 * retries); close() unregisters (Expires: 0), stops taking calls and disconnects. Idempotent.
 */
export class SipSignalling {
  private readonly link: DrachtioLink;
  private readonly regs: LinkedRegistrations;
  private inbound: InboundCalls | null = null;
  private dialer: OutboundDialer | null = null;
  private closed = false;

  constructor(private readonly o: SipSignallingOptions) {
    this.link = new DrachtioLink({ logger: o.logger.child({ component: 'drachtio' }), metrics: o.metrics });
    this.regs = new LinkedRegistrations(this.link, registeringTrunks(o.trunks), {
      logger: o.logger.child({ component: 'registration' }), metrics: o.metrics, clock: o.clock, staggerMs: 250,
    });
  }

  get connected(): boolean { return this.link.connected; }

  start(): void {
    this.regs.start();
    // SIP dialogs do not survive a drachtio-server restart: end the calls that were up.
    this.link.on('disconnected', () => {
      this.inbound?.hangupAll('NORMAL_TEMPORARY_FAILURE');
      this.dialer?.hangupAll('NORMAL_TEMPORARY_FAILURE');
    });
    const { drachtio: d, logger, metrics, clock } = this.o;
    this.link.connect({ host: d.host, port: d.port, secret: d.secret }).then(() => {
      if (this.closed) return;
      const common = { srf: this.link.srf, trunks: this.o.trunks as TrunkConfig[], sipProfileUri: d.sipProfileUri, metrics, clock };
      this.inbound = new InboundCalls({
        ...common, routes: this.o.routes as RouteConfig[], admit: this.o.admit,
        answerTimeoutMs: this.o.answerTimeoutMs, logger: logger.child({ component: 'sip-inbound' }),
      });
      this.inbound.on('ended', (e) => this.o.onInboundEnded(e));
      this.inbound.start();
      this.dialer = new OutboundDialer({ ...common, logger: logger.child({ component: 'sip-outbound' }) });
    }, (err: { code?: string }) => {
      if (!this.closed) this.o.onFatal(err.code ?? 'SIP_DRACHTIO_AUTH_FAILED');
    });
  }

  /** Places an outbound call; a value, never an exception. */
  async dial(req: DialRequest): Promise<DialResult> {
    if (!this.dialer) return { result: 'failed', callId: req.callId, cause: 'NORMAL_TEMPORARY_FAILURE', code: 'SIP_OUTBOUND_FAILED' };
    return this.dialer.dial(req);
  }

  /** Ends a SIP call (inbound or outbound) by call id; false when the SIP side does not know it. */
  hangup(callId: string, causeName: string): boolean {
    return (this.inbound?.hangup(callId, causeName) ?? false) || (this.dialer?.hangup(callId, causeName) ?? false);
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
    await this.regs.stop();
    this.link.close();
  }
}
