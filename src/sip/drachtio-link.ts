/**
 * The connection to drachtio-server: owns the drachtio-srf instance, connects with srf's own
 * reconnect (capped backoff), and tells its owner when the link comes up or goes down so that
 * registrations can register again after drachtio-server restarted (its registrations and
 * dialogs are gone with it). drachtio-srf re-sends its method routes by itself on every
 * (re)authentication (drachtio-agent.js routeVerbs), so srf.invite handlers survive a reconnect.
 */
import Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';
import { FsbridgeError } from '../errors.js';
import type { SrfApi } from './srf.js';

/**
 * drachtio-server's SIP address (`host:port`) from the hostport list it announces on
 * authentication (`tcp/127.0.0.1:5060,udp/127.0.0.1:5060` from drachtio-server v0.9.4): a UDP one, loopback preferred (that
 * is where FreeSWITCH on the same host sends fsbridge's outbound calls). undefined if none.
 */
export function sipAddressFromHostport(hostport: string): string | undefined {
  const udp = hostport.split(',').map((x) => x.trim()).filter((x) => x.startsWith('udp/')).map((x) => x.slice(4));
  return udp.find((a) => a.startsWith('127.')) ?? udp[0];
}

/** srf's reconnect state (wire-protocol.js), reached into by close(). */
interface SrfInternals {
  _app?: { client?: { wp?: { closing: boolean; reconnectVars?: { retryTimer?: ReturnType<typeof setTimeout> | null } } } };
}

/** Where drachtio-server's admin port is. */
export interface DrachtioLinkTarget {
  host: string;
  port: number;
  secret: string;
}

/** Options of {@link DrachtioLink}. */
export interface DrachtioLinkOptions {
  logger: Logger;
  metrics: MetricsRegistry;
  /** Upper bound of the reconnect delay (default 5000 ms); srf starts at ~250 ms and grows ×1.7. */
  retryMaxDelayMs?: number;
  /** Builds the srf instance (tests); default `new Srf()`. */
  createSrf?: () => SrfApi;
}

/** Events of a {@link DrachtioLink}. */
export type DrachtioLinkEvents = {
  /** Authenticated to drachtio-server. `reconnect` is true for every connection after the first. */
  connected: [{ hostport: string; serverVersion?: string; reconnect: boolean }];
  /** The connection dropped; srf is already retrying. */
  disconnected: [];
};

/**
 * One srf instance connected to drachtio-server. connect() resolves on the first successful
 * authentication and rejects when drachtio-server refuses the secret; after that the link keeps
 * reconnecting until close(). Emits `connected` (each time) and `disconnected`.
 */
export class DrachtioLink extends TypedEmitter<DrachtioLinkEvents> {
  private readonly opts: DrachtioLinkOptions;
  private instance?: SrfApi;
  private up = false;
  private everConnected = false;
  private closed = false;

  constructor(opts: DrachtioLinkOptions) {
    super(reportListenerErrors({ logger: opts.logger, metrics: opts.metrics, code: 'SIP_LISTENER_THREW' }));
    this.opts = opts;
  }

  /** The drachtio-srf instance (valid after connect() was called). */
  get srf(): SrfApi {
    if (!this.instance) throw new Error('DrachtioLink: connect() first');
    return this.instance;
  }

  /** True while authenticated to drachtio-server. */
  get connected(): boolean { return this.up; }

  /** drachtio-server's SIP address (`host:port`) as announced on the last authentication. */
  get sipAddress(): string | undefined { return this.hostport === undefined ? undefined : sipAddressFromHostport(this.hostport); }

  private hostport: string | undefined;

  /**
   * Connects and resolves once authenticated. Rejects with FsbridgeError SIP_DRACHTIO_AUTH_FAILED
   * if drachtio-server refuses the secret (the link is closed then). Connection refusals are retried, the promise stays pending.
   */
  connect(target: DrachtioLinkTarget): Promise<void> {
    if (this.instance) throw new Error('DrachtioLink: connect() called twice');
    const { logger, metrics } = this.opts;
    // srf.ts says where the shipped declarations differ from what srf does at run time.
    const srf = this.opts.createSrf ? this.opts.createSrf() : new Srf() as unknown as SrfApi;
    this.instance = srf;
    const up = metrics.gauge('fsbridge_drachtio_connected', 'Whether fsbridge is authenticated to drachtio-server (0/1).');
    const reconnects = metrics.counter('fsbridge_drachtio_reconnects_total', 'Connections to drachtio-server after the first.');
    up.set(0);
    return new Promise<void>((resolve, reject) => {
      // srf.connect returns nothing useful: the outcome comes as a 'connect' event (err first).
      srf.on('connect', (err: Error | null, hostport: string, serverVersion?: string) => {
        if (this.closed) return;
        if (err) {
          // A wrong secret will not fix itself: stop retrying and let the owner report it.
          metrics.error('SIP_DRACHTIO_AUTH_FAILED');
          logger.error({ code: 'SIP_DRACHTIO_AUTH_FAILED' }, 'drachtio-server refused the secret');
          this.close();
          reject(new FsbridgeError('SIP_DRACHTIO_AUTH_FAILED', 'drachtio-server refused the secret', err));
          return;
        }
        const reconnect = this.everConnected;
        this.everConnected = true;
        this.hostport = hostport;
        this.up = true;
        up.set(1);
        if (reconnect) reconnects.inc();
        logger.info({ hostport, serverVersion, reconnect }, 'connected to drachtio-server');
        this.safeEmit('connected', { hostport, serverVersion, reconnect });
        resolve();
      });
      // srf emits 'error' for socket errors; without a listener EventEmitter would throw.
      srf.on('error', (err: Error) => { if (!this.closed) logger.debug({ err: err.message }, 'drachtio socket error'); });
      srf.on('close', () => {
        if (this.closed || !this.up) return;
        this.up = false;
        up.set(0);
        logger.warn({}, 'drachtio-server connection lost; reconnecting');
        this.safeEmit('disconnected');
      });
      srf.connect({
        host: target.host, port: target.port, secret: target.secret,
        reconnect: { retryMaxDelay: this.opts.retryMaxDelayMs ?? 5000 },
      });
    });
  }

  /** Disconnects and stops reconnecting. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const srf = this.instance;
    if (!srf) return;
    const wasUp = this.up;
    this.up = false;
    try { srf.disconnect(); } catch { /* no socket while reconnecting; srf marks itself closing first */ }
    // srf's pending reconnect timer does not re-check its closing flag when it fires
    // (wire-protocol.js _onConnectionGone), so it is cleared here.
    const wp = (srf as SrfInternals)._app?.client?.wp;
    if (wp) {
      wp.closing = true;
      if (wp.reconnectVars?.retryTimer) { clearTimeout(wp.reconnectVars.retryTimer); wp.reconnectVars.retryTimer = null; }
    }
    if (wasUp) this.safeEmit('disconnected');
  }
}
