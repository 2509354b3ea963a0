import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { CallManager } from './call-manager.js';
import type { Call } from './call.js';
import type { BotLeg, BotLegEnd, ChannelPort } from './ports.js';
import type { EndedBy } from './call-record.js';
import { causeFromName } from './hangup-causes.js';

export interface DialplanCallDeps {
  calls: CallManager;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Whether a bot of that name is configured. */
  hasBot(name: string): boolean;
  /** Builds the bot side of a call, or null when the media loop is not wired (signalling only). */
  makeBotLeg(call: Call, channel: ChannelPort): BotLeg | null;
}

/** How the far end of an outbound call answered (the SIP dial's outcome). */
export type PeerOutcome =
  | { ok: true }
  | { ok: false; endedBy: 'callee' | 'fsbridge'; cause: string; sipStatus?: number; result?: string; errorCode?: string };

/** Per-call overrides for calls fsbridge itself routed (SIP trunks) instead of the dialplan. */
export interface DialplanCallOptions {
  callId?: string;
  direction?: 'inbound' | 'outbound';
  /** The bot chosen by a route or the API (instead of the `fsbridge_bot` variable). */
  bot?: string;
  /** Parameters for the bot (merged over `fsbridge_param_*`). */
  params?: Record<string, string>;
  from?: string;
  to?: string;
  /** Outbound calls: resolves when the callee answered or the dial failed; the bot waits for it. */
  waitForPeer?: () => Promise<PeerOutcome>;
}

/** Channel variables read from the dialplan: `fsbridge_bot` and every `fsbridge_param_<key>`. */
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

/**
 * Runs one dialplan-triggered call (the dialplan did `socket … async full` with `fsbridge_bot`
 * set): admit, answer, attach the bot, and end it from whichever side ends first. Every path ends
 * in exactly one record (written by the CallManager when FreeSWITCH reports the channel gone).
 * Never throws: faults end this call only.
 */
