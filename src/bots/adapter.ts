/**
 * The contract between a call and a bot protocol. An adapter is a pure translator: it owns no
 * socket and no timer; it turns caller-side events into the messages a bot expects, and bot
 * messages into {@link BotCommand}s. The call owner sends what it returns over a BotConnection.
 */

/** What a bot is told about the call when the stream starts. */
export interface CallInfo {
  /** fsbridge's call id (stable for the life of the call). */
  callId: string;
  /** FreeSWITCH channel UUID; never sent to bots. */
  fsUuid: string;
  /** Caller number (personal data). */
  from: string;
  /** Called number (personal data). */
  to: string;
  direction: 'inbound' | 'outbound';
  /** Channel variables `fsbridge_param_*`, without the prefix. */
  params: Record<string, string>;
  /** The Twilio-style account id shown to bots ("AC…" in twilio mode). */
  accountSid: string;
}

/** What a bot message asks fsbridge to do. */
export type BotCommand =
  /** Audio to play to the caller: 16-bit PCM at `sampleRateHz`, owned by the receiver. */
  | { kind: 'audio'; pcm: Int16Array; sampleRateHz: number }
  /** Echo `name` back (markPlayed) once all audio before it has played or was cleared. */
  | { kind: 'mark'; name: string }
  /** Barge-in: drop buffered audio, stop playback, answer every pending mark. */
  | { kind: 'clear' }
  /** Send these DTMF digits to the caller (native protocol only). */
  | { kind: 'dtmf'; digits: string }
  /** End the call (native protocol only; other protocols hang up by closing the socket). */
  | { kind: 'hangup'; reason?: string }
  /** Transfer the caller to `target` (native protocol only). */
  | { kind: 'transfer'; target: string }
  /** Put the far end's number on the tenant's do-not-call list (native protocol only). */
  | { kind: 'dnc' }
  /** A well-formed message fsbridge does not act on; `code` is a BOT_* code. */
  | { kind: 'ignored'; code: string }
  /** A malformed message, dropped; `code` is a BOT_* code, `detail` names the field. */
  | { kind: 'error'; code: string; detail?: string };

/**
 * What fsbridge's analysis of the caller's audio tells a bot (times in ms of caller audio since the
 * stream started): speech started / stopped, a local barge-in cleared its playback, and who
 * answered an outbound call (answering-machine detection, with the decision's time after answer).
 */
export type BotEvent =
  | { kind: 'speech_started' | 'speech_stopped' | 'barge_in'; atMs: number }
  | { kind: 'amd'; answeredBy: string; decisionMs: number };

/** The name of a bot protocol (config key `bots.<name>.protocol`). */
export type BotProtocol = 'twilio' | 'exotel' | 'native';

/**
 * One adapter per call. Methods return the message to send to the bot (a string is sent as a
 * text frame, a Buffer as a binary frame) or null when there is nothing to send. Calls before
 * `open()` or after `stop()` return null (or [] for `open` twice).
 */
export interface BotAdapter {
  readonly protocol: BotProtocol;
  /** Sample rate (Hz) of the caller audio `audio()` wants and of the audio it returns. */
  readonly sampleRateHz: number;
  /** Messages to send right after the websocket opens (e.g. connected + start). */
  open(info: CallInfo): (string | Buffer)[];
  /**
   * One caller frame (16-bit PCM at sampleRateHz, any length) → message, or null while the
   * adapter aggregates. The pcm array is not kept: the caller may reuse it after the call.
   */
  audio(pcm: Int16Array): string | Buffer | null;
  /** A DTMF digit the caller pressed; `durationMs` when FreeSWITCH reported it. */
  dtmf(digit: string, durationMs?: number): string | Buffer | null;
  /**
   * An analysis event, as this protocol carries it, or null when it carries none (twilio and
   * exotel have no such messages: fsbridge sends them speech events only when the bot opts in).
   */
  event(e: BotEvent): string | Buffer | null;
  /** Echo a mark whose audio has played or was cleared. */
  markPlayed(name: string): string | Buffer | null;
  /** The stream ends: the caller hung up ('callended') or fsbridge stopped it ('stopped'). */
  stop(reason: 'callended' | 'stopped'): string | Buffer | null;
  /** Parses one bot message. Never throws; bad input gives one error/ignored command. */
  receive(data: Buffer, isBinary: boolean): BotCommand[];
}
