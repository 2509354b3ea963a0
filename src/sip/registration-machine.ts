/**
 * The registration state machine of one trunk, pure: it takes events with the current time and
 * returns what to do. The I/O shell (registration.ts) sends REGISTERs and runs timers.
 *
 * RFC 3261 §10.2: refresh before the granted expiry; §10.2.8 / §21.4.17: 423 carries Min-Expires,
 * retry with at least that; expires 0 removes the binding. Digest challenges (401/407, including
 * stale nonces) are answered by the transport (drachtio-srf's `auth`) once per request; a 401/407
 * that reaches this machine means the answer was refused, except `stale=true`, which means a new
 * nonce is wanted and is retried at once.
 */
import type { SipErrorCode } from './error-codes.js';

/** Lifecycle of a trunk registration. */
export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'unregistering' | 'unregistered';

/** Tunables, with units in the names. */
export interface RegistrationPolicy {
  /** Expiry asked of the registrar. */
  expiresSec: number;
  /** Refresh at this fraction of the granted expiry, minus jitter (default 0.8). */
  refreshRatio?: number;
  /** Up to this fraction of the expiry is taken off at random (default 0.1). */
  jitterRatio?: number;
  /** Never refresh sooner than this after success (default 1000). */
  minRefreshMs?: number;
  /** Backoff after failure: first delay, cap (defaults 2000 / 300000). Jittered to 50-100 %. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Largest Min-Expires accepted from a 423 (default 86400). */
  maxExpiresSec?: number;
  /** How many registrars (primary first). */
  registrarCount: number;
}

/** One finished REGISTER transaction as the machine needs it. */
export interface RegisterOutcome {
  /** The attempt number given in the `send` effect; stale outcomes are ignored. */
  attempt: number;
  /** Final SIP status, or 0 for "no answer" (timeout, transport failure). */
  status: number;
  /** Granted expiry (Contact expires param or Expires header) on 2xx. */
  grantedSec?: number;
  /** Min-Expires on 423. */
  minExpiresSec?: number;
  /** `stale=true` in a 401/407 challenge. */
  stale?: boolean;
}

/** What the shell must do. */
export type RegistrationEffect =
  | { kind: 'send'; attempt: number; registrar: number; expiresSec: number }
  | { kind: 'timer'; delayMs: number } // replaces any pending timer
  | { kind: 'cancel-timer' }
  | { kind: 'state'; state: RegistrationState; error?: SipErrorCode; status?: number };

/** Read-only view for the API. */
export interface RegistrationSnapshot {
  state: RegistrationState;
  registrar: number;
  lastError?: SipErrorCode;
  lastStatus?: number;
  /** Wall-clock ms when the current binding expires (registered only). */
  expiresAtMs?: number;
  consecutiveFailures: number;
}

/**
 * One trunk's registration logic. `random` returns [0,1) and is injected so tests are exact.
 * Call order: start() → onOutcome()/onTimer() … → stop() → onOutcome() of the unregister.
 */
export class RegistrationMachine {
  private state: RegistrationState = 'idle';
  private attempt = 0;
  private registrar = 0;
  private triedThisCycle = 0;
  private failures = 0;
  private expiresSec: number;
  private lastError?: SipErrorCode;
  private lastStatus?: number;
  private expiresAtMs?: number;
  private staleRetries = 0;
  private readonly p: Required<RegistrationPolicy>;

  constructor(policy: RegistrationPolicy, private readonly random: () => number) {
    this.p = {
      refreshRatio: 0.8, jitterRatio: 0.1, minRefreshMs: 1000, backoffInitialMs: 2000, backoffMaxMs: 300_000,
      maxExpiresSec: 86_400, ...policy,
    };
    this.expiresSec = policy.expiresSec;
  }

  /** Current status. */
  snapshot(): RegistrationSnapshot {
    return {
      state: this.state, registrar: this.registrar, lastError: this.lastError, lastStatus: this.lastStatus,
      expiresAtMs: this.state === 'registered' ? this.expiresAtMs : undefined, consecutiveFailures: this.failures,
    };
  }

  /** Begins registering (first REGISTER now). */
  start(): RegistrationEffect[] {
    if (this.state !== 'idle') return [];
    this.triedThisCycle = 1;
    return this.send('registering');
  }

