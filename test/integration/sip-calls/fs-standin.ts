// A stand-in for FreeSWITCH's SIP profile on loopback UDP: answers, rings, or rejects INVITEs,
// answers BYE/CANCEL, and can send BYE itself. Scripted on top of the twin tests' UdpPeer.
import { UdpPeer, getHeader, type Received } from '../sip/udp-peer.js';
import { tagOf } from '../../../src/sim/drachtio/sip-message.js';

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

/**
 * A stand-in for FreeSWITCH placing fsbridge's outbound call (`originate sofia/fsbridge/...`): it
 * sends an INVITE with its offer and X-Fsbridge-Call to drachtio's SIP port, ACKs the final
 * response, answers a BYE, and can BYE or CANCEL itself. Implements the dialer's FreeswitchDialer.
 */
export class FsOriginator extends UdpPeer {
  /** The requests to originate() so far. */
  readonly originates: Array<{ callId: string; fsUuid: string; uri: string; from: string }> = [];
  readonly kills: string[] = [];
  /** What originate() does: send the INVITE ('invite'), never send it ('silent'), or fail at once. */
  mode: 'invite' | 'silent' | { fail: string } = 'invite';
  private seq = 0;
  private readonly calls = new Map<string, { callId: string; branch: string; toTag?: string; to: string; from: string; answered: boolean; done: (r: { ok: true } | { ok: false; cause: string }) => void }>();

  constructor(private readonly drachtioSipPort: () => number) {
    super();
    this.onMessage = (r) => this.handle(r);
  }

  /** FreeswitchDialer.originate */
  originate = (r: { callId: string; fsUuid: string; uri: string; from: string }): Promise<{ ok: true } | { ok: false; cause: string }> => {
    this.originates.push(r);
    if (typeof this.mode === 'object') return Promise.resolve({ ok: false, cause: this.mode.fail });
    if (this.mode === 'silent') return new Promise(() => {});
    return new Promise((done) => {
      const sipCallId = `fs-${r.fsUuid}`;
      const branch = `z9hG4bKfsuac${++this.seq}`;
      this.calls.set(sipCallId, { callId: r.callId, branch, to: `<${r.uri}>`, from: `<sip:${r.from}@127.0.0.1:${this.port}>;tag=fsuac${this.seq}`, answered: false, done });
      const c = this.calls.get(sipCallId)!;
      this.send([`INVITE ${r.uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch}`, 'Max-Forwards: 70',
        `From: ${c.from}`, `To: ${c.to}`, `Call-ID: ${sipCallId}`, 'CSeq: 1 INVITE', `Contact: <sip:fs@127.0.0.1:${this.port}>`,
        `X-Fsbridge-Call: ${r.callId}`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(FS_SDP)}`].join('\r\n') + '\r\n\r\n' + FS_SDP,
      this.drachtioSipPort());
    });
  };

  /** FreeswitchDialer.kill */
  kill = (fsUuid: string): void => { this.kills.push(fsUuid); };

  /** The INVITE FreeSWITCH sent for this call id, as drachtio forwarded nothing back: the first response seen. */
  responses(callId: string): Received[] {
    return this.received.filter((x) => x.msg.kind === 'response' && getHeader(x.msg, 'call-id') === [...this.calls].find(([, c]) => c.callId === callId)?.[0]);
  }

  /** FreeSWITCH hangs its answered leg up (BYE). */
  bye(callId: string, reason?: string): void {
    const [sipCallId, c] = [...this.calls].find(([, x]) => x.callId === callId) ?? [];
    if (!sipCallId || !c) return;
    this.send([`BYE sip:127.0.0.1:${this.drachtioSipPort()} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bKfsbye${++this.seq}`,
      'Max-Forwards: 70', `From: ${c.from}`, `To: ${c.to};tag=${c.toTag}`, `Call-ID: ${sipCallId}`, 'CSeq: 2 BYE',
      ...(reason ? [`Reason: ${reason}`] : []), 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', this.drachtioSipPort());
  }

  private handle(r: Received): void {
    const m = r.msg;
    const sipCallId = getHeader(m, 'call-id') ?? '';
    const c = this.calls.get(sipCallId);
    if (m.kind === 'request') {
      if (m.method === 'BYE') this.reply(r, 200, 'OK');
      return;
    }
    if (!c || !/INVITE/.test(getHeader(m, 'cseq') ?? '') || (m.status ?? 0) < 200) return;
    c.toTag = tagOf(getHeader(m, 'to'));
    const ack = [`ACK sip:127.0.0.1:${this.drachtioSipPort()} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${(m.status ?? 0) < 300 ? `z9hG4bKfsack${++this.seq}` : c.branch}`,
      'Max-Forwards: 70', `From: ${c.from}`, `To: ${getHeader(m, 'to')}`, `Call-ID: ${sipCallId}`, 'CSeq: 1 ACK', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n';
    this.send(ack, this.drachtioSipPort());
    if (c.answered) return; // a retransmitted final response
    c.answered = true;
    if ((m.status ?? 0) < 300) c.done({ ok: true });
    else c.done({ ok: false, cause: `SIP_${m.status}` });
  }
}
