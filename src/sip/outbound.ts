/**
 * Outbound calls: FreeSWITCH places the call, drachtio-server carries it to the trunk.
 *
 *  1. fsbridge asks FreeSWITCH (through an injected {@link FreeswitchDialer}: `originate
 *     sofia/fsbridge/sip:<number>@<drachtio-server> &socket(...)`) to call out through its
 *     `fsbridge` profile, with `X-Fsbridge-Call: <callId>`. FreeSWITCH makes an ordinary SDP
 *     offer (plain RTP; an SDP-less 3PCC INVITE would need `enable-3pcc` and makes FreeSWITCH
 *     1.10.12 offer SRTP only, which plain-RTP carriers reject).
 *  2. drachtio-server hands that INVITE to fsbridge ({@link OutboundDialer.claim}), which sends it
 *     on to the trunk as a B2BUA (`sip:<number>@<trunk registrar>`, 401/407 answered with the
 *     trunk's credentials); 18x go back to FreeSWITCH and are reported as `progress`; the
 *     trunk's answer (or failure) goes back to FreeSWITCH.
 *  3. Ringing is an ordinary INVITE transaction, bounded only by the request's timeoutSec (then
 *     CANCEL → `no-answer`), so a callee may ring for minutes. Once answered, FreeSWITCH runs
 *     `socket` and the call reaches fsbridge like any other; a BYE on either leg ends the other.
 *
 * Per trunk, {@link TrunkLimiter} enforces maxConcurrent, callsPerSecond and queueMax (a full
 * queue fails the dial at once, nothing is sent). A lost drachtio link ends every dial in
 * progress and every answered call at once ({@link OutboundDialer.dropAll}).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { systemClock, type Clock } from '../clock.js';
import { TypedEmitter, reportListenerErrors } from '../typed-emitter.js';
import { parseReasonHeader, reasonHeader, sipStatusToCause } from './causes.js';
import type { SipErrorCode } from './error-codes.js';
import { sipFailure, type SipDialog, type SipRequest, type SipResponse, type SrfApi } from './srf.js';
import { uriWithUser, type TrunkConfig } from './inbound-policy.js';
import { TrunkLimiter, type Release } from './trunk-limiter.js';

/** One outbound dial. */
export interface DialRequest {
  /** fsbridge's call id; FreeSWITCH sends it back as X-Fsbridge-Call and `fsbridge_call_id`. */
  callId: string;
  /** The number to call (request-URI user toward the trunk). */
  to: string;
  /** Caller id user; default the trunk's outbound.from, else 'fsbridge'. */
  from?: string;
  /** Trunk name (TrunkConfig.name). */
  trunk: string;
  /** Ring time before CANCEL (→ 'no-answer'). */
  timeoutSec: number;
  /** Extra headers on the INVITE to the trunk. */
  headers?: Record<string, string>;
}

/** What FreeSWITCH is asked to dial (see {@link FreeswitchDialer}). */
export interface FreeswitchLegRequest {
  callId: string;
  /** The uuid FreeSWITCH gives the channel (origination_uuid). */
  fsUuid: string;
  /** Where FreeSWITCH sends its INVITE: `sip:<number>@<drachtio-server SIP address>`. */
  uri: string;
  /** Caller id number. */
  from: string;
  /** FreeSWITCH's own give-up time (a little longer than the ring time fsbridge enforces). */
  timeoutSec: number;
}

/** How the dialer makes FreeSWITCH place the call (ESL originate, wired by the daemon). */
export interface FreeswitchDialer {
  /**
   * Starts the FreeSWITCH leg. Resolves once FreeSWITCH is done with the originate: ok:true when
   * the call was answered, ok:false with FreeSWITCH's cause otherwise (e.g. the profile is down).
   * Never rejects.
   */
  originate(r: FreeswitchLegRequest): Promise<{ ok: true } | { ok: false; cause: string }>;
  /** Hangs the FreeSWITCH leg up if it exists (best effort). */
  kill(fsUuid: string, cause: string): void;
}

