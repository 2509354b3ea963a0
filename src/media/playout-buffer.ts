/**
 * Bounded ring of 16-bit PCM samples at one fixed rate, with named marks placed between samples.
 *
 * Bot audio arrives in bursts (speech synthesis runs faster than real time); this buffer holds it
 * until the pacer or the file-playback controller takes it. A mark sits at the sample position
 * where it was placed: it is "passed" once every sample pushed before it has been pulled or
 * dropped, and pull() reports it then. Pure: no clock, no I/O.
 */

/** Options of {@link PlayoutBuffer}. */
export interface PlayoutBufferOptions {
  /** Rate of every sample pushed and pulled (used for the *Ms helpers only). */
  sampleRateHz: number;
  /** Hard bound on buffered audio; pushing beyond it drops the oldest samples. Default 60 000 ms. */
  maxBufferMs?: number;
  /** Ring size allocated at first; it doubles (rarely, never per frame) up to maxBufferMs. Default 500 ms. */
  initialBufferMs?: number;
  /** Bound on pending marks; mark() refuses beyond it. Default 1024. */
  maxMarks?: number;
}

/**
 * What pull() returns. The same object is reused by every pull() of one buffer (no allocation per
 * frame): read it before the next pull(). `marks` is a fresh array only when a mark was passed.
 */
export interface PullResult {
  /** Samples written to `out` (≤ the count asked for). */
  samples: number;
  /** Names of the marks passed by this pull, in the order they were placed. */
  marks: readonly string[];
}

const NO_MARKS: readonly string[] = Object.freeze([]);

export class PlayoutBuffer {
  readonly sampleRateHz: number;
  /** Bound in samples. */
  readonly maxSamples: number;
  readonly maxMarks: number;
  private ring: Int16Array;
  /** Absolute positions (samples since creation): [readPos, writePos) is buffered. */
  private readPos = 0;
  private writePos = 0;
  private markPos: number[] = [];
  private markName: string[] = [];
  private markHead = 0;
  private readonly result: PullResult = { samples: 0, marks: NO_MARKS };
  private lastPullWasFull = false;

  /** Samples dropped because the buffer was full (oldest first). */
  droppedSamples = 0;
  /** Pushes that had to drop audio. */
  overflows = 0;
  /** Pulls that found fewer samples than asked right after a pull that got all it asked for (audio ran dry). */
  underruns = 0;
  /** Samples discarded by clear(). */
  clearedSamples = 0;
  /** mark() calls refused because maxMarks were pending. */
  refusedMarks = 0;

  constructor(opts: PlayoutBufferOptions) {
    this.sampleRateHz = opts.sampleRateHz;
    this.maxSamples = Math.max(1, Math.round(((opts.maxBufferMs ?? 60_000) * opts.sampleRateHz) / 1000));
    const initial = Math.round(((opts.initialBufferMs ?? 500) * opts.sampleRateHz) / 1000);
    this.ring = new Int16Array(Math.max(1, Math.min(this.maxSamples, initial)));
    this.maxMarks = opts.maxMarks ?? 1024;
  }

  /** Samples waiting to be pulled. */
  get bufferedSamples(): number {
    return this.writePos - this.readPos;
  }

  /** Buffered audio in milliseconds. */
  get bufferedMs(): number {
    return (this.bufferedSamples * 1000) / this.sampleRateHz;
  }

  /** Marks not yet reported by pull() or clear(). */
  get pendingMarks(): number {
    return this.markPos.length - this.markHead;
  }

  /**
   * Samples that can be pulled before the next pending mark is reached (0 when the mark is at the
   * read position), or -1 when no mark is pending.
   */
  samplesBeforeNextMark(): number {
    if (this.markHead >= this.markPos.length) return -1;
    return Math.max(0, this.markPos[this.markHead] - this.readPos);
  }

  /**
   * Copies `n` samples (default all) of `pcm` into the buffer. When the bound is reached the oldest
   * samples are dropped (counted in droppedSamples/overflows); marks they pass are reported by the
   * next pull(). Returns the number of samples dropped by this call.
   */
  push(pcm: Int16Array, n: number = pcm.length): number {
    if (n <= 0) return 0;
    let src = pcm;
    let count = n;
    let dropped = 0;
    if (count > this.maxSamples) {
      // only the newest maxSamples of this push can survive; everything older goes
      const skipped = count - this.maxSamples;
      dropped += this.bufferedSamples + skipped;
      this.writePos += skipped;
      this.readPos = this.writePos;
      src = pcm.subarray(skipped, count);
      count = this.maxSamples;
    }
    if (this.bufferedSamples + count > this.ring.length) this.grow(this.bufferedSamples + count);
    const overflow = this.bufferedSamples + count - this.ring.length;
    if (overflow > 0) {
      this.readPos += overflow;
      dropped += overflow;
    }
    this.copyIn(src, count);
    if (dropped > 0) {
      this.droppedSamples += dropped;
      this.overflows++;
    }
    return dropped;
  }

