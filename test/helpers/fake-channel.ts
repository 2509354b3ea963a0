import type { ChannelPort, BotLeg } from '../../src/calls/ports.js';
import type { HangupCause } from '../../src/calls/hangup-causes.js';
import { causeFromName } from '../../src/calls/hangup-causes.js';

/** A ChannelPort whose FreeSWITCH side the test plays by hand. */
export class FakeChannel implements ChannelPort {
  readonly hangups: string[] = [];
  answered = 0;
  answerError: Error | null = null;
  private gone: ((c: HangupCause) => void) | null = null;
  private dtmf: ((d: string) => void) | null = null;
  constructor(readonly fsUuid: string, readonly vars: Record<string, string> = {}, readonly from = '+15550001', readonly to = '8100') {}
  getVar(name: string) { return this.vars[name]; }
  async answer() { if (this.answerError) throw this.answerError; this.answered++; }
  async hangup(cause: string) { this.hangups.push(cause); queueMicrotask(() => this.fsGone(cause)); }
  onGone(cb: (c: HangupCause) => void) { this.gone = cb; }
  onDtmf(cb: (d: string) => void) { this.dtmf = cb; }
  /** FreeSWITCH reports the channel gone. */
  fsGone(cause = 'NORMAL_CLEARING') { const g = this.gone; this.gone = null; g?.(causeFromName(cause)); }
  pressDtmf(d: string) { this.dtmf?.(d); }
}

export class FakeLeg implements BotLeg {
  started = 0; stopped = 0; digits: string[] = [];
  startError: Error | null = null;
  private ended: ((w: { cause: string; endedBy: 'bot' | 'fsbridge'; errorCode?: string }) => void) | null = null;
  async start() { if (this.startError) throw this.startError; this.started++; }
  async stop() { this.stopped++; }
  dtmf(d: string) { this.digits.push(d); }
  onEnded(cb: (w: { cause: string; endedBy: 'bot' | 'fsbridge'; errorCode?: string }) => void) { this.ended = cb; }
  botEnds(cause = 'NORMAL_CLEARING') { this.ended?.({ cause, endedBy: 'bot' }); }
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
