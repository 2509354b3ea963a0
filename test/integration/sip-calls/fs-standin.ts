// A stand-in for FreeSWITCH's SIP profile on loopback UDP: answers, rings, or rejects INVITEs,
// answers BYE/CANCEL, and can send BYE itself. Scripted on top of the twin tests' UdpPeer.
import { UdpPeer, getHeader, type Received } from '../sip/udp-peer.js';

export const FS_SDP = 'v=0\r\no=FreeSWITCH 1 1 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n';

export type FsMode = 'answer' | 'ring' | { status: number; reason: string };

export class FsStandin extends UdpPeer {
  mode: FsMode = 'answer';
  /** Sent in the 200 OK; defaults to FS_SDP. */
  answerSdp = FS_SDP;
  private seq = 0;
  constructor() {
    super();
    this.onMessage = (r) => this.handle(r);
  }
  invites(): Received[] { return this.received.filter((r) => r.msg.kind === 'request' && r.msg.method === 'INVITE'); }
  private handle(r: Received): void {
    const m = r.msg;
    if (m.kind !== 'request') return;
    const tagFor = (x: Received) => 'fs' + (getHeader(x.msg, 'call-id') ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
    if (m.method === 'INVITE') {
      const contact = [`Contact: <sip:fs@127.0.0.1:${this.port}>`];
      if (this.received.filter((x) => x.msg.method === 'INVITE' && getHeader(x.msg, 'via') === getHeader(m, 'via')).length > 1) return; // retransmission
      if (typeof this.mode === 'object') { this.reply(r, this.mode.status, this.mode.reason, [], tagFor(r)); return; }
      this.reply(r, 180, 'Ringing', contact, tagFor(r));
      if (this.mode === 'answer') {
        // with an offer this is the answer; without one (3PCC) it is FreeSWITCH's offer
        this.reply(r, 200, 'OK', [...contact, 'Content-Type: application/sdp'], tagFor(r), this.answerSdp);
      }
    } else if (m.method === 'BYE') {
      this.reply(r, 200, 'OK');
    } else if (m.method === 'CANCEL') {
      this.reply(r, 200, 'OK');
      const inv = this.invites().find((x) => getHeader(x.msg, 'call-id') === getHeader(m, 'call-id'));
      if (inv) this.reply(inv, 487, 'Request Terminated', [], tagFor(inv));
    }
  }
  /** Sends BYE in the dialog of the INVITE `inv` (answered earlier) to drachtio's SIP port. */
  bye(inv: Received, drachtioSipPort: number, reason?: string): void {
    const tag = 'fs' + (getHeader(inv.msg, 'call-id') ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
    this.send([`BYE sip:127.0.0.1:${drachtioSipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bKfsbye${++this.seq}`,
      'Max-Forwards: 70', `From: ${getHeader(inv.msg, 'to')};tag=${tag}`, `To: ${getHeader(inv.msg, 'from')}`,
      `Call-ID: ${getHeader(inv.msg, 'call-id')}`, 'CSeq: 100 BYE', ...(reason ? [`Reason: ${reason}`] : []), 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', drachtioSipPort);
  }
}

export { getHeader };
