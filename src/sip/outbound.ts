/**
 * Outbound calls through drachtio, third-party call control (RFC 3725 flow I, protocols.md §4.4):
 *  1. INVITE without SDP to FreeSWITCH's SIP profile with `X-Fsbridge-Call: <callId>`;
 *     FreeSWITCH offers in its 200 OK, which is held un-ACKed (srf createUAC noAck).
 *  2. INVITE to the trunk (`sip:<to>@<registrar host>`) with FreeSWITCH's offer; srf answers a
 *     401/407 with the trunk's credentials; 18x are reported as `progress`.
 *  3. The trunk's answer SDP goes to FreeSWITCH in the ACK.
 * Failures map through causes.ts; the FreeSWITCH leg is then ACKed and BYEd. After answer a
 * BYE on either leg ends the other. Per trunk, {@link TrunkLimiter} enforces maxConcurrent,
 * callsPerSecond and queueMax (a full queue fails the dial at once, nothing is sent).
 */
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { systemClock, type Clock } from '../clock.js';
import { TypedEmitter } from '../typed-emitter.js';
import { parseReasonHeader, reasonHeader, sipStatusToCause } from './causes.js';
import type { SipErrorCode } from './error-codes.js';
import { uriWithUser, type TrunkConfig } from './inbound-policy.js';
import { TrunkLimiter, type Release } from './trunk-limiter.js';

/** One outbound dial. */
export interface DialRequest {
  /** fsbridge's call id; sent to FreeSWITCH as X-Fsbridge-Call. */
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

/** A dial that was answered: both dialogs and a way to end the call. */
export interface DialAnswered {
  result: 'answered';
  callId: string;
  /** srf Dialog toward the trunk. */
  trunkDialog: any;
  /** srf Dialog toward FreeSWITCH. */
  fsDialog: any;
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
  srf: any;
  trunks: readonly TrunkConfig[];
  /** FreeSWITCH's SIP profile URI (DrachtioConfig.sipProfileUri). */
  sipProfileUri: string;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** Time FreeSWITCH has to answer the SDP-less INVITE (default 10000 ms). */
  freeswitchTimeoutMs?: number;
}

interface Answered { callId: string; trunkDialog: any; fsDialog: any; release: Release; ended: boolean }

/** Classifies a trunk's final failure status (RFC 3398 causes via causes.ts). */
export function classifyFailure(status: number): DialFailed['result'] {
  if (status === 486 || status === 600) return 'busy';
  if (status === 480 || status === 408 || status === 487) return 'no-answer';
  if (status === 403 || status === 404 || status === 603 || status === 604) return 'rejected';
  return 'failed';
}

/** Rejects every stream of an SDP (port 0, RFC 3264 §6), to ACK a 200 OK that is being abandoned. */
function rejectAllStreams(sdp: string): string {
  return sdp.replace(/^m=(\S+) \d+/gm, 'm=$1 0');
}

/** Dials out through trunks. dial() never throws; it resolves with a {@link DialResult}. */
export class OutboundDialer extends TypedEmitter<OutboundDialerEvents> {
  private readonly o: OutboundDialerOptions;
  private readonly clock: Clock;
  private readonly limiters = new Map<string, TrunkLimiter>();
  private readonly calls = new Map<string, Answered>();
  private closed = false;

