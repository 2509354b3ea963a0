import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Clock } from '../clock.js';
import type { FsEvent } from '../esl/events.js';
import type { AdmissionRefusal, CallManager } from './call-manager.js';
import type { Call, CallOffer } from './call.js';
import type { BotLeg, BotLegEnd, BotRequest, ChannelPort } from './ports.js';
import type { EndedBy } from './call-record.js';
import { causeFromName, type HangupCause } from './hangup-causes.js';

/** A bot leg the supervisor can route the channel's control-connection events to. */
export interface SupervisedLeg extends BotLeg {
  onFsEvent?(ev: FsEvent): void;
}

export interface SupervisorDeps {
  calls: CallManager;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** Whether a bot of that name is configured. */
  hasBot(name: string): boolean;
  /** Builds the bot side of a call, or null when the media loop is not wired (signalling only). */
  makeBotLeg(call: Call, channel: ChannelPort): SupervisedLeg | null;
  /** Sends BYE (or a final response) to the call's SIP legs; a no-op when it has none left. */
  hangupSip(callId: string, causeName: string): void;
  /** Ends a FreeSWITCH channel fsbridge holds no socket to (`uuid_kill`). */
  killChannel(fsUuid: string, causeName: string): void;
  /** How long an answered outbound call may take to reach the outbound socket. */
  socketWaitMs: number;
  /** The bot asked something of its call (e.g. `dnc`). */
  botRequest?(call: Call, r: BotRequest): void;
}

/** How the far end of an outbound call answered (the SIP dial's outcome). */
export type PeerOutcome =
  | { ok: true; fsUuid: string }
  | { ok: false; endedBy: 'callee' | 'fsbridge'; cause: string; sipStatus?: number; result?: string; errorCode?: string };

/** The SIP side of a call ended (drachtio): by the far end, FreeSWITCH's leg, or fsbridge. */
export interface SipEnd {
  by: 'caller' | 'callee' | 'freeswitch' | 'fsbridge';
  cause: string;
  sipStatus?: number;
  code?: string;
}

/** Channel variables read from the dialplan: every `fsbridge_param_<key>`. */
export function paramsFromChannel(channel: ChannelPort, names: Iterable<string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const n of names) {
    if (n.startsWith('fsbridge_param_')) {
      const v = channel.getVar(n);
      if (v !== undefined) params[n.slice('fsbridge_param_'.length)] = v;
    }
  }
  return params;
}

type Admitted = { ok: true; supervisor: CallSupervisor } | { ok: false; code: AdmissionRefusal };

/**
 * The one owner of one call. It holds every leg of the call — the record (Call), FreeSWITCH's
 * channel (the outbound socket session), the bot leg (audio stream + bot websocket), the SIP legs
 * (through drachtio, by call id) and its timers — starts them, and closes all of them whatever
 * ends first, in this order (docs/lifecycle.md):
 *
 *   1. who ended the call and why is recorded (the first report wins: Call.beginEnding);
 *   2. the bot leg is stopped (`stop` to the bot, close 1000, the stream's token forgotten);
 *   3. FreeSWITCH's channel is hung up (or `uuid_kill`ed when fsbridge holds no socket to it);
 *   4. the SIP legs get BYE (none when the SIP side ended first);
 *   5. timers are cancelled;
 *   6. the record is written when FreeSWITCH reports the channel gone, or at once when the call
 *      never had a channel (a SIP call that ended while it was being set up).
 *
 * After every await the supervisor checks whether the call is still live: the caller, the bot,
 * FreeSWITCH or drachtio-server may have gone meanwhile, and nothing is started for a call that
 * ended. Never throws: faults end this call only.
 */
