import type { HangupCause } from './hangup-causes.js';

/**
 * What the call layer needs from one FreeSWITCH channel under fsbridge's control (an outbound
 * socket session). daemon.ts adapts src/esl to this, so calls/ is testable without sockets.
 */
export interface ChannelPort {
  readonly fsUuid: string;
  /** A channel variable from the connect reply (CHANNEL_DATA), e.g. `fsbridge_bot`. */
  getVar(name: string): string | undefined;
  /** Caller-ID number and dialled number from the channel data. */
  readonly from: string;
  readonly to: string;
  /** Answers the channel; rejects with an FsbridgeError on failure or timeout. */
  answer(): Promise<void>;
  /** Asks FreeSWITCH to hang up with a Q.850 cause name; resolves when the request was accepted. */
  hangup(causeName: string): Promise<void>;
  /** Registers the callback for the channel's end (called once, with FreeSWITCH's cause). */
  onGone(cb: (cause: HangupCause) => void): void;
  /** Registers the callback for caller DTMF digits. */
  onDtmf(cb: (digit: string) => void): void;
}

/**
 * The bot side of a call (media stream + bot websocket), built by daemon.ts for the media loop.
 * `start` resolves when the bot is connected; `ended` reports that the bot side finished on its
 * own (bot closed normally, vanished after its policy ran out, asked to hang up).
 */
export interface BotLeg {
  start(): Promise<void>;
  /** The caller hung up or fsbridge ends the call: send `stop`, close 1000. Idempotent. */
  stop(): Promise<void>;
  dtmf(digit: string): void;
  onEnded(cb: (why: { cause: string; endedBy: 'bot' | 'fsbridge'; errorCode?: string }) => void): void;
}
