import type { Logger } from './observability/logger.js';
import type { MetricsRegistry } from './observability/metrics.js';
import type { Clock } from './clock.js';
import type { DeepReadonly, DrachtioConfig, TrunkConfig } from './config/schema.js';
import { DrachtioLink } from './sip/drachtio-link.js';
import { LinkedRegistrations } from './sip/link-registrations.js';
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

/**
 * The SIP signalling side fsbridge runs today: the link to drachtio-server and the trunk
 * registrations that follow it (registered again after every reconnect). start() does not wait
 * for drachtio-server (it may start later; the link retries); a refused secret is reported once
 * through `onFatal`. close() unregisters (Expires: 0) and disconnects. Idempotent.
 */
export class TrunkRegistrations {
  private readonly link: DrachtioLink;
  private readonly regs: LinkedRegistrations;
  private closed = false;

  constructor(
    private readonly drachtio: DeepReadonly<DrachtioConfig>,
    trunks: readonly DeepReadonly<TrunkConfig>[],
    private readonly o: { logger: Logger; metrics: MetricsRegistry; clock: Clock; onFatal: (code: string) => void },
  ) {
    this.link = new DrachtioLink({ logger: o.logger.child({ component: 'drachtio' }), metrics: o.metrics });
    this.regs = new LinkedRegistrations(this.link, registeringTrunks(trunks), {
      logger: o.logger.child({ component: 'registration' }), metrics: o.metrics, clock: o.clock, staggerMs: 250,
    });
  }

  get connected(): boolean { return this.link.connected; }

  start(): void {
    this.regs.start();
    this.link.connect({ host: this.drachtio.host, port: this.drachtio.port, secret: this.drachtio.secret }).catch((err: { code?: string }) => {
      if (!this.closed) this.o.onFatal(err.code ?? 'SIP_DRACHTIO_AUTH_FAILED');
    });
  }

  /** One entry per registering trunk (empty until drachtio-server was first reached). */
  status(): TrunkRegistrationStatus[] {
    return this.regs.status();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.regs.stop();
    this.link.close();
  }
}