  /**
   * Places a mark after every sample pushed so far. Returns false (and counts refusedMarks) when
   * maxMarks are already pending; the caller must then answer the mark itself.
   */
  mark(name: string): boolean {
    if (this.pendingMarks >= this.maxMarks) {
      this.refusedMarks++;
      return false;
    }
    this.compactMarks();
    this.markPos.push(this.writePos);
    this.markName.push(name);
    return true;
  }

  /**
   * Moves up to `n` samples (default out.length) into `out` and reports the marks passed (every
   * mark whose preceding audio has now left the buffer, including marks placed on an empty buffer).
   * The returned object is reused; see {@link PullResult}.
   */
  pull(out: Int16Array, n: number = out.length): PullResult {
    const take = Math.min(n, this.bufferedSamples);
    const cap = this.ring.length;
    const r = this.readPos % cap;
    const first = Math.min(take, cap - r);
    out.set(this.ring.subarray(r, r + first), 0);
    if (first < take) out.set(this.ring.subarray(0, take - first), first);
    this.readPos += take;
    if (take < n && this.lastPullWasFull) this.underruns++;
    this.lastPullWasFull = n > 0 && take === n;
    this.result.samples = take;
    this.result.marks = this.takeMarksUpTo(this.readPos);
    return this.result;
  }

  /**
   * Skips up to `n` samples without copying them (same mark rules as pull()). Used when audio is
   * consumed elsewhere. Returns the same reused object as pull().
   */
  skip(n: number): PullResult {
    const take = Math.min(n, this.bufferedSamples);
    this.readPos += take;
    this.result.samples = take;
    this.result.marks = this.takeMarksUpTo(this.readPos);
    return this.result;
  }

  /**
   * Drops every buffered sample (barge-in) and returns the names of all pending marks, in order;
   * they are no longer pending afterwards.
   */
  clear(): string[] {
    this.clearedSamples += this.bufferedSamples;
    this.readPos = this.writePos;
    this.lastPullWasFull = false;
    const names = this.markName.slice(this.markHead);
    this.markPos = [];
    this.markName = [];
    this.markHead = 0;
    return names;
  }

  private takeMarksUpTo(pos: number): readonly string[] {
    if (this.markHead >= this.markPos.length || this.markPos[this.markHead] > pos) return NO_MARKS;
    const names: string[] = [];
    while (this.markHead < this.markPos.length && this.markPos[this.markHead] <= pos) {
      names.push(this.markName[this.markHead]);
      this.markHead++;
    }
    this.compactMarks();
    return names;
  }

  private compactMarks(): void {
    if (this.markHead === this.markPos.length) {
      if (this.markHead > 0) {
        this.markPos.length = 0;
        this.markName.length = 0;
        this.markHead = 0;
      }
    } else if (this.markHead >= 64 && this.markHead * 2 >= this.markPos.length) {
      this.markPos.splice(0, this.markHead);
      this.markName.splice(0, this.markHead);
      this.markHead = 0;
    }
  }

  private copyIn(src: Int16Array, count: number): void {
    const cap = this.ring.length;
    const w = this.writePos % cap;
    const first = Math.min(count, cap - w);
    this.ring.set(src.subarray(0, first), w);
    if (first < count) this.ring.set(src.subarray(first, count), 0);
    this.writePos += count;
  }

  /** Enlarges the ring (doubling, capped at maxSamples) keeping index = position % length. */
  private grow(needed: number): void {
    let size = this.ring.length;
    while (size < needed && size < this.maxSamples) size = Math.min(this.maxSamples, size * 2);
    if (size === this.ring.length) return;
    const buffered = this.bufferedSamples;
    const linear = new Int16Array(buffered);
    const cap = this.ring.length;
    const r = this.readPos % cap;
    const first = Math.min(buffered, cap - r);
    linear.set(this.ring.subarray(r, r + first), 0);
    if (first < buffered) linear.set(this.ring.subarray(0, buffered - first), first);
    this.ring = new Int16Array(size);
    this.writePos = this.readPos;
    this.copyIn(linear, buffered);
  }
}
