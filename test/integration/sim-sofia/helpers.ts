import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawFrameParser, type RawFrame } from '../sim-freeswitch/raw-client.js';

/** Bounded wait: rejects after ms (a safety net only, never the thing asserted). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, rej) => { timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms); }),
  ]);
}

/** One outbound-socket connection from the twin, driven like fsbridge does. */
export class OutboundConn {
  readonly frames: RawFrame[] = [];
  private waiters: (() => void)[] = [];
  private readonly parser = new RawFrameParser();
  constructor(readonly sock: Socket) {
    sock.on('data', (b) => {
      this.frames.push(...this.parser.push(b));
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }

  /** Waits for the first frame (from index `from`) matching pred. */
  async next(pred: (f: RawFrame) => boolean, from = 0): Promise<RawFrame> {
    for (let i = 0; i < 1000; i++) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    throw new Error('too many frames');
  }

  /** `connect` → the CHANNEL_DATA reply (headers URL-decoded). */
  async connect(): Promise<Record<string, string>> {
    this.sock.write('connect\n\n');
    const f = await this.next((x) => x.h['Content-Type'] === 'command/reply');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.h)) out[k] = decodeURIComponent(v);
    return out;
  }

  execute(app: string, arg?: string): void {
    this.sock.write(`sendmsg\ncall-command: execute\nexecute-app-name: ${app}\n${arg !== undefined ? `execute-app-arg: ${arg}\n` : ''}\n`);
  }

  hangup(cause = 'NORMAL_CLEARING'): void {
    this.sock.write(`sendmsg\ncall-command: hangup\nhangup-cause: ${cause}\n\n`);
  }
}

/** A listener standing in for fsbridge's outbound-socket server. */
export class OutboundListener {
  private srv: Server | undefined;
  private pending: OutboundConn[] = [];
  private waiters: ((c: OutboundConn) => void)[] = [];
  readonly all: OutboundConn[] = [];
  async listen(): Promise<number> {
    const srv = createServer({ allowHalfOpen: true }, (s) => {
      const c = new OutboundConn(s);
      this.all.push(c);
      const w = this.waiters.shift();
      if (w) w(c); else this.pending.push(c);
    });
    this.srv = srv;
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    return (srv.address() as AddressInfo).port;
  }
  accept(): Promise<OutboundConn> {
    const c = this.pending.shift();
    if (c) return Promise.resolve(c);
    return new Promise((r) => this.waiters.push(r));
  }
  async close(): Promise<void> {
    for (const c of this.all) c.sock.destroy();
    const srv = this.srv;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }
}

/** Twin with the shipped dialplan and the fsbridge SIP profile on a free port. */
export async function startTwin(outboundPort: number, o: { enable3pcc?: boolean } = {}): Promise<FreeswitchTwin> {
  const tw = new FreeswitchTwin({
    port: 0, dialplanDir: 'dialplans', sip: { host: '127.0.0.1', port: 0, enable3pcc: o.enable3pcc },
    globals: { fsbridge_outbound_socket: `127.0.0.1:${outboundPort}` },
  });
  await tw.start();
  return tw;
}

/** A UDP socket that records datagrams and lets a test wait for one. */
export class Udp {
  readonly sock: UdpSocket;
  readonly got: { data: Buffer; port: number }[] = [];
  private waiters: (() => void)[] = [];
  port = 0;
  constructor() {
    this.sock = createSocket('udp4');
    this.sock.on('message', (data, r) => {
      if (this.got.length < 5000) this.got.push({ data, port: r.port });
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async bind(): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.port = this.sock.address().port;
    return this.port;
  }
  send(data: Buffer | string, port: number): void { this.sock.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1'); }
  async wait(pred: (d: Buffer) => boolean, from = 0): Promise<Buffer> {
    for (let i = 0; i < 10000; i++) {
      const f = this.got.slice(from).find((x) => pred(x.data));
      if (f) return f.data;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    throw new Error('too many datagrams');
  }
  close(): void { try { this.sock.close(); } catch { /* closed */ } }
}

/** Power of one frequency relative to total power (Goertzel). */
export function toneRatio(pcm: Int16Array, freqHz: number, rateHz = 8000): number {
  const k = (2 * Math.cos((2 * Math.PI * freqHz) / rateHz));
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (const x of pcm) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += x * x;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return total === 0 ? 0 : (2 * power) / (pcm.length * total);
}

/** 20 ms frames of a sine. */
export function sineFrames(freqHz: number, frames: number, amplitude = 8000): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    out.push(Int16Array.from({ length: 160 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * (f * 160 + i)) / 8000))));
  }
  return out;
}

/** Header value of a SIP message text (first match, case-insensitive). */
export function sipHeader(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text.split('\r\n\r\n')[0]);
  return m?.[1]?.trim();
}
