// A raw SIP client for the torture tests: UDP datagrams or one TCP stream on loopback, collecting
// the responses it gets (status + top Via branch).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { SipStreamSplitter } from '../../../src/sim/drachtio/sip-message.js';

/** One response as seen on the wire. */
export interface Answer { status: number; reason: string; branch: string; text: string }

function answerOf(text: string): Answer | undefined {
  const m = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(text);
  if (!m) return undefined;
  const via = /\r\n(?:via|v)[ \t]*:[^\r\n]*?branch=([^;,\s]+)/i.exec(text);
  return { status: Number(m[1]), reason: m[2], branch: via?.[1] ?? '', text };
}

abstract class Collector {
  readonly answers: Answer[] = [];
  private waiters: { pred: (a: Answer) => boolean; resolve: (a: Answer) => void }[] = [];

  protected onText(text: string): void {
    const a = answerOf(text);
    if (!a) return;
    this.answers.push(a);
    this.waiters = this.waiters.filter((w) => { if (w.pred(a)) { w.resolve(a); return false; } return true; });
  }

  /** Resolves with the first answer (from index `from`) matching `pred`; rejects after `limitMs`. */
  next(pred: (a: Answer) => boolean, from = 0, limitMs = 5000): Promise<Answer> {
    const have = this.answers.slice(from).find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer in time')), limitMs);
      this.waiters.push({ pred, resolve: (a) => { clearTimeout(timer); resolve(a); } });
    });
  }
}

/** A UDP client bound to 127.0.0.1:0. */
export class UdpClient extends Collector {
  private readonly sock: UdpSocket = createSocket('udp4');
  async start(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.on('message', (b) => this.onText(b.toString('utf8')));
  }
  get port(): number { return this.sock.address().port; }
  send(text: string, port: number): void { this.sock.send(Buffer.from(text, 'utf8'), port, '127.0.0.1'); }
  close(): Promise<void> { return new Promise((r) => { try { this.sock.close(() => r()); } catch { r(); } }); }
}

/** One TCP connection; `closed` settles when the peer ends it. */
export class TcpClient extends Collector {
  private sock?: Socket;
  private readonly splitter = new SipStreamSplitter();
  closed!: Promise<void>;
  async connect(port: number): Promise<void> {
    const s = connect(port, '127.0.0.1');
    this.sock = s;
    this.closed = new Promise((r) => s.once('close', () => r()));
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => { for (const m of this.splitter.push(chunk).messages) this.onText(m); });
    await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
  }
  get port(): number { return this.sock?.localPort ?? 0; }
  send(text: string): void { this.sock?.write(text); }
  close(): void { this.sock?.destroy(); }
}
