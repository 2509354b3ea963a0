// A scripted SIP peer on loopback UDP for twin tests.
import { createSocket, type Socket } from 'node:dgram';
import { parseSip, serializeSip, getHeader, getHeaders, type SipMessage } from '../../../src/sim/drachtio/sip-message.js';

export interface Received { msg: SipMessage; text: string; address: string; port: number }

export class UdpPeer {
  readonly sock: Socket = createSocket('udp4');
  readonly received: Received[] = [];
  onMessage: (r: Received) => void = () => {};
  async start(): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.on('message', (b, ri) => {
      const msg = parseSip(b.toString('utf8'));
      if (!msg) return;
      const r = { msg, text: b.toString('utf8'), address: ri.address, port: ri.port };
      this.received.push(r);
      this.onMessage(r);
    });
    return this.sock.address().port;
  }
  get port(): number { return this.sock.address().port; }
  send(text: string, port: number): void { this.sock.send(Buffer.from(text), port, '127.0.0.1'); }
  reply(r: Received, status: number, reason: string, extra: string[] = [], toTag = 'peer1', body = ''): void {
    let to = getHeader(r.msg, 'to') ?? '';
    if (status > 100 && !/;tag=/.test(to)) to += `;tag=${toTag}`;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...getHeaders(r.msg, 'via').map((v) => `Via: ${v}`),
      `From: ${getHeader(r.msg, 'from')}`, `To: ${to}`, `Call-ID: ${getHeader(r.msg, 'call-id')}`,
      `CSeq: ${getHeader(r.msg, 'cseq')}`, ...extra, `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    this.send(lines.join('\r\n') + '\r\n\r\n' + body, r.port);
  }
  /** Resolves with the next message matching `pred` (already received ones count). */
  next(pred: (r: Received) => boolean, after = 0): Promise<Received> {
    const found = this.received.slice(after).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const prev = this.onMessage;
      this.onMessage = (r) => { prev(r); if (pred(r)) { this.onMessage = prev; resolve(r); } };
    });
  }
  close(): Promise<void> { return new Promise((r) => this.sock.close(() => r())); }
}

export { serializeSip, getHeader };
