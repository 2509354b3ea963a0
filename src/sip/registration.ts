/**
 * Trunk registration through drachtio-srf: the I/O shell around {@link RegistrationMachine}.
 * Sends REGISTER with `srf.request(..., {auth})` (srf answers one digest challenge per request),
 * keeps one Call-ID per registrar with increasing CSeq (RFC 3261 §10.2), runs the refresh,
 * backoff and request-timeout timers on the injected clock, and unregisters (Expires: 0) on stop.
 * The password is handed to srf only; it is never put in a log field or a status.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Clock } from '../clock.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';
import { RegistrationMachine, type RegistrationEffect, type RegistrationPolicy, type RegistrationState } from './registration-machine.js';
import { parseChallenge } from './digest.js';
import type { SipErrorCode } from './error-codes.js';

/** One trunk's registration settings. */
export interface TrunkRegistrationConfig {
  /** Trunk name, used in logs, metrics and the status. */
  name: string;
  /** Registrar URI, e.g. `sip:sip.operator.example` or `sip:192.0.2.10:5060`. */
  registrar: string;
  /** Tried when the primary times out or answers 5xx/6xx. */
  secondaryRegistrar?: string;
  username: string;
  password: string;
  /** Digest username when it differs from the AOR user. */
  authUsername?: string;
  /** AOR domain; default: the registrar's host. */
  domain?: string;
  expiresSec: number;
}

/** The part of a drachtio-srf `Response` used here. */
export interface SrfResponseLike {
  status: number;
  get(name: string): string | undefined;
}
/** The part of a drachtio-srf `Request` used here. */
export interface SrfRequestLike {
  on(event: 'response', fn: (res: SrfResponseLike) => void): unknown;
  get(name: string): string | undefined;
}
/**
 * The part of drachtio-srf used here: `srf.request(uri, opts, callback)`. The callback form
 * matters: srf calls it as soon as drachtio-server echoes the sent request, before it handles
 * the next message on the admin connection. With the Promise form the listener is attached a
 * microtask later, and a registrar's 200 that arrives in the same read as the echo is emitted
 * to nobody (found by bench/sip.ts: most REGISTERs to a fast registrar timed out).
 */
export interface SrfRequester {
  request(uri: string, opts: {
    method: string; headers: Record<string, string>; auth?: { username: string; password: string };
  }, callback: (err: Error | null | undefined, req: SrfRequestLike) => void): unknown;
}

/** Registration status of one trunk, for the API. */
export interface TrunkRegistrationStatus {
  trunk: string;
  state: RegistrationState;
  /** The registrar in use (primary or secondary). */
  registrar: string;
  lastError?: SipErrorCode;
  lastStatus?: number;
  /** Wall-clock ms when the binding expires, when registered. */
  expiresAtMs?: number;
  consecutiveFailures: number;
}

/** Shared dependencies and tunables. */
export interface RegistrationOptions {
  srf: SrfRequester;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** [0,1); default Math.random. */
  random?: () => number;
  /** A REGISTER without a final answer after this counts as a timeout (default 32000). */
  requestTimeoutMs?: number;
  /** How long stop() waits for the answer to the un-REGISTER (default 2000). */
  unregisterTimeoutMs?: number;
  policy?: Omit<Partial<RegistrationPolicy>, 'registrarCount' | 'expiresSec'>;
  userAgent?: string;
  /** host:port for the Contact (a cluster's load balancer); default drachtio-server's own address. */
  contactHost?: string;
}

/** Events of a trunk registration. */
export type TrunkRegistrationEvents = { state: [TrunkRegistrationStatus] };

function hostOf(uri: string): string {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)/i.exec(uri);
  return m ? m[1] : uri;
}

/** Splits a header value list on commas outside <> and quotes. */
function splitList(v: string): string[] {
  const out: string[] = [];
  let depth = 0, quoted = false, cur = '';
  for (const ch of v) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    if (ch === ',' && depth === 0 && !quoted) { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function contactUri(v: string): string {
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1] : v.split(';')[0]).trim();
}

/**
 * The expiry granted by a 2xx: the `expires` param of our Contact among those listed
 * (RFC 3261 §10.2.4), else the Expires header, else undefined.
 */
export function grantedExpiresSec(contactHeader: string | undefined, expiresHeader: string | undefined, ourContact: string | undefined): number | undefined {
  if (contactHeader) {
    const ours = ourContact ? contactUri(ourContact) : undefined;
    const entries = splitList(contactHeader);
    const mine = entries.find((e) => ours !== undefined && contactUri(e) === ours) ?? (entries.length === 1 ? entries[0] : undefined);
    const m = mine ? /;\s*expires\s*=\s*(\d+)/i.exec(mine.slice(mine.lastIndexOf('>') + 1)) : null;
    if (m) return Number(m[1]);
  }
  if (expiresHeader && /^\s*\d+\s*$/.test(expiresHeader)) return Number(expiresHeader);
  return undefined;
}

