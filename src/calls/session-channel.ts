/**
 * The call layer's ChannelPort over one outbound-socket session (`socket ... async full`), with
 * the control connection for `uuid_transfer`. What FreeSWITCH 1.10.12 was seen to do, and this
 * adapter relies on, is noted where it matters.
 */
import { FsbridgeError } from '../errors.js';
import type { EslControl } from '../esl/control.js';
import type { OutboundSession } from '../esl/outbound-session.js';
import { causeFromName } from './hangup-causes.js';
import type { ChannelPort } from './ports.js';

export function sessionChannel(s: OutboundSession, control: Pick<EslControl, 'bgapi'>): ChannelPort {
  const h = s.channelData.headers;
  let hungUp = false;
  /** Set by release(): the channel is no longer fsbridge's; nothing is reported or sent. */
  let released = false;
  s.on('hangup', () => { hungUp = true; });
  return {
    fsUuid: s.uuid,
    from: h['Caller-Caller-ID-Number'] ?? h['Channel-Caller-ID-Number'] ?? '',
    to: h['Caller-Destination-Number'] ?? h['Channel-Destination-Number'] ?? '',
    getVar: (name) => s.getVar(name),
    async answer() {
      const r = await s.answer();
      if (!r.ok) throw new FsbridgeError(r.code, 'answer failed');
    },
    async hangup(cause) {
      if (released) return;
      const r = await s.hangup(cause);
      if (!r.ok && r.code !== 'ESL_DISCONNECTED') throw new FsbridgeError(r.code, 'hangup failed');
    },
    onGone(cb) {
      let done = false;
      s.on('hangup', ({ cause }) => { if (!done && !released) { done = true; cb(causeFromName(cause)); } });
      // The socket closed without a hang-up: FreeSWITCH stopped or crashed.
      s.on('close', () => { if (!done && !released) { done = true; cb(causeFromName('NORMAL_TEMPORARY_FAILURE'), true); } });
    },
    onDtmf(cb) {
      s.on('event', (ev) => {
        if (!released && ev.name === 'DTMF' && ev.headers['DTMF-Digit']) cb(ev.headers['DTMF-Digit']);
      });
    },
    async setVar(name, value) {
      await s.execute('set', `${name}=${value}`, { eventLock: true });
    },
    async transfer(target) {
      if (!/^[^\s'"]+$/.test(target)) return false;
      const r = await control.bgapi(`uuid_transfer ${s.uuid} ${target}`);
      return r.ok && r.body.startsWith('+OK');
    },
    onLeft(cb) {
      // After uuid_transfer the outbound socket stays connected and reports CHANNEL_EXECUTE_COMPLETE
      // for Application `socket`, then CHANNEL_STATE CS_ROUTING and the new extension's
      // applications. A hang-up also ends the socket application (on loopback channels even before
      // its CHANNEL_HANGUP is reported), so the channel has left alive only once it routes or
      // executes something after that.
      let socketDone = false;
      let fired = false;
      s.on('event', (ev) => {
        if (fired || hungUp || released) return;
        if (ev.name === 'CHANNEL_EXECUTE_COMPLETE' && ev.headers.Application === 'socket') { socketDone = true; return; }
        if (!socketDone) return;
        const state = ev.headers['Channel-State'];
        if (ev.name === 'CHANNEL_EXECUTE' || (ev.name === 'CHANNEL_STATE' && (state === 'CS_ROUTING' || state === 'CS_EXECUTE'))) {
          fired = true;
          cb();
        }
      });
    },
    release() {
      // The socket is not closed here: FreeSWITCH closes it when the channel ends (the session
      // closes itself after CHANNEL_HANGUP_COMPLETE). Closing it now would clear the channel's
      // CF_CONTROLLED and end the park of a `socket` application the channel runs next: seen on
      // FreeSWITCH 1.10.12, a caller transferred to another bot was hung up at once.
      released = true;
    },
  };
}
