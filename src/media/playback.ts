/**
 * What the two playback modes have in common: the controller interface the call layer drives, and
 * the `streamAudio` text message mod_audio_stream understands (reference/protocols.md §2.7).
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Side effects a playback controller asks for; the call layer implements them. */
export interface PlaybackActions {
  /** Send one text message on the call's mod_audio_stream websocket. */
  sendText(text: string): void;
  /** 'file' mode: play this file to the caller (`uuid_broadcast <uuid> <file> aleg`); the caller keeps order. */
  broadcast(file: string): void;
  /** Stop what FreeSWITCH is playing now and flush its queue (`uuid_break <uuid> all`). */
  breakAll(): void;
  /** Stop only what FreeSWITCH is playing now (`uuid_break <uuid>`); queued broadcasts stay. */
  breakCurrent(): void;
  /** The audio before this mark has played (or was cleared): answer the bot's mark. In placement order. */
  markPlayed(name: string): void;
}

/**
 * A per-call playback controller ('file' or 'stream' mode). Pure logic with injected clock and
 * actions; audio pushed must be at the controller's sampleRateHz.
 */
export interface PlaybackController {
  /** True while bot audio is queued or playing to the caller (barge-in and the silence timeout ask). */
  readonly busy: boolean;
  /** Bot audio (copied; the caller may reuse `pcm`). */
  pushAudio(pcm: Int16Array): void;
  /** A bot mark placed after all audio pushed so far. */
  mark(name: string): void;
  /** Barge-in: stop playback, drop queued audio, answer every pending mark at once, in order. */
  clear(): void;
  /** `mod_audio_stream::play` fired with this `file` (its body's `file` field). */
  onPlay(file: string): void;
  /** `mod_audio_stream::json` fired with one of our streamAudio messages (the module refused it). */
  onRejected(): void;
  /** `PLAYBACK_START` fired for this `Playback-File-Path`. */
  onPlaybackStart(file: string): void;
  /** `PLAYBACK_STOP` fired for this `Playback-File-Path`. */
  onPlaybackStop(file: string): void;
  /** Stops timers; no action is called afterwards. Pending marks are abandoned. Safe to call twice. */
  close(): void;
}

/**
 * Builds `{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":<rate>,"audioData":"<base64>"}}`
 * from the first `n` samples of `pcm` (L16 little-endian, as the module writes `.r8`/`.r16` files).
 * `sampleRate` is a JSON number: the module reads it with cJSON `valueint`, a string would read as 0.
 */
export function streamAudioMessage(pcm: Int16Array, n: number, sampleRateHz: number): string {
  let bytes: Buffer;
  if (LITTLE_ENDIAN_HOST) {
    bytes = Buffer.from(pcm.buffer, pcm.byteOffset, n * 2);
  } else {
    bytes = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) bytes.writeInt16LE(pcm[i], 2 * i);
  }
  return `{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":${sampleRateHz},"audioData":"${bytes.toString('base64')}"}}`;
}