/**
 * Registers one trunk and keeps it registered. start() sends the first REGISTER; stop()
 * unregisters and resolves when that finished or timed out (safe to call twice).
 */
export class TrunkRegistration extends TypedEmitter<TrunkRegistrationEvents> {
  private readonly machine: RegistrationMachine;
  private readonly registrars: string[];
  private readonly callIds: string[];
  private readonly cseqs: number[];
  private readonly log: Logger;
  private cancelTimer = () => {};
  private readonly requestTimers = new Set<() => void>();
  private stopped?: Promise<void>;
  private resolveStopped = () => {};

  constructor(private readonly trunk: TrunkRegistrationConfig, private readonly o: RegistrationOptions) {
    super(reportListenerErrors({ logger: o.logger, metrics: o.metrics, code: 'SIP_LISTENER_THREW' }));
    this.registrars = [trunk.registrar, ...(trunk.secondaryRegistrar ? [trunk.secondaryRegistrar] : [])];
    this.callIds = this.registrars.map(() => randomUUID());
    this.cseqs = this.registrars.map(() => 0);
    this.machine = new RegistrationMachine(
      { ...o.policy, expiresSec: trunk.expiresSec, registrarCount: this.registrars.length },
      o.random ?? Math.random,
    );
    this.log = o.logger.child({ trunk: trunk.name });
  }

  /** Current status (no secrets). */
  status(): TrunkRegistrationStatus {
    const s = this.machine.snapshot();
    return {
      trunk: this.trunk.name, state: s.state, registrar: this.registrars[s.registrar] ?? this.trunk.registrar,
      lastError: s.lastError, lastStatus: s.lastStatus, expiresAtMs: s.expiresAtMs, consecutiveFailures: s.consecutiveFailures,
    };
  }

  /** Sends the first REGISTER. */
  start(): void {
    this.apply(this.machine.start());
  }

  /**
   * Unregisters (Expires: 0) if registered; resolves when the registrar answered, or after
   * `unregisterTimeoutMs` (default 2000) without an answer: a shutdown must not wait for a
   * registrar that is gone. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopped = new Promise<void>((resolve) => { this.resolveStopped = resolve; });
    const cancel = this.o.clock.setTimeout(() => this.abandon(), this.o.unregisterTimeoutMs ?? 2000);
    void this.stopped.then(cancel);
    this.apply(this.machine.stop());
    return this.stopped;
  }

  /**
   * Forgets the registration without unregistering: every timer stops, answers still to come are
   * ignored, no REGISTER is sent again. For a drachtio-server that restarted (the new connection
   * registers afresh; the old binding is replaced by that REGISTER, or expires). Idempotent.
   */
  abandon(): void {
    this.abandoned = true;
    this.cancelTimer();
    this.cancelTimer = () => {};
    for (const c of this.requestTimers) c();
    this.requestTimers.clear();
    this.resolveStopped();
  }

  private abandoned = false;

  private apply(effects: RegistrationEffect[]): void {
    if (this.abandoned) return;
    for (const e of effects) {
      switch (e.kind) {
        case 'cancel-timer':
          this.cancelTimer();
          this.cancelTimer = () => {};
          break;
        case 'timer':
          this.cancelTimer();
          this.cancelTimer = this.o.clock.setTimeout(() => this.apply(this.machine.onTimer()), e.delayMs);
          break;
        case 'state':
          this.onState(e.state, e.error, e.status);
          break;
        case 'send':
          this.send(e.attempt, e.registrar, e.expiresSec);
          break;
      }
    }
  }

  private onState(state: RegistrationState, error?: SipErrorCode, status?: number): void {
    const st = this.status();
    this.o.metrics.gauge('fsbridge_trunk_registered', 'Trunk registered (1) or not (0)').set(state === 'registered' ? 1 : 0, { trunk: this.trunk.name });
    if (error) {
      this.o.metrics.error(error);
      this.log.warn({ code: error, status, registrar: st.registrar, failures: st.consecutiveFailures }, 'trunk registration failed');
    } else {
      this.log.info({ state, status, registrar: st.registrar, expiresAtMs: st.expiresAtMs }, 'trunk registration state');
    }
    if (state === 'unregistered') {
      for (const c of this.requestTimers) c();
      this.requestTimers.clear();
      this.resolveStopped();
    }
    this.safeEmit('state', st);
  }

