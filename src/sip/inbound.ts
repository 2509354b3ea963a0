/**
 * Inbound calls through drachtio: an INVITE from an operator is checked (source address in a
 * trunk's allow list, or digest credentials for trunks with `inbound.digest`), routed (dialled
 * number → bot), admitted (injected admission), then bridged into FreeSWITCH as a B2BUA: the
 * B leg goes to FreeSWITCH's SIP profile with the DID as request-URI user and the header
 * `X-Fsbridge-Call: <callId>` (FreeSWITCH exposes it as ${sip_h_X-Fsbridge-Call}; the fsbridge
 * dialplan context sockets such calls back to fsbridge). Signalling stays in drachtio, media is
 * FreeSWITCH's (protocols.md §4.3/§4.4). The SDP passes through unchanged both ways.
 *
 * Flood bound: at most `maxInProgress` INVITEs are worked on at once (from arrival to final
 * answer); more get 503 at once, before any other work. Per-call state lives only in `calls`
 * (answered or bridging calls), whose size is bounded by admission plus `maxInProgress`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { systemClock, type Clock } from '../clock.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';
import { causeToSipStatus, parseReasonHeader, reasonHeader, sipStatusToCause } from './causes.js';
import { digestUriMatches, parseCredentials, parseNc, verifyCredentials } from './digest.js';
import type { SipErrorCode } from './error-codes.js';
import { sipFailure, type SipDialog, type SipRequest, type SipResponse, type SrfApi } from './srf.js';
import {
  compileTrunks, makeNonce, matchRoute, nonceIssuedMs, NonceUseTable, trunkForSource, uriUser, uriWithUser,
  type InboundTrunk, type RouteConfig, type TrunkConfig,
} from './inbound-policy.js';

/** What the admission callback is asked. */
export interface AdmitRequest {
  callId: string;
  trunk: string;
  bot: string;
  from: string;
  to: string;
  /** The route's `record`, when it has one. */
  record?: boolean;
  /** Which routes[] entry matched (its index). */
  route: number;
}
/** The admission decision. */
export type AdmitResult = { ok: true } | { ok: false; reason: 'capacity' | 'draining' | 'tenant-limit' };

/** Options of {@link InboundCalls}. */
export interface InboundCallsOptions {
  /** A connected drachtio-srf instance (DrachtioLink.srf). */
  srf: SrfApi;
  trunks: readonly TrunkConfig[];
  routes: readonly RouteConfig[];
  /** FreeSWITCH's SIP profile, e.g. `sip:127.0.0.1:5080` (DrachtioConfig.sipProfileUri). */
  sipProfileUri: string;
  admit: (req: AdmitRequest) => AdmitResult | Promise<AdmitResult>;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** INVITEs worked on at once before 503 (default 200). */
  maxInProgress?: number;
  /** Retry-After seconds on 503 (default 5). */
  retryAfterSec?: number;
  /** Digest realm of challenges (default 'fsbridge'). */
  digestRealm?: string;
  /**
   * Lifetime of a digest nonce (default 60000 ms). Within it a nonce may be used again only with a
   * growing nonce count; a repeated one is a replay (SIP_AUTH_REPLAY).
   */
  nonceTtlMs?: number;
  /** Call id generator (default randomUUID). */
  newCallId?: () => string;
  /**
   * Offered every INVITE first: returns true when it took it (FreeSWITCH's leg of an outbound
   * dial, see OutboundDialer.claim); such an INVITE is no inbound call.
   */
  claim?: (req: SipRequest, res: SipResponse) => boolean;
  /**
   * Time FreeSWITCH has to answer the bridged INVITE (default 30000 ms); then its leg is
   * cancelled and the caller gets 503 + Retry-After (CallsConfig.answerTimeoutMs fits here).
   */
  answerTimeoutMs?: number;
}

/** Who ended a call. */
export type EndedBy = 'caller' | 'freeswitch' | 'fsbridge';

/** A call fsbridge took (admitted). */
export interface InboundCallInfo {
  callId: string;
  trunk: string;
  bot: string;
  from: string;
  to: string;
  /** The operator's Call-ID. */
  sipCallId: string;
}

