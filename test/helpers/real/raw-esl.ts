// A raw Event Socket client for differential tests: sends exactly the bytes it is given and keeps
// every frame it receives (parsed with fsbridge's own frame parser), so that two servers can be
// compared on what a client sees.
import { connect, type Socket } from 'node:net';
import { EslFrameParser, type EslFrame } from '../../../src/esl/frame-parser.js';
import type { Transcript } from './esl-diff.js';
import { eventHeaders } from './esl-diff.js';

/** One recorded connection to 127.0.0.1:port. Every wait is bounded; close() is idempotent. */
export class RawEsl {
  readonly frames: EslFrame[] = [];
  closedByServer = false;
  private closedByUs = false;
  private replies = 0;
  private lastFrameMs = Date.now();
  private readonly parser = new EslFrameParser();
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const r = this.parser.feed(chunk);
      this.frames.push(...r.frames);
      if (r.frames.length) this.lastFrameMs = Date.now();
      this.wake();
    });
    socket.on('error', () => { /* seen as close */ });
    socket.on('close', () => {
      if (!this.closedByUs) this.closedByServer = true;
      this.wake();
    });
  }

  /** Connects; rejects when the connection fails. */
  static open(port: number): Promise<RawEsl> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.off('error', reject); resolve(new RawEsl(s)); });
      s.once('error', reject);
    });
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  /** Resolves when `cond()` holds; rejects after timeoutMs or when the connection closed first. */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closedByServer || this.closedByUs) throw new Error(`connection closed while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(timer); r(); });
      });
    }
  }

  /** Writes one command: the text (which may hold header lines) and the blank line that ends it. */
  send(text: string): void { this.socket.write(`${text}\n\n`); }

  private replyFrames(): EslFrame[] {
    return this.frames.filter((f) => f.contentType === 'command/reply' || f.contentType === 'api/response' || f.contentType === 'auth/request');
  }

  /** The next reply-like frame (auth/request, command/reply, api/response) not yet returned. */
  async reply(what = 'a reply'): Promise<EslFrame> {
    await this.until(() => this.replyFrames().length > this.replies, what);
    return this.replyFrames()[this.replies++];
  }

  /** Sends a command and waits for its reply. */
  async cmd(text: string): Promise<EslFrame> {
    this.send(text);
    return this.reply(`the reply to ${text.split('\n')[0]}`);
  }

  /** Every event received so far, as header maps. */
  events(): Array<Record<string, string>> {
    return this.frames.flatMap((f) => { const h = eventHeaders(f); return h ? [h] : []; });
  }

  /** Waits until `n` events matching `pred` arrived in total. */
  async waitEvents(pred: (h: Record<string, string>) => boolean, n = 1, what = 'an event', timeoutMs = 10_000): Promise<Array<Record<string, string>>> {
    await this.until(() => this.events().filter(pred).length >= n, what, timeoutMs);
    return this.events().filter(pred);
  }

  /** `bgapi <line>`: waits for the reply and for the job's BACKGROUND_JOB (subscribe to it first). */
  async bgapi(line: string): Promise<string> {
    const reply = await this.cmd(`bgapi ${line}`);
    const job = reply.headers['Job-UUID'];
    if (!job) throw new Error(`bgapi ${line}: ${reply.headers['Reply-Text']}`);
    const [ev] = await this.waitEvents((h) => h['Event-Name'] === 'BACKGROUND_JOB' && h['Job-UUID'] === job, 1, `the job of bgapi ${line}`);
    return ev._body ?? '';
  }

  /** Waits until no frame arrived for quietMs (at most maxMs in all): late events come in. */
  async settle(quietMs = 300, maxMs = 3000): Promise<void> {
    const start = Date.now();
    const end = start + maxMs;
    while (Date.now() < end && !this.closedByServer && Date.now() - Math.max(this.lastFrameMs, start) < quietMs) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the server closed the connection. */
  async closed(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closedByServer && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  }

  /** What was received so far. */
  transcript(): Transcript {
    return { frames: [...this.frames], closedByServer: this.closedByServer };
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (!this.closedByServer) this.closedByUs = true;
    this.socket.destroy();
  }
}