  private send(attempt: number, idx: number, expiresSec: number): void {
    const registrar = this.registrars[idx];
    const domain = this.trunk.domain ?? hostOf(this.trunk.registrar);
    const aor = `<sip:${this.trunk.username}@${domain}>`;
    const cseq = ++this.cseqs[idx];
    const headers: Record<string, string> = {
      From: aor, To: aor,
      // drachtio-server replaces @localhost with its own SIP address (protocols.md §3.4).
      Contact: `<sip:${this.trunk.username}@${this.o.contactHost ?? 'localhost'}>`,
      Expires: String(expiresSec),
      'Call-ID': this.callIds[idx],
      CSeq: `${cseq} REGISTER`,
      'User-Agent': this.o.userAgent ?? 'fsbridge',
    };
    this.o.metrics.counter('fsbridge_sip_register_requests_total', 'REGISTER requests sent').inc({ trunk: this.trunk.name });
    this.log.debug({ registrar, expiresSec, cseq }, 'sending REGISTER');
    let done = false;
    const finish = (status: number, res?: SrfResponseLike, sentContact?: string): void => {
      if (done) return;
      done = true;
      cancelTimeout();
      this.requestTimers.delete(cancelTimeout);
      const outcome = { attempt, status, grantedSec: undefined as number | undefined, minExpiresSec: undefined as number | undefined, stale: false };
      if (res) {
        // The digest retry increments CSeq (drachtio-srf digest-client); continue after it.
        const c = Number((res.get('CSeq') ?? '').split(/\s+/)[0]);
        if (Number.isFinite(c) && c > this.cseqs[idx]) this.cseqs[idx] = c;
        if (status >= 200 && status < 300) outcome.grantedSec = grantedExpiresSec(res.get('Contact'), res.get('Expires'), sentContact);
        if (status === 423) {
          const me = Number(res.get('Min-Expires'));
          outcome.minExpiresSec = Number.isFinite(me) && me > 0 ? me : undefined;
        }
        if (status === 401 || status === 407) {
          const ch = res.get(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
          outcome.stale = ch ? parseChallenge(ch)?.stale === true : false;
        }
      }
      this.apply(this.machine.onOutcome(outcome, this.o.clock.wallMs()));
    };
    const cancelTimeout = this.o.clock.setTimeout(() => finish(0), this.o.requestTimeoutMs ?? 32_000);
    this.requestTimers.add(cancelTimeout);
    const onSent = (err: Error | null | undefined, req: SrfRequestLike) => {
      if (err) {
        this.log.warn({ code: 'SIP_REGISTER_FAILED', registrar, reason: err.message }, 'REGISTER could not be sent');
        this.o.metrics.error('SIP_REGISTER_FAILED');
        finish(0);
        return;
      }
      const sentContact = req.get('Contact');
      req.on('response', (res) => { if (res.status >= 200) finish(res.status, res, sentContact); });
    };
    try {
      this.o.srf.request(registrar, {
        method: 'REGISTER', headers, auth: { username: this.trunk.authUsername ?? this.trunk.username, password: this.trunk.password },
      }, onSent);
    } catch (err) {
      onSent(err instanceof Error ? err : new Error(String(err)), undefined as never);
    }
  }
}

/** Starts many trunks without a REGISTER storm, and reports them together. */
export class RegistrationManager {
  readonly trunks: TrunkRegistration[];
  private readonly cancels: (() => void)[] = [];

  /** `staggerMs`: trunk i starts at a random moment within [i*staggerMs, (i+1)*staggerMs). */
  constructor(configs: TrunkRegistrationConfig[], private readonly o: RegistrationOptions & { staggerMs?: number }) {
    this.trunks = configs.map((c) => new TrunkRegistration(c, o));
  }

  /** Schedules every trunk's first REGISTER, staggered. */
  start(): void {
    const stagger = this.o.staggerMs ?? 200;
    const random = this.o.random ?? Math.random;
    this.trunks.forEach((t, i) => {
      this.cancels.push(this.o.clock.setTimeout(() => t.start(), Math.floor((i + random()) * stagger)));
    });
  }

  /** Status of every trunk. */
  status(): TrunkRegistrationStatus[] {
    return this.trunks.map((t) => t.status());
  }

  /** Cancels pending starts and unregisters every trunk; resolves when all are done (each bounded). */
  async stop(): Promise<void> {
    for (const c of this.cancels.splice(0)) c();
    await Promise.all(this.trunks.map((t) => t.stop()));
  }

  /** Cancels pending starts and forgets every trunk without unregistering (see TrunkRegistration.abandon). */
  abandon(): void {
    for (const c of this.cancels.splice(0)) c();
    for (const t of this.trunks) t.abandon();
  }
}