  /** The refresh or backoff timer fired. */
  onTimer(): RegistrationEffect[] {
    if (this.state === 'registered') return this.send('registering', true);
    if (this.state === 'failed') {
      this.registrar = 0; // a new cycle prefers the primary
      this.triedThisCycle = 1;
      return this.send('registering');
    }
    return [];
  }

  /** A REGISTER finished. `wallMs` is the current wall clock, for expiresAt. */
  onOutcome(o: RegisterOutcome, wallMs: number): RegistrationEffect[] {
    if (o.attempt !== this.attempt) return [];
    this.lastStatus = o.status || undefined;
    if (this.state === 'unregistering') {
      this.state = 'unregistered';
      return [{ kind: 'cancel-timer' }, { kind: 'state', state: 'unregistered' }];
    }
    if (this.state !== 'registering') return [];
    const s = o.status;
    if (s >= 200 && s < 300) {
      const granted = o.grantedSec !== undefined && o.grantedSec > 0 ? o.grantedSec : this.expiresSec;
      this.failures = 0;
      this.staleRetries = 0;
      this.lastError = undefined;
      this.triedThisCycle = 1;
      this.expiresAtMs = wallMs + granted * 1000;
      this.state = 'registered';
      const factor = this.p.refreshRatio - this.p.jitterRatio * this.random();
      const delayMs = Math.max(this.p.minRefreshMs, Math.floor(granted * 1000 * factor));
      return [{ kind: 'state', state: 'registered', status: s }, { kind: 'timer', delayMs }];
    }
    if (s === 423) {
      const min = o.minExpiresSec;
      if (min === undefined || min <= this.expiresSec || min > this.p.maxExpiresSec) return this.fail('SIP_REGISTER_FAILED', s);
      this.expiresSec = min;
      return this.send('registering', true);
    }
    if ((s === 401 || s === 407) && o.stale && this.staleRetries < 2) {
      this.staleRetries++;
      return this.send('registering', true);
    }
    if (s === 401 || s === 407) return this.fail('SIP_REGISTER_AUTH_FAILED', s);
    if (s === 403 || s === 404) return this.fail('SIP_REGISTER_REJECTED', s);
    if (s === 0 || s === 408) return this.failover('SIP_REGISTER_TIMEOUT', s);
    if (s >= 500) return this.failover('SIP_REGISTER_SERVER_ERROR', s);
    return this.fail('SIP_REGISTER_FAILED', s);
  }

  /**
   * Shutdown: if a binding may exist, send REGISTER with expires 0 and wait for its outcome;
   * otherwise end at once. Returns effects; the state becomes 'unregistered' when done.
   */
  stop(): RegistrationEffect[] {
    if (this.state === 'registered' || this.state === 'registering') {
      this.state = 'unregistering';
      this.attempt++;
      return [
        { kind: 'cancel-timer' }, { kind: 'state', state: 'unregistering' },
        { kind: 'send', attempt: this.attempt, registrar: this.registrar, expiresSec: 0 },
      ];
    }
    if (this.state === 'unregistering' || this.state === 'unregistered') return [];
    this.state = 'unregistered';
    this.attempt++; // outcomes of anything in flight are now stale
    return [{ kind: 'cancel-timer' }, { kind: 'state', state: 'unregistered' }];
  }

  private send(state: RegistrationState, quiet = false): RegistrationEffect[] {
    const changed = this.state !== state;
    this.state = state;
    this.attempt++;
    const eff: RegistrationEffect[] = [{ kind: 'cancel-timer' }];
    if (changed || !quiet) eff.push({ kind: 'state', state });
    eff.push({ kind: 'send', attempt: this.attempt, registrar: this.registrar, expiresSec: this.expiresSec });
    return eff;
  }

  private failover(code: SipErrorCode, status: number): RegistrationEffect[] {
    if (this.triedThisCycle < this.p.registrarCount) {
      this.triedThisCycle++;
      this.registrar = (this.registrar + 1) % this.p.registrarCount;
      this.lastError = code;
      return this.send('registering', true);
    }
    return this.fail(code, status);
  }

  private fail(code: SipErrorCode, status: number): RegistrationEffect[] {
    this.failures++;
    this.lastError = code;
    this.staleRetries = 0;
    this.state = 'failed';
    this.expiresAtMs = undefined;
    const cap = Math.min(this.p.backoffMaxMs, this.p.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30));
    const delayMs = Math.floor(cap * (0.5 + 0.5 * this.random()));
    return [{ kind: 'state', state: 'failed', error: code, status: status || undefined }, { kind: 'timer', delayMs }];
  }
}