export async function runDialplanCall(
  channel: ChannelPort, varNames: Iterable<string>, deps: DialplanCallDeps,
  opts: DialplanCallOptions = {},
): Promise<Call | null> {
  const bot = opts.bot ?? channel.getVar('fsbridge_bot') ?? null;
  const init = {
    fsUuid: channel.fsUuid, direction: opts.direction ?? 'inbound' as const, bot,
    from: opts.from ?? channel.from, to: opts.to ?? channel.to,
    params: { ...paramsFromChannel(channel, varNames), ...(opts.params ?? {}) },
  };
  const adm = deps.calls.admit({ ...init, callId: opts.callId });
  if (!adm.ok) {
    deps.metrics.error(adm.code);
    deps.logger.warn({ code: adm.code, fsUuid: channel.fsUuid }, 'call refused');
    const causeName = adm.code === 'CALL_OVER_CAPACITY' ? 'NORMAL_CIRCUIT_CONGESTION' : 'NORMAL_TEMPORARY_FAILURE';
    await channel.hangup(causeName).catch(() => {});
    deps.calls.recordUnconnected({ ...init, callId: opts.callId }, 'fsbridge', causeName, { code: adm.code });
    return null;
  }
  const call = adm.call;
  let leg: BotLeg | null = null;
  // Outbound: the dial's outcome. A failed dial tears FreeSWITCH's leg down itself, so the channel
  // can end before the outcome is known; the record must still say why (busy, no answer, ...).
  let peerSettled = false;
  const peer = opts.waitForPeer?.().then((o) => {
    peerSettled = true;
    if (!o.ok) {
      call.annotate({ sipStatus: o.sipStatus, result: o.result });
      call.beginEnding(o.endedBy, o.cause, o.errorCode);
    }
    return o;
  });
  channel.onGone((fsCause, lost) => {
    // FreeSWITCH's side vanished without reporting a hang-up: the record says so (unless fsbridge
    // had already started ending the call, e.g. it let a transferred channel go).
    if (lost && call.beginEnding('freeswitch', fsCause.name, 'CALL_FREESWITCH_LOST')) {
      deps.metrics.error('CALL_FREESWITCH_LOST');
      call.logger.warn({ code: 'CALL_FREESWITCH_LOST' }, 'connection to FreeSWITCH closed without a hang-up');
    }
    if (leg) void leg.stop().catch(() => {});
    if (peer && !peerSettled) void peer.then(() => call.finish(fsCause));
    else call.finish(fsCause);
  });
  channel.onDtmf((digit) => {
    call.logger.debug({ digit }, 'caller dtmf');
    leg?.dtmf(digit);
  });
  // The channel left fsbridge's control alive (its `socket` app ended: a transfer). When fsbridge
  // asked for it, the record already says so; otherwise someone else moved the call.
  let transferring = false;
  channel.onLeft(() => {
    if (!transferring && call.beginEnding('freeswitch', 'NORMAL_CLEARING', 'CALL_CHANNEL_LEFT')) {
      deps.metrics.error('CALL_CHANNEL_LEFT');
      call.logger.info({ code: 'CALL_CHANNEL_LEFT' }, 'channel left fsbridge\'s control');
    }
    // The stream is detached but nothing else is sent to the channel: it runs someone else's
    // extension now (a uuid_break would cut that extension's audio).
    const released = leg && !transferring ? leg.stop({ detachStream: true }).catch(() => {}) : Promise.resolve();
    void released.then(() => {
      channel.release();
      call.finish(causeFromName('NORMAL_CLEARING'));
    });
  });

  const endCall = async (endedBy: EndedBy, causeName: string, errorCode?: string) => {
    if (!call.beginEnding(endedBy, causeName, errorCode)) return;
    if (leg) await leg.stop().catch(() => {});
    await channel.hangup(causeName).catch((err) => {
      call.logger.warn({ err }, 'hangup request failed');
    });
  };
  call.bindEnder(endCall);
  // The bot asked to transfer the caller: release the bot and the stream first (nothing of the
  // bot may reach the transfer target), then transfer; the call ends for fsbridge when FreeSWITCH
  // reports the channel left the socket application (onLeft above).
  const transferCall = async (target: string) => {
    if (!call.beginEnding('bot', 'NORMAL_CLEARING')) return;
    transferring = true;
    call.annotate({ transferTarget: target });
    call.logger.info({ transferTarget: target }, 'transferring the call');
    if (leg) await leg.stop({ detachStream: true, breakPlayback: true }).catch(() => {});
    // The caller may have hung up meanwhile: that record (already written) must not say transferred.
    if (call.state === 'ended') return;
    // Annotated before asking: FreeSWITCH may report the channel gone to its new extension (and the
    // record be written) before uuid_transfer's own reply arrives.
    call.annotate({ result: 'transferred' });
    if (await channel.transfer(target)) return;
    deps.metrics.error('CALL_TRANSFER_FAILED');
    call.logger.warn({ code: 'CALL_TRANSFER_FAILED', transferTarget: target }, 'transfer refused, hanging up');
    call.annotate({ result: 'transfer-failed' });
    await channel.hangup('NORMAL_TEMPORARY_FAILURE').catch(() => {});
  };
  const onLegEnded = (why: BotLegEnd) => {
    if (why.transferTarget !== undefined) void transferCall(why.transferTarget);
    else void endCall(why.endedBy, why.cause, why.errorCode);
  };

  if (!bot || !deps.hasBot(bot)) {
    deps.metrics.error('CALL_UNKNOWN_BOT');
    call.logger.warn({ code: 'CALL_UNKNOWN_BOT', bot }, 'no such bot');
    await endCall('fsbridge', 'NO_ROUTE_DESTINATION', 'CALL_UNKNOWN_BOT');
    return call;
  }
  try {
    await channel.answer();
    // FreeSWITCH's playback stops at a `*` from the caller by default (playback_terminators):
    // the bot's audio must only stop when the bot says so.
    await channel.setVar('playback_terminators', 'none');
  } catch (err) {
    deps.metrics.error('CALL_ANSWER_FAILED');
    call.logger.warn({ err, code: 'CALL_ANSWER_FAILED' }, 'answer failed');
    await endCall('fsbridge', 'NORMAL_TEMPORARY_FAILURE', 'CALL_ANSWER_FAILED');
    return call;
  }
  if (peer) {
    const o = await peer;
    if (!o.ok) {
      // beginEnding already recorded who and why; ask FreeSWITCH to drop its leg if still there.
      await channel.hangup(o.cause).catch(() => {});
      return call;
    }
    call.annotate({ result: 'answered' });
  }
  if (!call.transition('answered')) return call; // the caller left while we answered
  leg = deps.makeBotLeg(call, channel);
  if (!leg) return call;
  leg.onEnded(onLegEnded);
  try {
    await leg.start();
    if (call.live) call.transition('connected');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'CALL_MEDIA_FAILED';
    deps.metrics.error(code);
    call.logger.warn({ err, code }, 'bot side failed to start');
    // The leg applies the bot's onDisconnect policy itself and reports through onEnded; if it
    // did not, end the call here.
    if (call.live) await endCall('fsbridge', 'NORMAL_TEMPORARY_FAILURE', code);
  }
  return call;
}