/** A dial that was answered: both dialogs. */
export interface DialAnswered {
  result: 'answered';
  callId: string;
  /** FreeSWITCH's channel uuid. */
  fsUuid: string;
}

/** A dial that failed. */
export interface DialFailed {
  result: 'busy' | 'no-answer' | 'rejected' | 'failed';
  callId: string;
  sipStatus?: number;
  /** Q.850 cause name. */
  cause: string;
  /** Set when fsbridge itself failed the dial. */
  code?: SipErrorCode;
}

/** The outcome of {@link OutboundDialer.dial}. */
export type DialResult = DialAnswered | DialFailed;

/** Events of {@link OutboundDialer}. */
export type OutboundDialerEvents = {
  /** A provisional response (180/183) from the trunk. */
  progress: [{ callId: string; sipStatus: number; earlyMedia: boolean }];
  /** An answered call ended. */
  ended: [{ callId: string; by: 'callee' | 'freeswitch' | 'fsbridge'; cause: string }];
};

/** Options of {@link OutboundDialer}. */
export interface OutboundDialerOptions {
  srf: SrfApi;
  trunks: readonly TrunkConfig[];
  freeswitch: FreeswitchDialer;
  /** drachtio-server's SIP address as FreeSWITCH reaches it (`host:port`), once known. */
  drachtioSipAddress: () => string | undefined;
  /** Host FreeSWITCH's INVITEs come from (the fsbridge profile's address); others are not claimed. */
  freeswitchHost: string;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** Time FreeSWITCH has to send its INVITE after the originate (default 10000 ms). */
  freeswitchInviteTimeoutMs?: number;
}

/** FreeSWITCH's INVITE, or why it will not come. */
type FsInvite = { req: SipRequest; res: SipResponse } | { failed: string; code?: SipErrorCode };

interface Pending {
  fsUuid: string;
  settle: (v: FsInvite) => void;
}

interface Answered { callId: string; fsUuid: string; uas: SipDialog; uac: SipDialog; release: Release; ended: boolean }

/** Classifies a trunk's final failure status (RFC 3398 causes via causes.ts). */
export function classifyFailure(status: number): DialFailed['result'] {
  if (status === 486 || status === 600) return 'busy';
  if (status === 480 || status === 408 || status === 487) return 'no-answer';
  if (status === 403 || status === 404 || status === 603 || status === 604) return 'rejected';
  return 'failed';
}