export class CallSupervisor {
  private channel: ChannelPort | null = null;
  private leg: SupervisedLeg | null = null;
  private readonly timers = new Set<() => void>();
  /** Outbound: the dial's outcome; FreeSWITCH's socket may connect before the dial reports it. */
  private peer: Promise<PeerOutcome> | null = null;
  private settlePeer: ((o: PeerOutcome) => void) | null = null;
  private peerOutcome: PeerOutcome | null = null;
  /** FreeSWITCH's channel uuid once known (outbound: at originate; else when the socket connects). */
  private fsUuid = '';
  private transferring = false;
  private legStopped: Promise<void> | null = null;

  private constructor(readonly call: Call, private readonly deps: SupervisorDeps) {}

  /**
   * Admits a call (capacity, draining) and returns its supervisor, or why not. A SIP call is
   * admitted when it is offered (inbound INVITE, `POST /v1/calls`), before FreeSWITCH has a
   * channel for it; `outbound` calls then wait for the dial's outcome.
   */
  static admit(init: CallOffer, deps: SupervisorDeps): Admitted {
    const adm = deps.calls.admit(init);
    if (!adm.ok) return adm;
    const s = new CallSupervisor(adm.call, deps);
    adm.call.bindEnder((by, cause, code) => s.end(by, cause, code).then(() => {}));
    if (init.fsUuid) s.fsUuid = init.fsUuid;
    if (init.direction === 'outbound') s.peer = new Promise((r) => { s.settlePeer = r; });
    return { ok: true, supervisor: s };
  }

  /**
   * A dialplan-triggered call: the channel arrived on the outbound socket with `fsbridge_bot` set.
   * Refused calls are hung up and recorded here; returns null for them.
   */
  static async fromChannel(
    channel: ChannelPort, varNames: Iterable<string>, deps: SupervisorDeps, onAdmitted: (s: CallSupervisor) => void = () => {},
  ): Promise<CallSupervisor | null> {
    const init = {
      fsUuid: channel.fsUuid, direction: 'inbound' as const, bot: channel.getVar('fsbridge_bot') ?? null,
      from: channel.from, to: channel.to, params: paramsFromChannel(channel, varNames),
      record: recordVar(channel.getVar('fsbridge_record')),
    };
    const adm = CallSupervisor.admit(init, deps);
    if (!adm.ok) {
      deps.metrics.error(adm.code);
      deps.logger.warn({ code: adm.code, fsUuid: channel.fsUuid }, 'call refused');
      const causeName = adm.code === 'CALL_OVER_CAPACITY' ? 'NORMAL_CIRCUIT_CONGESTION'
        : adm.code === 'CALL_DRAINING' ? 'NORMAL_TEMPORARY_FAILURE' : 'USER_BUSY';
      await channel.hangup(causeName).catch(() => {});
      deps.calls.recordUnconnected(init, 'fsbridge', causeName, { code: adm.code });
      return null;
    }
    onAdmitted(adm.supervisor);
    await adm.supervisor.attachChannel(channel, varNames);
    return adm.supervisor;
  }

  get callId(): string { return this.call.callId; }
  /** FreeSWITCH's channel uuid, '' until known. */
  get channelUuid(): string { return this.fsUuid; }
  /** Whether FreeSWITCH's channel has connected to the outbound socket. */
  get hasChannel(): boolean { return this.channel !== null; }

  // --- what happens to the call ---------------------------------------------------------------

