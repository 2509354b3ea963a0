/**
 * Cuts caller audio into frames of exactly `frameSamples` (20 ms), whatever size the messages
 * have. mod_audio_stream sends what the channel reads: 20 ms on loopback channels, but 30 ms
 * (240 bytes of μ-law, 480 of L16) on a SIP channel whose trunk sends 30 ms packets (seen with the
 * real FreeSWITCH 1.10.12). Bots written for Twilio assume 20 ms frames, so every protocol gets
 * them. A remainder waits for the next message. Pure; a 20 ms message passes through without allocation.
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
    let i = 0;
    const n = this.frameSamples;
    if (this.fill === 0 && pcm.length === n) { // the usual 20 ms message: passed through as is
      this.onFrame(pcm);
      return;
    }
    // whole frames straight from the input when nothing is pending
    if (this.fill === 0) {
      while (pcm.length - i >= n) {
        this.onFrame(pcm.subarray(i, i + n));
        i += n;
      }
    }
    while (i < pcm.length) {
      const take = Math.min(n - this.fill, pcm.length - i);
      this.frame.set(pcm.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill === n) {
        this.fill = 0;
        this.onFrame(this.frame);
      }
    }
  }

  /** Drops pending samples (a new stream). */
  reset(): void {
    this.fill = 0;
  }
}
