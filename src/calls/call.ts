import type { Logger } from '../observability/logger.js';
import type { Clock } from '../clock.js';
import { TypedEmitter } from '../typed-emitter.js';
import { canTransition, isLive, type CallState } from './call-state.js';
import { causeFromName, type HangupCause } from './hangup-causes.js';
import type { CallIdentity, CallRecord, EndedBy } from './call-record.js';
import type { AmdRequest } from '../analysis/amd-request.js';

export interface CallInit extends CallIdentity {
  /** Parameters for the bot (`fsbridge_param_*`, or given by the API). */
  params: Record<string, string>;
  /** Whether to record the call, when its route or request says (else its bot's `record`). */
  record?: boolean;
  /** A trunk call: the routes[] entry (index) that routed it. */
  route?: number;
  /** A campaign call: played to the callee, then the call ends, when the bot cannot be reached. */
  offlinePrompt?: string;
  /** Answering-machine detection once answered (an outbound call asked for it). */
  amd?: AmdRequest;
}

/** What admits a call: its tenant is filled in from its bot when not given. */
export type CallOffer = Omit<CallInit, 'callId' | 'tenant'> & { callId?: string; tenant?: string };

/** A live call as the HTTP API shows it. */
export interface CallView {
  [k: string]: unknown;
  callId: string; fsUuid: string; state: CallState; direction: string; bot: string | null; from: string; to: string; tenant: string; offeredAt: string;
}

/** What the call record says beyond state and cause. */
export interface CallAnnotation { sipStatus?: number; result?: string; transferTarget?: string; answeredBy?: string }

type CallEvents = {
  state: [CallState, CallState];
  ended: [CallRecord];
};

/**
 * One call: its identity, its state and how it ended. Holds no sockets; the code that drives the
 * call (call-supervisor.ts) reports what happened. `ended` fires exactly once with the record.
 */
export class Call extends TypedEmitter<CallEvents> {
  state: CallState = 'offered';
  readonly offeredAtMs: number;
  answeredAtMs: number | null = null;
  connectedAtMs: number | null = null;
  private endedBy: EndedBy | null = null;
  private requestedCause: HangupCause | null = null;
  private errorCode: string | undefined;
  private extra: CallAnnotation = {};
  private record: CallRecord | null = null;
  private ender: ((endedBy: EndedBy, causeName: string, errorCode?: string) => Promise<void>) | null = null;

  /** Bound to the call id, and to FreeSWITCH's uuid once known. */
  logger: Logger;

  constructor(readonly init: CallInit, private readonly clock: Clock, logger: Logger) {
    super();
    this.logger = logger;
    this.offeredAtMs = clock.wallMs();
  }

  get callId(): string { return this.init.callId; }
  get fsUuid(): string { return this.init.fsUuid; }
  get live(): boolean { return isLive(this.state); }

  /** Moves to `to` if legal; returns false (and changes nothing) otherwise. */
  transition(to: CallState): boolean {
    const from = this.state;
    if (!canTransition(from, to)) return false;
    this.state = to;
    if (to === 'answered') this.answeredAtMs = this.clock.wallMs();
    if (to === 'connected') this.connectedAtMs = this.clock.wallMs();
    this.logger.info({ from, to }, 'call state');
    this.safeEmit('state', from, to);
    return true;
  }

  /**
   * Records who started the hang-up and why, and moves to `ending`. The first caller wins: a
   * later request (e.g. the caller hanging up while the bot's close is handled) changes nothing.
   * Returns whether this request was the first.
   */
  beginEnding(endedBy: EndedBy, causeName: string, errorCode?: string): boolean {
    if (this.endedBy !== null || !this.live) return false;
    this.endedBy = endedBy;
    this.requestedCause = causeFromName(causeName);
    this.errorCode = errorCode;
    this.transition('ending');
    return true;
  }

  /**
   * FreeSWITCH reports the channel gone. If nobody had started the hang-up, the far end did. The
   * record takes fsbridge's requested cause when fsbridge (or the bot, or the API) ended the call,
   * else FreeSWITCH's. Idempotent: returns the same record on every call.
   */
  finish(fsCause: HangupCause): CallRecord {
    if (this.record) return this.record;
    const endedBy: EndedBy = this.endedBy ?? (this.init.direction === 'inbound' ? 'caller' : 'callee');
    const c = this.requestedCause ?? fsCause;
    const endMs = this.clock.wallMs();
    this.transition('ended');
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    this.record = {
      callId: this.init.callId,
      fsUuid: this.init.fsUuid,
      direction: this.init.direction,
      bot: this.init.bot,
      from: this.init.from,
      to: this.init.to,
      tenant: this.init.tenant,
      offeredAt: new Date(this.offeredAtMs).toISOString(),
      answeredAt: iso(this.answeredAtMs),
      connectedAt: iso(this.connectedAtMs),
      endedAt: new Date(endMs).toISOString(),
      durationMs: endMs - this.offeredAtMs,
      billableMs: this.answeredAtMs === null ? 0 : endMs - this.answeredAtMs,
      cause: c.name,
      causeCode: c.code,
      endedBy,
      ...(this.errorCode ? { errorCode: this.errorCode } : {}),
      ...this.extra,
    };
    this.logger.info({ cause: c.name, causeCode: c.code, endedBy }, 'call ended');
    this.safeEmit('ended', this.record);
    return this.record;
  }

  /**
   * FreeSWITCH's channel for this call is known (a SIP call gets it after it was offered):
   * its uuid, and parameters from its channel variables (those given by the API or route win).
   */
  attachChannel(fsUuid: string, channelParams: Record<string, string> = {}): void {
    if (!this.init.fsUuid) this.logger = this.logger.child({ fsUuid });
    this.init.fsUuid = fsUuid;
    this.init.params = { ...channelParams, ...this.init.params };
  }

  /** Adds the SIP outcome (status, dial result) or a transfer to the call record. */
  annotate(extra: CallAnnotation): void {
    this.extra = { ...this.extra, ...extra };
  }

  /** Set by the code that drives the call (it knows how to hang the channel up). */
  bindEnder(fn: (endedBy: EndedBy, causeName: string, errorCode?: string) => Promise<void>): void {
    this.ender = fn;
  }

  /**
   * Ends the call from outside (HTTP API, shutdown, bot). Resolves true once the hang-up was
   * requested, false when the call is not live or nothing drives it. Safe to call twice.
   */
  async end(endedBy: EndedBy, causeName = 'NORMAL_CLEARING', errorCode?: string): Promise<boolean> {
    if (!this.ender || !this.live) return false;
    await this.ender(endedBy, causeName, errorCode);
    return true;
  }

  /** A summary for the HTTP API. */
  toJSON(): CallView {
    return {
      callId: this.callId, fsUuid: this.fsUuid, state: this.state, direction: this.init.direction,
      bot: this.init.bot, from: this.init.from, to: this.init.to, tenant: this.init.tenant,
      offeredAt: new Date(this.offeredAtMs).toISOString(),
    };
  }
}