  /**
   * FreeSWITCH's channel connected to the outbound socket: answer it, wait for the far end of an
   * outbound call, then start the bot leg. Resolves when the bot is connected or the call ended.
   */
  async attachChannel(channel: ChannelPort, varNames: Iterable<string> = []): Promise<void> {
    const call = this.call;
    this.channel = channel;
    this.fsUuid = channel.fsUuid;
    call.attachChannel(channel.fsUuid, paramsFromChannel(channel, varNames));
    this.cancelTimers();
    channel.onGone((cause, lost) => this.channelGone(cause, lost === true));
    channel.onDtmf((digit) => {
      call.logger.debug({ digit }, 'caller dtmf');
      this.leg?.dtmf(digit);
    });
    channel.onLeft(() => this.channelLeft());

    const bot = call.init.bot;
    if (!bot || !this.deps.hasBot(bot)) {
      this.deps.metrics.error('CALL_UNKNOWN_BOT');
      call.logger.warn({ code: 'CALL_UNKNOWN_BOT', bot }, 'no such bot');
      await this.end('fsbridge', 'NO_ROUTE_DESTINATION', 'CALL_UNKNOWN_BOT');
      return;
    }
    try {
      await channel.answer();
      // FreeSWITCH's playback stops at a `*` from the caller by default (playback_terminators):
      // the bot's audio must only stop when the bot says so.
      await channel.setVar('playback_terminators', 'none');
    } catch (err) {
      this.deps.metrics.error('CALL_ANSWER_FAILED');
      call.logger.warn({ err, code: 'CALL_ANSWER_FAILED' }, 'answer failed');
      await this.end('fsbridge', 'NORMAL_TEMPORARY_FAILURE', 'CALL_ANSWER_FAILED');
      return;
    }
    if (this.peer) {
      const o = await this.peer;
      if (!o.ok) {
        // dialSettled recorded who and why; FreeSWITCH's leg goes too.
        await channel.hangup(o.cause).catch(() => {});
        return;
      }
      call.annotate({ result: 'answered' });
    }
    if (!call.transition('answered')) return; // the caller left meanwhile
    const leg = this.deps.makeBotLeg(call, channel);
    if (!leg) return;
    this.leg = leg;
    leg.onEnded((why) => this.botEnded(why));
    leg.onRequest?.((r) => this.deps.botRequest?.(call, r));
    try {
      await leg.start();
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'CALL_MEDIA_FAILED';
      this.deps.metrics.error(code);
      call.logger.warn({ err, code }, 'bot side failed to start');
      await this.end('fsbridge', 'NORMAL_TEMPORARY_FAILURE', code);
      return;
    }
    if (call.live) call.transition('connected');
    else await this.stopLeg(); // ended while the bot connected: nothing may stay open
  }

  /**
   * The outbound dial has its outcome. Answered: FreeSWITCH now runs `socket`, which must reach
   * fsbridge within socketWaitMs. Failed (busy, no answer, ...): the call ends with that outcome.
   */
  dialSettled(o: PeerOutcome): void {
    this.peerOutcome = o;
    this.settlePeer?.(o);
    const call = this.call;
    if (o.ok) {
      this.fsUuid ||= o.fsUuid;
      if (!call.live && !this.channel) {
        // ended (API, shutdown) while the answer was on its way: both legs go
        this.deps.hangupSip(this.callId, 'NORMAL_CLEARING');
        this.deps.killChannel(this.fsUuid, 'NORMAL_CLEARING');
        return;
      }
      if (this.channel || !call.live) return;
      this.addTimer(this.deps.clock.setTimeout(() => {
        if (this.channel || !call.live) return;
        call.annotate({ result: 'answered' });
        this.deps.metrics.error('CALL_SOCKET_NOT_REACHED');
        call.logger.warn({ code: 'CALL_SOCKET_NOT_REACHED' }, 'answered outbound call never reached the outbound socket (check fsbridge_outbound_socket)');
        void this.end('fsbridge', 'NORMAL_TEMPORARY_FAILURE', 'CALL_SOCKET_NOT_REACHED');
      }, this.deps.socketWaitMs));
      return;
    }
    call.annotate({ sipStatus: o.sipStatus, result: o.result });
    if (call.beginEnding(o.endedBy, o.cause, o.errorCode) && !this.channel) this.finish(causeFromName(o.cause));
  }