/** Payload of `ended`. */
export interface InboundEnded {
  callId: string;
  by: EndedBy;
  /** The final status when the call failed before answer (e.g. 487, 486). */
  sipStatus?: number;
  /** Q.850 cause name (causes.ts). */
  cause: string;
}

/** Payload of `rejected`: an INVITE refused before admission (no callId was given out). */
export interface InboundRejected {
  code: SipErrorCode;
  sipStatus: number;
  source: string;
  to?: string;
}

/** Events of {@link InboundCalls}. */
export type InboundCallsEvents = {
  /** Admitted; the B leg toward FreeSWITCH is being set up. */
  admitted: [InboundCallInfo];
  /** Both legs answered. */
  answered: [InboundCallInfo];
  /** An admitted call ended (before or after answer). Emitted once per admitted call. */
  ended: [InboundEnded];
  rejected: [InboundRejected];
};

/** The outcome of the digest check of an INVITE from an address in no allow list. */
type DigestCheck =
  | { kind: 'ok'; trunk: TrunkConfig }
  /** No credentials, or a nonce fsbridge did not issue or that expired. */
  | { kind: 'challenge' }
  /** Wrong credentials, or none of the digest trunks. */
  | { kind: 'forbidden' }
  /** Right credentials for another Request-URI (RFC 2617 §3.2.2.5). */
  | { kind: 'uri-mismatch'; trunk: TrunkConfig }
  /** Right credentials whose nonce count did not grow: sent before. */
  | { kind: 'replay'; trunk: TrunkConfig };

interface LiveCall {
  info: InboundCallInfo;
  uas?: SipDialog;
  uac?: SipDialog;
  ended: boolean;
  /** Set by hangup() before answer: the cause; the FreeSWITCH leg is being cancelled. */
  hungUp?: string;
  /** The pending INVITE toward FreeSWITCH (before answer). */
  cancelB?: () => void;
  /** Settles the B2BUA in progress at once (drachtio-server lost). */
  abandon?: (cause: string) => void;
}

/**
 * Handles srf.invite. start() installs the handler; close() stops taking calls (new INVITEs get
 * 503) and leaves answered calls alone; `hangup()` ends one.
 */
export class InboundCalls extends TypedEmitter<InboundCallsEvents> {
  private readonly o: InboundCallsOptions;
  private readonly clock: Clock;
  private readonly trunks: InboundTrunk[];
  private readonly nonceKey = randomBytes(32);
  private readonly nonceUses: NonceUseTable;
  private readonly calls = new Map<string, LiveCall>();
  private inProgress = 0;
  private closed = false;
  private started = false;

  constructor(opts: InboundCallsOptions) {
    super(reportListenerErrors({ logger: opts.logger, metrics: opts.metrics, code: 'SIP_LISTENER_THREW' }));
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.trunks = compileTrunks(opts.trunks);
    this.nonceUses = new NonceUseTable(opts.nonceTtlMs ?? 60_000);
  }

  /** INVITEs being worked on now (arrival → final answer). */
  get pendingInvites(): number { return this.inProgress; }
  /** Calls admitted and not yet ended. */
  get activeCalls(): number { return this.calls.size; }

  /** Registers the INVITE handler on srf. Logs allow-list entries that are not addresses. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const t of this.trunks) {
      if (t.allow.bad.length) this.o.logger.warn({ trunk: t.trunk.name, entries: t.allow.bad }, 'inbound.allow entries skipped');
    }
    this.o.srf.invite((req, res) => {
      this.onInvite(req, res).catch((err: unknown) => {
        this.o.logger.error({ err: (err as Error)?.message }, 'inbound INVITE handler failed');
      });
    });
  }

  /**
   * Ends a call: after answer with BYE on both legs (Reason: Q.850 `causeName`); before answer
   * by cancelling the FreeSWITCH leg and answering the caller with the cause's SIP status
   * (causes.ts). False when the call is unknown or already ended.
   */
  hangup(callId: string, causeName = 'NORMAL_CLEARING'): boolean {
    const c = this.calls.get(callId);
    if (!c || c.ended || c.hungUp) return false;
    if (!c.uas || !c.uac) {
      c.hungUp = causeName;
      c.cancelB?.();
      return true;
    }
    const headers = { Reason: reasonHeader(causeName) };
    this.finish(c, { callId, by: 'fsbridge', cause: causeName });
    c.uas.destroy({ headers }).catch(() => {});
    c.uac.destroy({ headers }).catch(() => {});
    return true;
  }