/** Numbers and caller ids reach a FreeSWITCH dial string: no separators, quotes or spaces. */
const DIALABLE = /^\+?[0-9A-Za-z*#._-]{1,64}$/;

/** Dials out through trunks. dial() never throws; it resolves with a {@link DialResult}. */
export class OutboundDialer extends TypedEmitter<OutboundDialerEvents> {
  private readonly o: OutboundDialerOptions;
  private readonly clock: Clock;
  private readonly limiters = new Map<string, TrunkLimiter>();
  /** Dials waiting for FreeSWITCH's INVITE, by call id. */
  private readonly pending = new Map<string, Pending>();
  /** Dials whose B2BUA is in progress: how to abandon each. */
  private readonly ringing = new Map<string, (cause: string, code: SipErrorCode) => void>();
  private readonly calls = new Map<string, Answered>();
  private closed = false;

  constructor(opts: OutboundDialerOptions) {
    super(reportListenerErrors({ logger: opts.logger, metrics: opts.metrics, code: 'SIP_LISTENER_THREW' }));
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** Answered calls not yet ended. */
  get activeCalls(): number { return this.calls.size; }
  /** Dials not yet answered or failed (waiting for FreeSWITCH or ringing). */
  get dialsInProgress(): number { return this.pending.size + this.ringing.size; }

  /** Per-trunk slot use: {inUse, waiting}. */
  trunkLoad(trunk: string): { inUse: number; waiting: number } {
    const l = this.limiters.get(trunk);
    return { inUse: l?.inUse ?? 0, waiting: l?.waiting ?? 0 };
  }

  /**
   * An INVITE that drachtio-server received: taken (true) when it is FreeSWITCH's leg of a dial
   * in progress (X-Fsbridge-Call names a pending dial and it comes from FreeSWITCH's host).
   */
  claim(req: SipRequest, res: SipResponse): boolean {
    const id = req.get('X-Fsbridge-Call');
    if (typeof id !== 'string') return false;
    const p = this.pending.get(id);
    if (!p || req.source_address !== this.o.freeswitchHost) return false;
    this.pending.delete(id);
    p.settle({ req, res });
    return true;
  }

  /**
   * Ends a call: an answered one with BYE on both legs (Reason: Q.850); a dial in progress is
   * cancelled (FreeSWITCH's leg killed, the trunk's INVITE cancelled) and resolves `failed` with
   * SIP_DIAL_CANCELLED. False when unknown.
   */
  hangup(callId: string, causeName = 'NORMAL_CLEARING'): boolean {
    const p = this.pending.get(callId);
    if (p) { this.pending.delete(callId); p.settle({ failed: causeName, code: 'SIP_DIAL_CANCELLED' }); return true; }
    const ringing = this.ringing.get(callId);
    if (ringing) { ringing(causeName, 'SIP_DIAL_CANCELLED'); return true; }
    const c = this.calls.get(callId);
    if (!c || c.ended) return false;
    const headers = { Reason: reasonHeader(causeName) };
    this.finish(c, 'fsbridge', causeName);
    c.uac.destroy({ headers }).catch(() => {});
    c.uas.destroy({ headers }).catch(() => {});
    return true;
  }

  /**
   * The link to drachtio-server is gone (lost, or closed at shutdown): its transactions and
   * dialogs went with it, and drachtio-srf drops pending requests without settling them. Every
   * dial in progress fails at once with `code` (default SIP_DRACHTIO_LOST; its FreeSWITCH leg is
   * killed) and every answered call ends (`ended` by fsbridge). Returns how many.
   */
  dropAll(causeName = 'NORMAL_TEMPORARY_FAILURE', code: SipErrorCode = 'SIP_DRACHTIO_LOST'): number {
    let n = 0;
    for (const [id, p] of [...this.pending]) { this.pending.delete(id); p.settle({ failed: causeName, code }); n++; }
    for (const abandon of [...this.ringing.values()]) { abandon(causeName, code); n++; }
    for (const c of [...this.calls.values()]) { this.finish(c, 'fsbridge', causeName); this.o.freeswitch.kill(c.fsUuid, causeName); n++; }
    return n;
  }

  /** Refuses new and queued dials; answered calls are left alone. Idempotent. */
  close(): void {
    this.closed = true;
    for (const l of this.limiters.values()) l.close();
  }

  private fail(callId: string, result: DialFailed['result'], cause: string, extra: { sipStatus?: number; code?: SipErrorCode } = {}): DialFailed {
    const r: DialFailed = { result, callId, cause, ...extra };
    if (extra.code) this.o.metrics.error(extra.code);
    this.o.metrics.counter('fsbridge_sip_outbound_dials_total', 'Outbound dials by result.').inc({ result });
    this.o.logger.info({ callId, result, cause, sipStatus: extra.sipStatus, code: extra.code }, 'outbound dial failed');
    return r;
  }

  /** Places a call. Resolves when it is answered or has failed. */
  async dial(req: DialRequest): Promise<DialResult> {
    const trunk = this.o.trunks.find((t) => t.name === req.trunk);
    if (!trunk || this.closed) return this.fail(req.callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { code: 'SIP_OUTBOUND_FAILED' });
    let limiter = this.limiters.get(trunk.name);
    if (!limiter) { limiter = new TrunkLimiter(trunk.outbound, this.clock); this.limiters.set(trunk.name, limiter); }
    const slot = await limiter.acquire();
    if (slot === 'full' || slot === 'aborted') {
      return this.fail(req.callId, 'failed', 'SWITCH_CONGESTION', { code: 'SIP_OUTBOUND_QUEUE_FULL' });
    }
    let kept = false;
    try {
      const r = await this.place(req, trunk, slot);
      kept = r.result === 'answered';
      return r;
    } catch (err) {
      this.o.logger.error({ callId: req.callId, err: (err as Error)?.message }, 'outbound dial crashed');
      return this.fail(req.callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { code: 'SIP_OUTBOUND_FAILED' });
    } finally {
      if (!kept) slot();
    }
  }

  /** 1. FreeSWITCH's leg: originate, then wait for its INVITE to reach drachtio-server. */
  private async freeswitchInvite(req: DialRequest, from: string, fsUuid: string): Promise<FsInvite> {
    const { callId } = req;
    const drachtio = this.o.drachtioSipAddress();
    if (!drachtio) return { failed: 'NORMAL_TEMPORARY_FAILURE' };
    if (!DIALABLE.test(req.to) || !DIALABLE.test(from)) return { failed: 'INVALID_NUMBER_FORMAT' };
    let cancelTimer = () => {};
    const got = new Promise<FsInvite>((resolve) => {
      let done = false;
      const settle = (v: FsInvite) => { if (!done) { done = true; cancelTimer(); resolve(v); } };
      this.pending.set(callId, { fsUuid, settle });
      cancelTimer = this.clock.setTimeout(() => {
        if (this.pending.get(callId)?.settle === settle) this.pending.delete(callId);
        settle({ failed: 'RECOVERY_ON_TIMER_EXPIRE' });
      }, this.o.freeswitchInviteTimeoutMs ?? 10_000);
      void this.o.freeswitch.originate({
        callId, fsUuid, uri: `sip:${req.to}@${drachtio}`, from, timeoutSec: req.timeoutSec + 15,
      }).then((r) => {
        // FreeSWITCH gave up before its INVITE reached us (profile down, bad URI, ...).
        if (!r.ok && this.pending.get(callId)?.settle === settle) { this.pending.delete(callId); settle({ failed: r.cause }); }
      });
    });
    return got;
  }

  private async place(req: DialRequest, trunk: TrunkConfig, release: Release): Promise<DialResult> {
    const { srf, logger } = this.o;
    const { callId } = req;
    const from = req.from ?? trunk.outbound.from ?? 'fsbridge';
    const fsUuid = randomUUID();
    const fs = await this.freeswitchInvite(req, from, fsUuid);
    if ('failed' in fs) {
      this.o.freeswitch.kill(fsUuid, 'NORMAL_TEMPORARY_FAILURE');
      logger.warn({ callId, cause: fs.failed }, 'FreeSWITCH leg of an outbound call failed');
      return this.fail(callId, 'failed', fs.failed === 'INVALID_NUMBER_FORMAT' ? fs.failed : 'NORMAL_TEMPORARY_FAILURE', { code: fs.code ?? 'SIP_OUTBOUND_FREESWITCH_FAILED' });
    }
    // 2. The trunk leg, as a B2BUA of FreeSWITCH's INVITE.
    let trunkReq: SipRequest | undefined;
    let noAnswer = false;
    let freeswitchCancelled = false;
    let abandoned = null as { cause: string; code: SipErrorCode } | null;
    fs.req.on('cancel', () => { freeswitchCancelled = true; });
    const cancelTrunk = () => { try { trunkReq?.cancel(); } catch { /* already final */ } };
    const cancelRing = this.clock.setTimeout(() => { noAnswer = true; cancelTrunk(); }, req.timeoutSec * 1000);
    // The link lost (dropAll): srf will never settle this B2BUA, so it is settled here.
    let abandon!: (cause: string, code: SipErrorCode) => void;
    const lost = new Promise<never>((_res, rej) => {
      abandon = (cause, code) => { abandoned = { cause, code }; cancelTrunk(); rej(new Error('drachtio-server link gone')); };
    });
    lost.catch(() => {});
    this.ringing.set(callId, abandon);
    const auth = trunk.username && trunk.password ? { username: trunk.username, password: trunk.password } : undefined;
    let legs: { uas: SipDialog; uac: SipDialog };
    try {
      legs = await Promise.race([lost, srf.createB2BUA(fs.req, fs.res, uriWithUser(trunk.registrar, req.to), {
        headers: { ...(req.headers ?? {}), From: `<sip:${from}@localhost>` },
        ...(auth ? { auth } : {}),
      }, {
        cbRequest: (_e, r) => { trunkReq = r; if (noAnswer || abandoned) cancelTrunk(); },
        cbProvisional: (res) => {
          if (res.status > 100) this.safeEmit('progress', { callId, sipStatus: res.status, earlyMedia: Boolean(res.body) });
        },
      })]);
    } catch (err: unknown) {
      cancelRing();
      this.ringing.delete(callId);
      const status = sipFailure(err).status;
      if (abandoned) {
        this.o.freeswitch.kill(fsUuid, abandoned.cause);
        return this.fail(callId, 'failed', abandoned.cause, { code: abandoned.code });
      }
      if (freeswitchCancelled) return this.fail(callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { sipStatus: status, code: 'SIP_OUTBOUND_FREESWITCH_FAILED' });
      if (noAnswer) return this.fail(callId, 'no-answer', 'NO_ANSWER', { sipStatus: status });
      if (status === undefined) {
        this.o.freeswitch.kill(fsUuid, 'NORMAL_TEMPORARY_FAILURE');
        return this.fail(callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { code: 'SIP_OUTBOUND_FAILED' });
      }
      const result = classifyFailure(status);
      return this.fail(callId, result, sipStatusToCause(status).name, { sipStatus: status, ...(result === 'failed' ? { code: 'SIP_OUTBOUND_FAILED' as const } : {}) });
    }
    cancelRing();
    this.ringing.delete(callId);
    const { uas, uac } = legs;
    if (noAnswer || abandoned) { // answered while our CANCEL was on its way
      const headers = { Reason: reasonHeader('NO_ANSWER') };
      uac.destroy({ headers }).catch(() => {});
      uas.destroy({ headers }).catch(() => {});
      return abandoned ? this.fail(callId, 'failed', abandoned.cause, { code: abandoned.code }) : this.fail(callId, 'no-answer', 'NO_ANSWER');
    }
    const call: Answered = { callId, fsUuid, uas, uac, release, ended: false };
    this.calls.set(callId, call);
    const causeOf = (bye: SipRequest | undefined): string => {
      const r = bye?.get('Reason');
      return (typeof r === 'string' && parseReasonHeader(r)?.name) || 'NORMAL_CLEARING';
    };
    uac.on('destroy', (bye) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, 'callee', cause);
      uas.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
    uas.on('destroy', (bye) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, 'freeswitch', cause);
      uac.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
    this.o.metrics.counter('fsbridge_sip_outbound_dials_total', 'Outbound dials by result.').inc({ result: 'answered' });
    logger.info({ callId, trunk: trunk.name }, 'outbound call answered');
    return { result: 'answered', callId, fsUuid };
  }

  private finish(call: Answered, by: 'callee' | 'freeswitch' | 'fsbridge', cause: string): void {
    if (call.ended) return;
    call.ended = true;
    this.calls.delete(call.callId);
    call.release();
    this.o.logger.info({ callId: call.callId, by, cause }, 'outbound call ended');
    this.safeEmit('ended', { callId: call.callId, by, cause });
  }
}
