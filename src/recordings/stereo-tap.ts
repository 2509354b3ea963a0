/**
 * Both directions of a call on one clock, for its recording: the caller's frames (which
 * FreeSWITCH sends in real time) set the pace; each takes as many samples of what the bot played
 * from a queue, or silence when there are none. Out comes interleaved stereo, caller left, bot
 * right, at the call's rate. The queue is bounded: when the caller's audio stops arriving (the
 * stream restarting) the oldest of the bot's samples go first. Pure, allocation-free per frame
 * once the scratch buffer has grown to the frame size (the sink gets the same view each time:
 * valid until the next frame).
 */
export class StereoTap {
  private readonly ring: Int16Array;
  private head = 0;
  private size = 0;
  private out = new Int16Array(0);
  /** `out` cut to the last frame's size (frames keep one size: no view made per frame). */
  private view = new Int16Array(0);
  /** Bot samples dropped because the queue was full. */
  dropped = 0;

  /** `maxBotSamples`: most of the bot's samples held ahead of the caller's clock. */
  constructor(private readonly sink: (stereo: Int16Array) => void, maxBotSamples: number) {
    this.ring = new Int16Array(Math.max(1, maxBotSamples));
  }

  /** A frame of the caller's audio: it and as many samples of the bot's go to the sink. */
  caller(pcm: Int16Array): void {
    const n = pcm.length;
    if (this.out.length < 2 * n) this.out = new Int16Array(2 * n);
    if (this.view.length !== 2 * n || this.view.buffer !== this.out.buffer) this.view = this.out.subarray(0, 2 * n);
    const out = this.out;
    const ring = this.ring;
    const take = Math.min(n, this.size);
    let h = this.head;
    for (let i = 0; i < n; i++) {
      out[2 * i] = pcm[i];
      if (i < take) {
        out[2 * i + 1] = ring[h];
        h = h + 1 === ring.length ? 0 : h + 1;
      } else out[2 * i + 1] = 0;
    }
    this.head = h;
    this.size -= take;
    this.sink(this.view);
  }

  /** What the bot played (or is about to play) for the caller, at the same rate. */
  bot(pcm: Int16Array): void {
    const ring = this.ring;
    const cap = ring.length;
    let src = pcm;
    if (src.length > cap) { this.dropped += src.length - cap; src = src.subarray(src.length - cap); }
    const over = this.size + src.length - cap;
    if (over > 0) {
      this.dropped += over;
      this.head = (this.head + over) % cap;
      this.size -= over;
    }
    let tail = (this.head + this.size) % cap;
    for (let i = 0; i < src.length; i++) {
      ring[tail] = src[i];
      tail = tail + 1 === cap ? 0 : tail + 1;
    }
    this.size += src.length;
  }

  /** The bot's audio was cleared before it was played: the caller never hears it. */
  clearBot(): void {
    this.head = 0;
    this.size = 0;
  }
}