  /**
   * drachtio-server is gone: its dialogs and transactions went with it (no BYE or final answer
   * will ever get out), and drachtio-srf drops pending requests without settling them. Every
   * call, answered or being set up, ends at once (`ended` by fsbridge, released from the
   * in-progress count). Returns how many calls were ended.
   */
  dropAll(causeName = 'NORMAL_TEMPORARY_FAILURE'): number {
    const all = [...this.calls.values()];
    for (const c of all) {
      if (c.uas && c.uac) this.finish(c, { callId: c.info.callId, by: 'fsbridge', cause: causeName });
      else c.abandon?.(causeName);
    }
    return all.length;
  }

  /** Stops taking new calls (they get 503). Does not end answered calls. Idempotent. */
  close(): void { this.closed = true; }

  private counter(result: string): void {
    this.o.metrics.counter('fsbridge_sip_inbound_invites_total', 'Inbound INVITEs by outcome.').inc({ result });
  }

  private reject(res: SipResponse, status: number, code: SipErrorCode, source: string, to: string | undefined, headers: Record<string, string> = {}, quiet = false): void {
    this.o.metrics.error(code);
    this.counter(code);
    // a flood must not turn into a log flood: those rejections are counted, logged at debug
    if (quiet) this.o.logger.debug({ code, status, source }, 'inbound INVITE rejected');
    else this.o.logger.info({ code, status, source, to }, 'inbound INVITE rejected');
    try { res.send(status, { headers }); } catch { /* the transaction is gone */ }
    this.safeEmit('rejected', { code, sipStatus: status, source, to });
  }

  private async onInvite(req: SipRequest, res: SipResponse): Promise<void> {
    if (this.o.claim?.(req, res)) return;
    const source: string = req.source_address ?? '';
    const maxInProgress = this.o.maxInProgress ?? 200;
    const retryAfter = String(this.o.retryAfterSec ?? 5);
    if (this.closed || this.inProgress >= maxInProgress) {
      this.reject(res, 503, 'SIP_INBOUND_OVER_CAPACITY', source, undefined, { 'Retry-After': retryAfter }, true);
      return;
    }
    this.inProgress++;
    let released = false;
    const release = (): void => { if (!released) { released = true; this.inProgress--; } };
    try {
      await this.handle(req, res, source, retryAfter, release);
    } finally {
      release();
    }
  }

