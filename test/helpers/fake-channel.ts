import type { ChannelPort, BotLeg, BotLegEnd } from '../../src/calls/ports.js';
import type { HangupCause } from '../../src/calls/hangup-causes.js';
import { causeFromName } from '../../src/calls/hangup-causes.js';

/** A ChannelPort whose FreeSWITCH side the test plays by hand. */
export class FakeChannel implements ChannelPort {
  readonly hangups: string[] = [];
  readonly vars_set: string[] = [];
  readonly transfers: string[] = [];
  answered = 0;
  released = 0;
  answerError: Error | null = null;
  /** What transfer() answers (FreeSWITCH accepted it or not). */
  transferOk = true;
  private gone: ((c: HangupCause) => void) | null = null;
  private dtmf: ((d: string) => void) | null = null;
  private left: (() => void) | null = null;
  constructor(readonly fsUuid: string, readonly vars: Record<string, string> = {}, readonly from = '+15550001', readonly to = '8100') {}
  getVar(name: string) { return this.vars[name]; }
  async answer() { if (this.answerError) throw this.answerError; this.answered++; }
  async hangup(cause: string) { this.hangups.push(cause); queueMicrotask(() => this.fsGone(cause)); }
  onGone(cb: (c: HangupCause) => void) { this.gone = cb; }
  onDtmf(cb: (d: string) => void) { this.dtmf = cb; }
  async setVar(name: string, value: string) { this.vars_set.push(`${name}=${value}`); }
  async transfer(target: string) { this.transfers.push(target); if (this.transferOk) queueMicrotask(() => this.fsLeft()); return this.transferOk; }
  onLeft(cb: () => void) { this.left = cb; }
  release() { this.released++; this.gone = null; this.left = null; }
  /** FreeSWITCH reports the channel gone. */
  fsGone(cause = 'NORMAL_CLEARING') { const g = this.gone; this.gone = null; g?.(causeFromName(cause)); }
  /** The channel's socket application ended while it lives on (transferred). */
  fsLeft() { const l = this.left; this.left = null; l?.(); }
  pressDtmf(d: string) { this.dtmf?.(d); }
}

export class FakeLeg implements BotLeg {
  started = 0; stopped = 0; detached = 0; digits: string[] = [];
  startError: Error | null = null;
  private ended: ((w: BotLegEnd) => void) | null = null;
  async start() { if (this.startError) throw this.startError; this.started++; }
  async stop(opts: { detachStream?: boolean; breakPlayback?: boolean } = {}) { this.stopped++; if (opts.detachStream) this.detached++; }
  dtmf(d: string) { this.digits.push(d); }
  onEnded(cb: (w: BotLegEnd) => void) { this.ended = cb; }
  botEnds(cause = 'NORMAL_CLEARING') { this.ended?.({ cause, endedBy: 'bot' }); }
  botTransfers(target: string) { this.ended?.({ cause: 'NORMAL_CLEARING', endedBy: 'bot', transferTarget: target }); }
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
