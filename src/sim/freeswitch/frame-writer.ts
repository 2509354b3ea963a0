import type { Socket } from 'node:net';
import type { Frame } from './frames.js';

/**
 * Test mode: split every written frame at chosen byte offsets (each piece is its own
 * socket.write, separated by `gapMs` so that the peer sees separate TCP segments).
 */
export interface SplitFrames {
  /** Offsets (0 < o < frame length) at which to cut the frame's bytes (head + body). */
  offsets(frame: Buffer): number[];
  gapMs?: number;
}

/**
 * Serialises frames onto one socket: frames never interleave; header block and body are written
 * separately (as FreeSWITCH does) or split at the configured offsets.
 */
export class FrameWriter {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly socket: Socket, private readonly split?: SplitFrames) {}

  /** Queues a frame; resolves when it was handed to the socket. */
  write(frame: Frame): Promise<void> {
    this.chain = this.chain.then(() => this.writeNow(frame));
    return this.chain;
  }

  /** Resolves after everything queued so far was written. */
  flushed(): Promise<void> { return this.chain; }

  /** Ends the socket after the queued frames. */
  end(): Promise<void> {
    this.chain = this.chain.then(() => {
      this.closed = true;
      // FreeSWITCH close()s the socket: end our side, then drop it once the data is out.
      if (!this.socket.destroyed) this.socket.end(() => this.socket.destroy());
    });
    return this.chain;
  }

  private async writeNow(frame: Frame): Promise<void> {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    if (!this.split) {
      this.socket.write(frame.head);
      if (frame.body && frame.body.length > 0) this.socket.write(frame.body);
      return;
    }
    const all = frame.body ? Buffer.concat([frame.head, frame.body]) : frame.head;
    const cuts = [...new Set(this.split.offsets(all).filter((o) => o > 0 && o < all.length))].sort((a, b) => a - b);
    let prev = 0;
    for (const c of [...cuts, all.length]) {
      if (this.socket.destroyed || !this.socket.writable) return;
      this.socket.write(all.subarray(prev, c));
      prev = c;
      if (c < all.length) await new Promise((r) => setTimeout(r, this.split?.gapMs ?? 2));
    }
  }
}
