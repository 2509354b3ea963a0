// A stand-in for one fsbridge node (drachtio-server + fsbridge) behind kamailio, for the dispatcher
// tests: a UDP SIP endpoint on 127.0.0.1 whose answers to OPTIONS and INVITE can be switched while
// it runs, and which records what it received. Loopback only: it never retransmits (no UDP loss to
// cover) and answers to the packet's source address, as RFC 3581 rport would.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** A parsed SIP request or response. Header names are lower-case long forms; values keep their order. */
export interface SipMessage {
  /** `INVITE sip:x@h SIP/2.0` or `SIP/2.0 200 OK`. */
  startLine: string;
  /** The request method, or null for a response. */
  method: string | null;
  /** The response status, or null for a request. */
  status: number | null;
  headers: [name: string, value: string][];
  body: string;
}

/** RFC 3261 7.3.3 compact forms of the headers these tests read. */
const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

/** Parses one UDP datagram as a SIP message; null when it is not one (e.g. a CRLF keepalive). */
export function parseSip(text: string): SipMessage | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = text.slice(0, end).split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: [string, string][] = [];
  for (const line of lines) {
    // RFC 3261 7.3.1: a line starting with white space continues the previous header.
    if (/^[ \t]/.test(line) && headers.length > 0) { headers[headers.length - 1][1] += ` ${line.trim()}`; continue; }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const raw = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT[raw] ?? raw, line.slice(colon + 1).trim()]);
  }
  const response = /^SIP\/2\.0 (\d{3})\b/.exec(startLine);
  const request = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(startLine);
  if (!response && !request) return null;
  return { startLine, method: request ? request[1] : null, status: response ? Number(response[1]) : null, headers, body: text.slice(end + 4) };
}

/** The first value of header `name` (lower-case long form), or undefined. */
export function header(msg: SipMessage, name: string): string | undefined {
  return msg.headers.find(([n]) => n === name)?.[1];
}