  private async handle(req: SipRequest, res: SipResponse, source: string, retryAfter: string, release: () => void): Promise<void> {
    const to = uriUser(req.uri) ?? uriUser(req.get('To'));
    // (a) source check
    let trunk = trunkForSource(this.trunks, source);
    if (!trunk) {
      const auth = this.checkDigest(req);
      if (auth.kind === 'challenge') {
        this.counter('challenged');
        try { res.send(401, { headers: { 'WWW-Authenticate': this.challenge(false) } }); } catch { /* gone */ }
        return;
      }
      if (auth.kind === 'forbidden') { this.reject(res, 403, 'SIP_INBOUND_FORBIDDEN', source, to); return; }
      if (auth.kind === 'uri-mismatch') { this.refuseDigest(res, 403, 'SIP_AUTH_URI_MISMATCH', auth.trunk, source, to); return; }
      // A replay is challenged again rather than refused: the genuine client (same credentials,
      // e.g. reusing a cached header) answers the fresh nonce at once (stale=true, RFC 7616 §3.3).
      if (auth.kind === 'replay') {
        this.refuseDigest(res, 401, 'SIP_AUTH_REPLAY', auth.trunk, source, to, { 'WWW-Authenticate': this.challenge(true) });
        return;
      }
      trunk = auth.trunk;
    }
    // (b) routing
    const route = to === undefined ? undefined : matchRoute(this.o.routes, to, trunk.name);
    if (!route || to === undefined) { this.reject(res, 404, 'SIP_INBOUND_NO_ROUTE', source, to); return; }
    // (c) admission
    const callId = (this.o.newCallId ?? randomUUID)();
    const from = uriUser(req.get('From')) ?? '';
    const info: InboundCallInfo = { callId, trunk: trunk.name, bot: route.bot, from, to, sipCallId: String(req.get('Call-ID') ?? '') };
    let cancelled = false;
    req.on('cancel', () => { cancelled = true; });
    let verdict: AdmitResult;
    // an await: a cluster's shared limits are asked in the store
    try { verdict = await this.o.admit({ callId, trunk: trunk.name, bot: route.bot, from, to, record: route.record, route: this.o.routes.indexOf(route) }); } catch { verdict = { ok: false, reason: 'capacity' }; }
    if (!verdict.ok) {
      // a tenant at its limit is busy (486); fsbridge itself full or stopping is 503 with Retry-After
      if (verdict.reason === 'tenant-limit') this.reject(res, 486, 'SIP_INBOUND_TENANT_LIMIT', source, to);
      else this.reject(res, 503, 'SIP_INBOUND_OVER_CAPACITY', source, to, { 'Retry-After': retryAfter });
      return;
    }
    // (d) the B leg toward FreeSWITCH
    const call: LiveCall = { info, ended: false };
    this.calls.set(callId, call);
    this.counter('admitted');
    this.safeEmit('admitted', info);
    if (cancelled) {
      // the caller gave up while the call was being admitted (srf answered its CANCEL and the INVITE)
      this.counter('cancelled');
      this.finish(call, { callId, by: 'caller', sipStatus: 487, cause: 'ORIGINATOR_CANCEL' });
      return;
    }
    let timedOut = false;
    let uacReq: SipRequest | undefined;
    const cancelTimer = this.clock.setTimeout(() => {
      timedOut = true;
      try { uacReq?.cancel(); } catch { /* already final */ }
    }, this.o.answerTimeoutMs ?? 30_000);
    call.cancelB = () => { try { uacReq?.cancel(); } catch { /* already final */ } };
    let abandoned: string | null = null;
    const lost = new Promise<never>((_r, rej) => {
      call.abandon = (cause) => { abandoned = cause; rej(new Error('drachtio-server lost')); };
    });
    lost.catch(() => {});
    let legs: { uas: SipDialog; uac: SipDialog };
    try {
      legs = await Promise.race([lost, this.o.srf.createB2BUA(req, res, uriWithUser(this.o.sipProfileUri, to), {
        headers: { 'X-Fsbridge-Call': callId },
        // failures are answered here, so that a timeout is not passed on as FreeSWITCH's 487
        passFailure: false,
      }, {
        cbRequest: (_e, r) => { uacReq = r; if (timedOut || call.hungUp) { try { r.cancel(); } catch { /* final */ } } },
      })]);
    } catch (err: unknown) {
      cancelTimer();
      release();
      call.abandon = undefined;
      if (abandoned) {
        this.finish(call, { callId, by: 'fsbridge', cause: abandoned });
        return;
      }
      const failure = sipFailure(err);
      const status = failure.status ?? 500;
      if (cancelled) {
        // srf answered the caller's CANCEL with 200 and the INVITE with 487 already.
        this.counter('cancelled');
        this.finish(call, { callId, by: 'caller', sipStatus: 487, cause: 'ORIGINATOR_CANCEL' });
        return;
      }
      if (call.hungUp) {
        const cause = call.hungUp;
        if (!res.finalResponseSent) { try { res.send(causeToSipStatus(cause), { headers: { Reason: reasonHeader(cause) } }); } catch { /* gone */ } }
        this.finish(call, { callId, by: 'fsbridge', sipStatus: causeToSipStatus(cause), cause });
        return;
      }
      this.o.metrics.error('SIP_INBOUND_FAILED');
      this.counter('SIP_INBOUND_FAILED');
      this.o.logger.warn({ code: 'SIP_INBOUND_FAILED', callId, status, timedOut }, 'FreeSWITCH leg failed');
      if (timedOut) {
        if (!res.finalResponseSent) { try { res.send(503, { headers: { 'Retry-After': retryAfter } }); } catch { /* gone */ } }
        this.finish(call, { callId, by: 'fsbridge', sipStatus: 503, cause: 'RECOVERY_ON_TIMER_EXPIRE' });
        return;
      }
      if (!res.finalResponseSent) { try { res.send(status, failure.reason); } catch { /* gone */ } }
      this.finish(call, { callId, by: 'freeswitch', sipStatus: status, cause: sipStatusToCause(status).name });
      return;
    }
    cancelTimer();
    release();
    call.abandon = undefined;
    call.uas = legs.uas;
    call.uac = legs.uac;
    call.cancelB = undefined;
    if (call.hungUp) { // hangup() raced the answer: end both legs at once
      const headers = { Reason: reasonHeader(call.hungUp) };
      this.finish(call, { callId, by: 'fsbridge', cause: call.hungUp });
      legs.uas.destroy({ headers }).catch(() => {});
      legs.uac.destroy({ headers }).catch(() => {});
      return;
    }
    this.counter('answered');
    this.safeEmit('answered', info);
    const causeOf = (bye: SipRequest | undefined): string => {
      const r = bye?.get('Reason');
      return (typeof r === 'string' && parseReasonHeader(r)?.name) || 'NORMAL_CLEARING';
    };
    legs.uas.on('destroy', (bye) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, { callId, by: 'caller', cause });
      legs.uac.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
    legs.uac.on('destroy', (bye) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, { callId, by: 'freeswitch', cause });
      legs.uas.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
  }