  constructor(opts: OutboundDialerOptions) {
    super();
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** Answered calls not yet ended. */
  get activeCalls(): number { return this.calls.size; }

  /** Per-trunk slot use: {inUse, waiting}. */
  trunkLoad(trunk: string): { inUse: number; waiting: number } {
    const l = this.limiters.get(trunk);
    return { inUse: l?.inUse ?? 0, waiting: l?.waiting ?? 0 };
  }

  /** Ends an answered call with BYE on both legs (Reason: Q.850). False when unknown. */
  hangup(callId: string, causeName = 'NORMAL_CLEARING'): boolean {
    const c = this.calls.get(callId);
    if (!c || c.ended) return false;
    const headers = { Reason: reasonHeader(causeName) };
    this.finish(c, 'fsbridge', causeName);
    c.trunkDialog.destroy({ headers }).catch(() => {});
    c.fsDialog.destroy({ headers }).catch(() => {});
    return true;
  }

  /**
   * Ends every answered call (BYE both legs, records released at once). For shutdown and for a
   * lost drachtio link. Dials still in progress end through their own timers. Returns the count.
   */
  hangupAll(causeName = 'NORMAL_CLEARING'): number {
    const ids = [...this.calls.keys()];
    for (const id of ids) this.hangup(id, causeName);
    return ids.length;
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

  private async place(req: DialRequest, trunk: TrunkConfig, release: Release): Promise<DialResult> {
    const { srf, logger } = this.o;
    const { callId } = req;
    const from = req.from ?? trunk.outbound.from ?? 'fsbridge';
    // 1. FreeSWITCH leg, no SDP: FreeSWITCH offers in the 200 OK.
    let fsReq: any;
    let fsTimedOut = false;
    const cancelFsTimer = this.clock.setTimeout(() => { fsTimedOut = true; try { fsReq?.cancel(); } catch { /* done */ } }, this.o.freeswitchTimeoutMs ?? 10_000);
    let fsLeg: { sdp: string; ack: (sdp: string) => Promise<any>; destroy?: () => Promise<void> };
    try {
      fsLeg = await srf.createUAC(uriWithUser(this.o.sipProfileUri, req.to), {
        noAck: true,
        headers: { 'X-Fsbridge-Call': callId, From: `<sip:${from}@localhost>` },
      }, { cbRequest: (_e: unknown, r: any) => { fsReq = r; } });
    } catch (err: any) {
      cancelFsTimer();
      const status = typeof err?.status === 'number' ? err.status : undefined;
      logger.warn({ callId, status, fsTimedOut }, 'FreeSWITCH leg of an outbound call failed');
      return this.fail(callId, 'failed', status ? sipStatusToCause(status).name : 'NORMAL_TEMPORARY_FAILURE', { sipStatus: status, code: 'SIP_OUTBOUND_FREESWITCH_FAILED' });
    }
    cancelFsTimer();
    const abandonFs = async (): Promise<void> => {
      try {
        if (fsLeg.destroy) { await fsLeg.destroy(); return; }
        const d = await fsLeg.ack(rejectAllStreams(fsLeg.sdp));
        await d.destroy();
      } catch { /* FreeSWITCH leg already gone */ }
    };
    if (!fsLeg?.sdp) {
      await abandonFs();
      return this.fail(callId, 'failed', 'INCOMPATIBLE_DESTINATION', { code: 'SIP_OUTBOUND_FREESWITCH_FAILED' });
    }
    // 2. Trunk leg with FreeSWITCH's offer.
    let trunkReq: any;
    let noAnswer = false;
    const cancelRing = this.clock.setTimeout(() => { noAnswer = true; try { trunkReq?.cancel(); } catch { /* done */ } }, req.timeoutSec * 1000);
    const auth = trunk.username && trunk.password ? { username: trunk.username, password: trunk.password } : undefined;
    let trunkDialog: any;
    try {
      trunkDialog = await srf.createUAC(uriWithUser(trunk.registrar, req.to), {
        localSdp: fsLeg.sdp,
        headers: { ...(req.headers ?? {}), From: `<sip:${from}@localhost>` },
        ...(auth ? { auth } : {}),
      }, {
        cbRequest: (_e: unknown, r: any) => { trunkReq = r; if (noAnswer) { try { r.cancel(); } catch { /* done */ } } },
        cbProvisional: (res: any) => {
          if (res.status > 100) this.safeEmit('progress', { callId, sipStatus: res.status, earlyMedia: Boolean(res.body) });
        },
      });
    } catch (err: any) {
      cancelRing();
      await abandonFs();
      const status: number | undefined = typeof err?.status === 'number' ? err.status : undefined;
      if (noAnswer) return this.fail(callId, 'no-answer', 'NO_ANSWER', { sipStatus: status });
      if (status === undefined) return this.fail(callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { code: 'SIP_OUTBOUND_FAILED' });
      const result = classifyFailure(status);
      return this.fail(callId, result, sipStatusToCause(status).name, { sipStatus: status, ...(result === 'failed' ? { code: 'SIP_OUTBOUND_FAILED' as const } : {}) });
    }
    cancelRing();
    if (noAnswer) { // answered while our CANCEL was on its way
      trunkDialog.destroy().catch(() => {});
      await abandonFs();
      return this.fail(callId, 'no-answer', 'NO_ANSWER');
    }
    // 3. ACK FreeSWITCH with the trunk's answer.
    let fsDialog: any;
    try {
      fsDialog = await fsLeg.ack(trunkDialog.remote.sdp);
    } catch {
      trunkDialog.destroy({ headers: { Reason: reasonHeader('NORMAL_TEMPORARY_FAILURE') } }).catch(() => {});
      await abandonFs();
      return this.fail(callId, 'failed', 'NORMAL_TEMPORARY_FAILURE', { code: 'SIP_OUTBOUND_FREESWITCH_FAILED' });
    }
    const call: Answered = { callId, trunkDialog, fsDialog, release, ended: false };
    this.calls.set(callId, call);
    const causeOf = (bye: any): string => {
      const r = bye?.get?.('Reason');
      return (typeof r === 'string' && parseReasonHeader(r)?.name) || 'NORMAL_CLEARING';
    };
    trunkDialog.on('destroy', (bye: any) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, 'callee', cause);
      fsDialog.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
    fsDialog.on('destroy', (bye: any) => {
      if (call.ended) return;
      const cause = causeOf(bye);
      this.finish(call, 'freeswitch', cause);
      trunkDialog.destroy({ headers: { Reason: reasonHeader(cause) } }).catch(() => {});
    });
    this.o.metrics.counter('fsbridge_sip_outbound_dials_total', 'Outbound dials by result.').inc({ result: 'answered' });
    logger.info({ callId, trunk: trunk.name }, 'outbound call answered');
    return { result: 'answered', callId, trunkDialog, fsDialog };
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