  /**
   * The SIP side ended (BYE, CANCEL, drachtio-server lost). Before FreeSWITCH's channel reached
   * fsbridge the call ends here; after, its channel is hung up and its bot released, unless
   * FreeSWITCH's own leg ended it (its channel reports that itself).
   */
  sipEnded(e: SipEnd): void {
    const call = this.call;
    if (!this.channel) {
      // an outbound dial not yet answered: its outcome (dialSettled) says how it ended
      if (call.init.direction === 'outbound' && this.peerOutcome === null) return;
      if (!call.live) return;
      const answered = this.peerOutcome?.ok === true;
      const code = e.code ?? (answered && e.by === 'freeswitch' ? 'CALL_SOCKET_NOT_REACHED' : undefined);
      if (code === 'CALL_SOCKET_NOT_REACHED') {
        this.deps.metrics.error(code);
        call.logger.warn({ code }, 'answered outbound call never reached the outbound socket (check fsbridge_outbound_socket)');
      }
      call.annotate({ sipStatus: e.sipStatus, result: answered ? 'answered' : undefined });
      void this.end(e.code ? 'fsbridge' : e.by, e.cause, code, { sipDone: true });
      return;
    }
    // FreeSWITCH's own leg ended first (it refused or dropped the call): its channel reports the
    // end itself; the record says FreeSWITCH ended it, not the caller.
    if (e.by === 'freeswitch') { call.beginEnding('freeswitch', e.cause); return; }
    void this.end(e.code ? 'fsbridge' : e.by, e.cause, e.code, { sipDone: true });
  }

  /** After an ESL reconnect FreeSWITCH no longer knows the channel. */
  channelVanished(): void {
    if (!this.call.beginEnding('freeswitch', 'NORMAL_TEMPORARY_FAILURE', 'CALL_CHANNEL_VANISHED')) return;
    this.deps.metrics.error('CALL_CHANNEL_VANISHED');
    this.call.logger.warn({ code: 'CALL_CHANNEL_VANISHED' }, 'channel gone after reconnect');
    this.closeLegs('NORMAL_TEMPORARY_FAILURE', { fsDone: true });
    this.finish(causeFromName('NORMAL_TEMPORARY_FAILURE'));
  }

  /** The channel's control-connection events (mod_audio_stream, playback) go to the bot leg. */
  onFsEvent(ev: FsEvent): void {
    this.leg?.onFsEvent?.(ev);
  }

  /**
   * Ends the call (HTTP API, shutdown, bot, faults): records who and why (the first wins), then
   * closes every leg in the documented order. Resolves once the hang-up was requested; false when
   * the call was already ending. Safe to call any number of times.
   */
  async end(by: EndedBy, causeName: string, errorCode?: string, o: { sipDone?: boolean } = {}): Promise<boolean> {
    if (!this.call.beginEnding(by, causeName, errorCode)) return false;
    await this.closeLegs(causeName, { sipDone: o.sipDone });
    // No channel will ever report this call's end: it ends now.
    if (!this.channel) this.finish(causeFromName(causeName));
    return true;
  }

  // --- internals --------------------------------------------------------------------------------

  /** Steps 2–5 of the close order. */
  private async closeLegs(causeName: string, o: { sipDone?: boolean; fsDone?: boolean } = {}): Promise<void> {
    const stopped = this.stopLeg();
    let hungUp: Promise<void> = stopped;
    if (!o.fsDone) {
      const ch = this.channel;
      if (ch) {
        hungUp = stopped.then(() => ch.hangup(causeName)).catch((err) => {
          this.call.logger.warn({ err }, 'hangup request failed');
        });
      } else if (this.fsUuid) this.deps.killChannel(this.fsUuid, causeName);
    }
    if (!o.sipDone) this.deps.hangupSip(this.callId, causeName);
    this.cancelTimers();
    await hungUp;
  }

  /** FreeSWITCH reported the channel gone, or its socket closed without a hang-up (lost). */
  private channelGone(fsCause: HangupCause, lost: boolean): void {
    const call = this.call;
    // The record says FreeSWITCH was lost (unless fsbridge had already started ending the call).
    if (lost && call.beginEnding('freeswitch', fsCause.name, 'CALL_FREESWITCH_LOST')) {
      this.deps.metrics.error('CALL_FREESWITCH_LOST');
      call.logger.warn({ code: 'CALL_FREESWITCH_LOST' }, 'connection to FreeSWITCH closed without a hang-up');
    }
    void this.closeLegs(fsCause.name, { fsDone: true });
    // A failed dial can tear FreeSWITCH's leg down before its outcome is known; the record must
    // still say why (busy, no answer, ...).
    if (this.peer && this.peerOutcome === null) void this.peer.then(() => this.finish(fsCause));
    else this.finish(fsCause);
  }

