import { connect, type Socket } from 'node:net';

/** One frame received from the twin: header lines in order, parsed map, body text. */
export interface RawFrame {
  readonly head: string;
  readonly names: string[];
  readonly h: Record<string, string>;
  readonly body: string;
  /** Exact bytes of the frame. */
  readonly raw: Buffer;
}

/** Splits a byte stream into ESL frames (header block + Content-Length body). */
export class RawFrameParser {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): RawFrame[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: RawFrame[] = [];
    for (;;) {
      const e = this.buf.indexOf('\n\n');
      if (e < 0) break;
      const head = this.buf.subarray(0, e).toString('utf8');
      const names: string[] = [];
      const h: Record<string, string> = {};
      for (const l of head.split('\n')) {
        const k = l.indexOf(': ');
        if (k < 0) continue;
        names.push(l.slice(0, k));
        if (!(l.slice(0, k) in h)) h[l.slice(0, k)] = l.slice(k + 2);
      }
      const len = h['Content-Length'] !== undefined ? Number(h['Content-Length']) : 0;
      if (this.buf.length < e + 2 + len) break;
      const raw = Buffer.from(this.buf.subarray(0, e + 2 + len));
      out.push({ head, names, h, body: this.buf.subarray(e + 2, e + 2 + len).toString('utf8'), raw });
      this.buf = this.buf.subarray(e + 2 + len);
    }
    return out;
  }
}

/** Parses a whole capture file into frames. */
export function framesOf(buf: Buffer): RawFrame[] {
  return new RawFrameParser().push(buf);
}

/** A minimal ESL client for exact-byte tests. */
export class RawClient {
  readonly frames: RawFrame[] = [];
  readonly bytes: Buffer[] = [];
  ended = false;
  private waiters: (() => void)[] = [];
  private readonly parser = new RawFrameParser();
  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.bytes.push(c);
      this.frames.push(...this.parser.push(c));
      this.wake();
    });
    socket.on('end', () => { this.ended = true; this.wake(); });
    socket.on('close', () => { this.ended = true; this.wake(); });
    socket.on('error', () => {});
  }
  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  send(text: string | Buffer): void { this.socket.write(text); }
  /** Waits until `n` frames have arrived in total (bounded by timeoutMs). */
  async waitFrames(n: number, timeoutMs = 5000): Promise<RawFrame[]> {
    const until = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.ended || Date.now() > until) throw new Error(`only ${this.frames.length} frames (wanted ${n})`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
    return this.frames.slice(0, n);
  }
  /** Waits for a frame matching pred, starting at index from. */
  async waitFor(pred: (f: RawFrame) => boolean, timeoutMs = 5000): Promise<RawFrame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.ended || Date.now() > until) throw new Error('frame not seen');
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }
  async waitEnd(timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > until) throw new Error('no end');
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }
  close(): void { this.socket.destroy(); }
}

/** Reply-Text of a command/reply frame. */
export const replyText = (f: RawFrame): string | undefined => f.h['Reply-Text'];

/** Event header names of a plain event body (outer frame body). */
export function plainNames(body: string): string[] {
  const end = body.indexOf('\n\n');
  const head = end < 0 ? body : body.slice(0, end);
  return head.split('\n').filter((l) => l.includes(': ')).map((l) => l.slice(0, l.indexOf(': ')));
}

/** Key names of a JSON event body in order (duplicates kept). */
export function jsonNames(body: string): string[] {
  return [...body.matchAll(/"((?:[^"\\]|\\.)*)":"(?:[^"\\]|\\.)*"/g)].map((m) => m[1]);
}
