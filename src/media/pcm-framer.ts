/**
 * Turns binary websocket messages of L16 little-endian audio into sample views.
 *
 * mod_audio_stream normally sends whole 20 ms frames, but a message may be shorter or longer, and
 * nothing in the protocol forbids an odd byte count (reference/protocols.md §2.5): an odd trailing
 * byte is carried to the next message, so any split of the byte stream gives the same samples.
 * Pure; allocation-free for steady message sizes (the returned view is cached per length).
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Scratch allocated at first: 100 ms of 16 kHz stereo L16 (bigger messages grow it, rarely). */
const INITIAL_SCRATCH_BYTES = 6400;

export class PcmFramer {
  private carry = -1;
  private scratch: Int16Array;
  private bytes: Uint8Array;
  private lastView: Int16Array;

  /** `maxMessageBytes`: the largest message push() will be given (the websocket's maxPayload). */
  constructor(readonly maxMessageBytes: number) {
    this.scratch = new Int16Array(Math.ceil((Math.min(maxMessageBytes, INITIAL_SCRATCH_BYTES) + 2) / 2));
    this.bytes = new Uint8Array(this.scratch.buffer);
    this.lastView = this.scratch.subarray(0, 0);
  }

  /** True when an odd byte is waiting for the next message. */
  get hasCarry(): boolean {
    return this.carry >= 0;
  }

  /**
   * Returns the whole samples now available: the carried byte (if any) joined with `data`. The
   * view is valid until the next push(). Throws RangeError if `data` exceeds maxMessageBytes.
   */
  push(data: Uint8Array): Int16Array {
    const len = data.length;
    if (len > this.maxMessageBytes) throw new RangeError('message larger than maxMessageBytes');
    // Grown to the largest message seen (never shrunk): steady message sizes allocate nothing.
    if (len + 1 > this.bytes.length) {
      this.scratch = new Int16Array(Math.ceil((len + 2) / 2));
      this.bytes = new Uint8Array(this.scratch.buffer);
      this.lastView = this.scratch.subarray(0, 0);
    }
    const bytes = this.bytes;
    let total = len;
    if (this.carry >= 0) {
      bytes[0] = this.carry;
      bytes.set(data, 1);
      total = len + 1;
      this.carry = -1;
    } else {
      bytes.set(data, 0);
    }
    const n = total >> 1;
    if (total & 1) this.carry = bytes[total - 1];
    if (!LITTLE_ENDIAN_HOST) {
      for (let i = 0; i < n; i++) this.scratch[i] = ((bytes[2 * i + 1] << 8) | bytes[2 * i]) << 16 >> 16;
    }
    if (this.lastView.length !== n) this.lastView = this.scratch.subarray(0, n);
    return this.lastView;
  }

  /** Drops a carried byte (new stream). */
  reset(): void {
    this.carry = -1;
  }
}