  /**
   * The channel left fsbridge's control alive (its `socket` application ended: a transfer). When
   * fsbridge asked for it, the record already says so; otherwise someone else moved the call.
   * The stream is detached but nothing else is sent to the channel: it runs someone else's
   * extension now (a uuid_break would cut that extension's audio). Its SIP legs stay up: the
   * caller talks to the transfer target.
   */
  private channelLeft(): void {
    const call = this.call;
    if (!this.transferring && call.beginEnding('freeswitch', 'NORMAL_CLEARING', 'CALL_CHANNEL_LEFT')) {
      this.deps.metrics.error('CALL_CHANNEL_LEFT');
      call.logger.info({ code: 'CALL_CHANNEL_LEFT' }, 'channel left fsbridge\'s control');
    }
    const released = this.transferring ? Promise.resolve() : this.stopLeg({ detachStream: true });
    this.cancelTimers();
    void released.then(() => {
      this.channel?.release();
      this.finish(causeFromName('NORMAL_CLEARING'));
    });
  }

  private botEnded(why: BotLegEnd): void {
    if (why.transferTarget !== undefined) void this.transfer(why.transferTarget);
    else void this.end(why.endedBy, why.cause, why.errorCode);
  }

  /**
   * The bot asked to transfer the caller (already allowed by its bot's transfer.allow): release
   * the bot and the stream first (nothing of the bot may reach the target), then uuid_transfer;
   * the call ends for fsbridge when FreeSWITCH reports the channel left (channelLeft).
   */
  private async transfer(target: string): Promise<void> {
    const call = this.call;
    const channel = this.channel;
    if (!channel || !call.beginEnding('bot', 'NORMAL_CLEARING')) return;
    this.transferring = true;
    call.annotate({ transferTarget: target });
    call.logger.info({ transferTarget: target }, 'transferring the call');
    await this.stopLeg({ detachStream: true, breakPlayback: true });
    // The caller may have hung up meanwhile: that record (already written) must not say transferred.
    if (call.state === 'ended') return;
    // Annotated before asking: FreeSWITCH may report the channel gone to its new extension (and the
    // record be written) before uuid_transfer's own reply arrives.
    call.annotate({ result: 'transferred' });
    if (await channel.transfer(target)) return;
    this.deps.metrics.error('CALL_TRANSFER_FAILED');
    call.logger.warn({ code: 'CALL_TRANSFER_FAILED', transferTarget: target }, 'transfer refused, hanging up');
    call.annotate({ result: 'transfer-failed' });
    this.transferring = false;
    await channel.hangup('NORMAL_TEMPORARY_FAILURE').catch(() => {});
    this.deps.hangupSip(this.callId, 'NORMAL_TEMPORARY_FAILURE');
  }

  /** Stops the bot leg once (later calls get the same promise); never rejects. */
  private stopLeg(opts?: { detachStream?: boolean; breakPlayback?: boolean }): Promise<void> {
    if (!this.leg) return Promise.resolve();
    this.legStopped ??= this.leg.stop(opts).catch(() => {});
    return this.legStopped;
  }

  private finish(cause: HangupCause): void {
    this.cancelTimers();
    this.call.finish(cause);
  }

  private addTimer(cancel: () => void): void {
    this.timers.add(cancel);
  }

  private cancelTimers(): void {
    for (const c of this.timers) c();
    this.timers.clear();
  }
}

/** The dialplan's `fsbridge_record` (true/false, as FreeSWITCH writes booleans); undefined when unset. */
function recordVar(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return /^(true|yes|on|1)$/i.test(v);
}
