/**
 * What the audio-stream twin needs from one channel of the FreeSWITCH twin. The channel owner
 * implements it; the module calls it. All calls are synchronous and must not throw.
 */
export interface StreamChannelPort {
  /** The channel's uuid. */
  readonly uuid: string;
  /** A channel variable (e.g. STREAM_BUFFER_SIZE, STREAM_EXTRA_HEADERS), or undefined. */
  getVar(name: string): string | undefined;
  /** Fires a CUSTOM event with this Event-Subclass and body; the caller adds the channel headers. */
  fireCustom(subclass: string, body: string): void;
  /** Fires a plain event, e.g. MEDIA_BUG_START {Media-Bug-Function: 'audio_stream', ...}. */
  fireEvent(name: string, headers: Record<string, string>): void;
  /** Pre-answers the channel (start does this, as the real module does). */
  preAnswer(): void;
  /** Caller audio: 20 ms L16 at 8 kHz on the media clock. Returns an unsubscribe function. */
  onReadFrame(cb: (pcm8k: Int16Array) => void): () => void;
  /** Real-time injected playback (playback 'stream' mode). */
  writeToEar(pcm: Int16Array, sampleRateHz: number): void;
  /** Directory where streamAudio files are written. */
  readonly tempDir: string;
}