/** Every value of header `name`, in message order. */
export function headers(msg: SipMessage, name: string): string[] {
  return msg.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** What the node does with a new INVITE. */
export type InviteBehaviour =
  | 'answer' // 100 Trying, then 200 OK with Contact (and an SDP answer when the INVITE had an offer)
  | 'trying' // 100 Trying, then nothing (a hung fsbridge behind a live drachtio-server); 487 on CANCEL
  | 'silent' // nothing at all (a dead node)
  | { reject: number }; // 100 Trying, then this final status (503 draining/full, 500...)

/** What the node answers to OPTIONS: fsbridge says 200 while it takes calls, 503 while draining or full. */
export type OptionsBehaviour = 200 | 503 | 'silent';

/** One request as the node received it. */
export interface Received { msg: SipMessage; from: RemoteInfo; atMs: number }

const REASONS: Record<number, string> = { 100: 'Trying', 200: 'OK', 405: 'Method Not Allowed', 481: 'Call/Transaction Does Not Exist', 487: 'Request Terminated', 500: 'Server Internal Error', 503: 'Service Unavailable' };

/**
 * Builds the response to `req`: Via, From, Call-ID and CSeq copied, To copied with `toTag` added
 * when it has none (and the status is above 100), Record-Route copied into 2xx answers to INVITE
 * (RFC 3261 12.1.1), plus `extra` header lines and `body`.
 */
export function buildResponse(req: SipMessage, status: number, opts: { toTag?: string; extra?: string[]; body?: string; contentType?: string } = {}): string {
  const to = header(req, 'to') ?? '';
  const lines = [`SIP/2.0 ${status} ${REASONS[status] ?? 'Status'}`];
  for (const via of headers(req, 'via')) lines.push(`Via: ${via}`);
  if (req.method === 'INVITE' && status >= 200 && status < 300) for (const rr of headers(req, 'record-route')) lines.push(`Record-Route: ${rr}`);
  lines.push(`From: ${header(req, 'from') ?? ''}`);
  lines.push(`To: ${status > 100 && opts.toTag && !/;\s*tag=/i.test(to) ? `${to};tag=${opts.toTag}` : to}`);
  lines.push(`Call-ID: ${header(req, 'call-id') ?? ''}`, `CSeq: ${header(req, 'cseq') ?? ''}`);
  lines.push(...(opts.extra ?? []));
  const body = opts.body ?? '';
  if (body) lines.push(`Content-Type: ${opts.contentType ?? 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', '');
  return lines.join('\r\n') + body;
}

/** The CSeq method of a message (`1 INVITE` -> `INVITE`). */
function cseqMethod(msg: SipMessage): string {
  return (header(msg, 'cseq') ?? '').split(/\s+/)[1] ?? '';
}

/**
 * One fake node. `listen()` binds 127.0.0.1 on a free port; `invite` and `options` can be changed
 * at any time and apply to requests that arrive afterwards (a retransmitted INVITE gets the answer
 * its first copy got). `close()` is safe to call twice.
 */
export class FakeSipNode {
  readonly name: string;
  invite: InviteBehaviour = 'answer';
  options: OptionsBehaviour = 200;
  /** The first copy of each INVITE, by Call-ID (retransmissions are not counted again). */
  readonly invites = new Map<string, Received>();
  readonly acks = new Map<string, Received>();
  readonly byes = new Map<string, Received>();
  readonly cancels = new Map<string, Received>();
  /** OPTIONS requests received (each probe counts once). */
  optionsCount = 0;
  private socket: Socket | null = null;
  private closed: Promise<void> | null = null;
  /** Responses sent per INVITE (Call-ID + CSeq), resent as they are to a retransmitted INVITE. */
  private answered = new Map<string, string[]>();
  /** INVITEs still without a final answer, by Call-ID (the 'trying' behaviour). */
  private pending = new Map<string, SipMessage>();

  constructor(name: string) {
    this.name = name;
  }

  /** Binds 127.0.0.1 on a free port; resolves the port. */
  async listen(): Promise<number> {
    const s = createSocket('udp4');
    this.socket = s;
    s.on('message', (buf, from) => this.onDatagram(buf.toString('utf8'), from));
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return this.port;
  }

  get port(): number {
    if (!this.socket) throw new Error('FakeSipNode: not listening');
    return this.socket.address().port;
  }

  /** The node's address as a dispatcher destination. */
  get uri(): string {
    return `sip:127.0.0.1:${this.port}`;
  }

  /** Arrival time (ms since the epoch) of the newest INVITE, or null before the first. */
  lastInviteAtMs(): number | null {
    let last: number | null = null;
    for (const r of this.invites.values()) if (last === null || r.atMs > last) last = r.atMs;
    return last;
  }

  /** Closes the socket; safe to call twice. */
  close(): Promise<void> {
    if (!this.closed) {
      const s = this.socket;
      this.closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
    }
    return this.closed;
  }

  private send(text: string, to: RemoteInfo): void {
    if (this.socket && !this.closed) this.socket.send(text, to.port, to.address);
  }

  private onDatagram(text: string, from: RemoteInfo): void {
    const msg = parseSip(text);
    if (!msg || msg.method === null) return; // a node never sends requests, so no response is expected
    const callId = header(msg, 'call-id') ?? '';
    const rec: Received = { msg, from, atMs: Date.now() };
    switch (msg.method) {
      case 'OPTIONS':
        this.optionsCount++;
        if (this.options !== 'silent') this.send(buildResponse(msg, this.options, { toTag: `${this.name}-opt` }), from);
        return;
      case 'INVITE':
        return this.onInvite(msg, callId, rec);
      case 'ACK':
        if (!this.acks.has(callId)) this.acks.set(callId, rec);
        return;
      case 'BYE':
        if (!this.byes.has(callId)) this.byes.set(callId, rec);
        this.send(buildResponse(msg, this.invites.has(callId) ? 200 : 481, { toTag: `${this.name}-bye` }), from);
        return;
      case 'CANCEL': {
        if (!this.cancels.has(callId)) this.cancels.set(callId, rec);
        const invite = this.pending.get(callId);
        this.send(buildResponse(msg, invite ? 200 : 481, { toTag: this.tagFor(callId) }), from);
        if (invite) {
          this.pending.delete(callId);
          this.respond(invite, 487, from);
        }
        return;
      }
      default:
        this.send(buildResponse(msg, 405, { toTag: `${this.name}-405`, extra: ['Allow: INVITE, ACK, BYE, CANCEL, OPTIONS'] }), from);
    }
  }

  private onInvite(msg: SipMessage, callId: string, rec: Received): void {
    const key = `${callId} ${header(msg, 'cseq') ?? ''}`;
    const sent = this.answered.get(key);
    if (sent) { for (const r of sent) this.send(r, rec.from); return; }
    if (!this.invites.has(callId)) this.invites.set(callId, rec);
    const b = this.invite;
    if (b === 'silent') return;
    this.answered.set(key, []);
    this.respond(msg, 100, rec.from);
    if (b === 'trying') { this.pending.set(callId, msg); return; }
    if (b === 'answer') {
      const offer = msg.body.length > 0 && /application\/sdp/i.test(header(msg, 'content-type') ?? '');
      const sdp = ['v=0', `o=${this.name} 1 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
      this.respond(msg, 200, rec.from, [`Contact: <sip:${this.name}@127.0.0.1:${this.port}>`], offer ? sdp : '');
      return;
    }
    this.respond(msg, b.reject, rec.from);
  }

  private respond(req: SipMessage, status: number, to: RemoteInfo, extra: string[] = [], body = ''): void {
    const text = buildResponse(req, status, { toTag: this.tagFor(header(req, 'call-id') ?? ''), extra, body });
    if (cseqMethod(req) === 'INVITE') this.answered.get(`${header(req, 'call-id') ?? ''} ${header(req, 'cseq') ?? ''}`)?.push(text);
    this.send(text, to);
  }

  /** One To tag per call, naming the node (so a log line says who answered). */
  private tagFor(callId: string): string {
    let h = 0;
    for (let i = 0; i < callId.length; i++) h = (h * 31 + callId.charCodeAt(i)) >>> 0;
    return `${this.name}-${h.toString(16)}`;
  }
}