  private finish(call: LiveCall, ev: InboundEnded): void {
    if (call.ended) return;
    call.ended = true;
    this.calls.delete(call.info.callId);
    this.o.logger.info({ callId: ev.callId, by: ev.by, cause: ev.cause, sipStatus: ev.sipStatus }, 'inbound call ended');
    this.safeEmit('ended', ev);
  }

  /** A WWW-Authenticate value with a fresh nonce. */
  private challenge(stale: boolean): string {
    const nonce = makeNonce(this.nonceKey, this.clock.wallMs());
    const realm = this.o.digestRealm ?? 'fsbridge';
    return `Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=MD5${stale ? ', stale=true' : ''}`;
  }

  /** Answers a digest failure of a known trunk: counted, one log line (no numbers: personal data). */
  private refuseDigest(res: SipResponse, status: number, code: SipErrorCode, trunk: TrunkConfig, source: string, to: string | undefined, headers: Record<string, string> = {}): void {
    this.o.metrics.error(code);
    this.counter(code);
    this.o.logger.warn({ code, status, source, trunk: trunk.name }, 'inbound INVITE digest refused');
    try { res.send(status, { headers }); } catch { /* the transaction is gone */ }
    this.safeEmit('rejected', { code, sipStatus: status, source, to });
  }

  /**
   * Checks the digest credentials of an INVITE against the trunks with `inbound.digest`: the
   * nonce (issued by fsbridge, fresh), realm, response, then that the digest-uri is the
   * Request-URI and that the nonce count grew. Only a request that passes all of them is
   * recorded in the nonce table.
   */
  private checkDigest(req: SipRequest): DigestCheck {
    const digestTrunks = this.trunks.filter((t) => t.trunk.inbound.digest && t.trunk.username && t.trunk.password);
    if (digestTrunks.length === 0) return { kind: 'forbidden' };
    const header = req.get('Authorization');
    if (typeof header !== 'string' || header === '') return { kind: 'challenge' };
    const cred = parseCredentials(header);
    if (!cred) return { kind: 'forbidden' };
    const nowMs = this.clock.wallMs();
    const issuedMs = nonceIssuedMs(this.nonceKey, cred.nonce, nowMs, this.o.nonceTtlMs ?? 60_000);
    if (issuedMs === undefined) return { kind: 'challenge' };
    const realm = this.o.digestRealm ?? 'fsbridge';
    if (cred.realm !== realm) return { kind: 'forbidden' };
    const nc = parseNc(cred.nc);
    if (cred.qop !== undefined && nc === undefined) return { kind: 'forbidden' };
    const trunk = digestTrunks.find(({ trunk: tr }) => tr.username === cred.username
      && verifyCredentials(cred, 'INVITE', { username: tr.username, password: tr.password! }) === 'ok')?.trunk;
    if (!trunk) return { kind: 'forbidden' };
    if (!digestUriMatches(cred.uri, String(req.uri ?? ''))) return { kind: 'uri-mismatch', trunk };
    if (this.nonceUses.use(cred.nonce, issuedMs, cred.qop === undefined ? undefined : nc, nowMs) === 'replay') return { kind: 'replay', trunk };
    return { kind: 'ok', trunk };
  }
}
