/**
 * Cuts caller audio into frames of exactly `frameSamples` (20 ms), whatever size the messages
 * have. mod_audio_stream sends what the channel reads: 20 ms on loopback channels, but 30 ms
 * (240 bytes of μ-law, 480 of L16) on a SIP channel whose trunk sends 30 ms packets (seen with the
 * real FreeSWITCH 1.10.12). Bots written for Twilio assume 20 ms frames, so every protocol gets
 * them. A remainder waits for the next message. Pure; allocates nothing after construction.
 */
export class Reframer {
  private readonly frame: Int16Array;
  private fill = 0;

  /** `onFrame` receives a view valid only during the call (copy what you keep). */
  constructor(readonly frameSamples: number, private readonly onFrame: (frame: Int16Array) => void) {
    this.frame = new Int16Array(frameSamples);
  }

  /** Samples waiting for the rest of their frame. */
  get pending(): number { return this.fill; }

  /** Adds samples; calls onFrame once per completed frame, in order. */
  push(pcm: Int16Array): void {
    const n = this.frameSamples;
    if (this.fill === 0 && pcm.length === n) { // the usual 20 ms message: passed through as is
      this.onFrame(pcm);
      return;
    }
    // Any other size goes through the frame buffer, sample by sample (no views allocated).
    const frame = this.frame;
    let fill = this.fill;
    for (let i = 0; i < pcm.length; i++) {
      frame[fill++] = pcm[i];
      if (fill === n) {
        fill = 0;
        this.fill = 0;
        this.onFrame(frame);
      }
    }
    this.fill = fill;
  }

  /** Drops pending samples (a new stream). */
  reset(): void {
    this.fill = 0;
  }
}
