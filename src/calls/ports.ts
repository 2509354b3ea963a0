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
  /**
   * Registers the callback for the channel's end (called once): with FreeSWITCH's cause, or with
   * `lost: true` when the connection to FreeSWITCH closed without a hang-up being reported
   * (FreeSWITCH stopped or crashed; the channel's fate is unknown).
   */
  onGone(cb: (cause: HangupCause, lost?: boolean) => void): void;
  /** Registers the callback for caller DTMF digits. */
  onDtmf(cb: (digit: string) => void): void;
  /** Sets a channel variable; resolves when FreeSWITCH applied it (failures are ignored). */
  setVar(name: string, value: string): Promise<void>;
  /** `uuid_transfer` to an extension of the channel's context; resolves whether FreeSWITCH accepted it. */
  transfer(target: string): Promise<boolean>;
  /**
   * Registers the callback for the channel leaving fsbridge's control while it lives on: its
   * `socket` application ended (a transfer, by the bot or by someone else). Called at most once,
   * never after the channel hung up.
   */
  onLeft(cb: () => void): void;
  /**
   * Lets go of a channel that left fsbridge's control: no callback fires afterwards and no
   * command is sent. The outbound socket is left to FreeSWITCH, which closes it when the channel
   * ends: closing it earlier clears the channel's control flag and would end the park of a
   * `socket` application the channel runs next (seen on FreeSWITCH 1.10.12).
   */
  release(): void;
}

/**
 * The bot side of a call (media stream + bot websocket), built by daemon.ts for the media loop.
 * `start` resolves when the bot is connected; `ended` reports that the bot side finished on its
 * own (bot closed normally, vanished after its policy ran out, asked to hang up).
 */
export interface BotLeg {
  start(): Promise<void>;
  /**
   * The caller hung up or fsbridge ends the call: send `stop`, close 1000. With `detachStream`
   * (the channel lives on, e.g. transferred) the audio stream is stopped, and with
   * `breakPlayback` bot audio still playing is broken off too. Idempotent.
   */
  stop(opts?: { detachStream?: boolean; breakPlayback?: boolean }): Promise<void>;
  dtmf(digit: string): void;
  onEnded(cb: (why: BotLegEnd) => void): void;
  /** What the bot asked of fsbridge during the call, beyond the media (e.g. `dnc`). */
  onRequest?(cb: (r: BotRequest) => void): void;
}

/**
 * What the bot side asks of the call's owner beyond the media: `dnc` (the bot) puts the far end's
 * number on the do-not-call list; `amd` (answering-machine detection) says who answered.
 */
export type BotRequest = { kind: 'dnc' } | { kind: 'amd'; answeredBy: string; decisionMs: number };

/** Why the bot side ended the call; `transferTarget`: the bot asked to transfer the caller there. */
export interface BotLegEnd { cause: string; endedBy: 'bot' | 'fsbridge'; errorCode?: string; transferTarget?: string }
