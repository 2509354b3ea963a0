import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { CallManager } from './call-manager.js';
import type { Call } from './call.js';
import type { BotLeg, ChannelPort } from './ports.js';
import type { EndedBy } from './call-record.js';

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
  channel.onGone((fsCause) => {
    if (leg) void leg.stop().catch(() => {});
    if (peer && !peerSettled) void peer.then(() => call.finish(fsCause));
    else call.finish(fsCause);
  });
  channel.onDtmf((digit) => {
    call.logger.debug({ digit }, 'caller dtmf');
    leg?.dtmf(digit);
  });

  const endCall = async (endedBy: EndedBy, causeName: string, errorCode?: string) => {
    if (!call.beginEnding(endedBy, causeName, errorCode)) return;
    if (leg) await leg.stop().catch(() => {});
    await channel.hangup(causeName).catch((err) => {
      call.logger.warn({ err }, 'hangup request failed');
    });
  };
  call.bindEnder(endCall);

  if (!bot || !deps.hasBot(bot)) {
    deps.metrics.error('CALL_UNKNOWN_BOT');
    call.logger.warn({ code: 'CALL_UNKNOWN_BOT', bot }, 'no such bot');
    await endCall('fsbridge', 'NO_ROUTE_DESTINATION', 'CALL_UNKNOWN_BOT');
    return call;
  }
  try {
    await channel.answer();
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
  leg.onEnded((why) => { void endCall(why.endedBy, why.cause, why.errorCode); });
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
