/**
 * drachtio admin-protocol framing: `<decimal UTF-8 byte length>#<payload>`, concatenated with no
 * separator (drachtio-server src/client.cpp readMessageLength). The server drops a client whose
 * prefix has more than 5 digits or a non-digit before '#'.
 */

/** Encodes one payload as a frame. */
export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'ascii'), body]);
}

/** Result of feeding bytes: complete payloads, and an error code if the stream is now unusable. */
export interface FrameResult {
  payloads: string[];
  error?: 'SIP_SIM_BAD_FRAME';
  /**
   * With `error`: the prefix was empty (`#` first). drachtio-server then stops reading the
   * connection without closing it (BaseClient::readMessageLength hands "" to lexical_cast, whose
   * exception escapes read_handler before the next read is armed): the owner should keep the
   * socket open and ignore it. Without it, the owner closes the connection.
   */
  stall?: true;
}

/**
 * Incremental decoder. Feed chunks split anywhere (even inside the digits); it returns each
 * complete payload once. Zero-length frames (`0#`) are skipped, as drachtio-server skips them.
 * After an error it returns nothing more. Buffers at most one frame (< 100 000 bytes by the
 * 5-digit rule).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  push(chunk: Buffer): FrameResult {
    if (this.failed) return { payloads: [] };
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const payloads: string[] = [];
    for (;;) {
      let i = 0;
      while (i < this.buf.length && i <= 5 && this.buf[i] >= 0x30 && this.buf[i] <= 0x39) i++;
      if (i === this.buf.length) {
        if (i > 5) return this.fail(payloads);
        break; // need more digits
      }
      if (this.buf[i] !== 0x23 /* # */ || i > 5) return this.fail(payloads);
      if (i === 0) return { ...this.fail(payloads), stall: true };
      const len = Number(this.buf.subarray(0, i).toString('ascii'));
      if (this.buf.length < i + 1 + len) break;
      if (len > 0) payloads.push(this.buf.subarray(i + 1, i + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(i + 1 + len);
    }
    return { payloads };
  }

  private fail(payloads: string[]): FrameResult {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    return { payloads, error: 'SIP_SIM_BAD_FRAME' };
  }
}
