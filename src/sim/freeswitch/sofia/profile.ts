/**
 * The twin's SIP profile (mod_sofia subset, UDP): OPTIONS, inbound INVITE with SDP (without:
 * 480, or with `enable3pcc` the offer goes in the 200 and the answer comes in the ACK), 100/183/200 with 2xx
 * retransmission until ACK, BYE both ways with a Q.850 Reason, CANCEL, 481 for unknown dialogs.
 * Every inbound INVITE becomes a channel `sofia/<profile>/<from-user>@<from-host>` that runs the
 * profile's dialplan context; its media is RTP on a port of its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { Clock } from '../../../clock.js';
import type { Logger } from '../../../observability/logger.js';
import {
  getHeader, getHeaders, parseSip, serializeSip, SipStreamSplitter, tagOf, uriOf, uriTarget, viaBranch, type SipHeader, type SipMessage,
} from '../../drachtio/sip-message.js';
import { checkSip } from '../../drachtio/sip-sanity.js';
import type { SIP_SIM_ERRORS } from '../../drachtio/error-codes.js';
import { HANGUP_CAUSES } from '../channel-state.js';
import { SRC } from '../event-factory.js';
import type { CallerProfile } from '../channel.js';
import { originationUuid, type FsCore } from '../core.js';
import type { Session } from '../session.js';
import { causeToSipStatus, REASON_PHRASES } from './causes.js';
import { RtpEndpoint } from './rtp.js';
import { buildAnswerSdp, buildOfferSdp, negotiate, parseSdpAudio, type Negotiated, type RemoteAudio } from './sdp.js';

/** Server / User-Agent of FreeSWITCH 1.10.12 (captured: drachtio/srf-check.txt). */
export const SOFIA_USER_AGENT = 'FreeSWITCH-mod_sofia/1.10.12-release~64bit';
const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, NOTIFY';
const SUPPORTED = 'timer, path, replaces';
/** RFC 3261 timers. */
const T1_MS = 500;
const T2_MS = 4000;
const MAX_DIALOGS = 1000;
const MAX_DATAGRAM_BYTES = 65_535;

/** Options of the sofia profile. */
export interface SofiaProfileOptions {
  core: FsCore;
  clock: Clock;
  logger: Logger;
  /** Profile name (channel names, sofia_profile_name). Default `fsbridge`. */
  name?: string;
  /** sip-ip / rtp-ip. Default 127.0.0.1. */
  host?: string;
  /** sip-port; 0 = any free port. Default 5080. */
  port?: number;
  /** Dialplan context of inbound calls. Default `fsbridge`. */
  context?: string;
  /**
   * `enable-3pcc`: accept an INVITE without SDP (the offer goes in the 200 once the dialplan
   * answers, as `enable-3pcc=proxy` does). Default false, as the shipped profile: FreeSWITCH
   * 1.10.12 then answers such an INVITE `480` with Reason Q.850 cause 96 (MANDATORY_IE_MISSING),
   * without a 100 Trying (seen on the real program).
   */
  enable3pcc?: boolean;
}

/** Where a message came from / goes to; `tcp` = the connection it arrived on. */
interface Peer { address: string; port: number; tcp?: TcpSocket }

interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** The remote's From header value (our To in requests we send). */
  remoteNameAddr: string;
  /** Our To header value with our tag (our From in requests we send). */
  localNameAddr: string;
  remoteTarget: string;
  routeSet: string[];
  src: Peer;
  localCseq: number;
  session: Session;
  rtp: RtpEndpoint;
  rtpPort: number;
  invite: SipMessage;
  inviteBranch: string;
  /** Last response to the INVITE (retransmitted for INVITE retransmissions). */
  lastInviteResponse: string | undefined;
  finalSent: boolean;
  acked: boolean;
  confirmed: boolean;
  lateSdp: boolean;
  negotiated: Negotiated | undefined;
  remote: RemoteAudio | undefined;
  localSdp: string | undefined;
  sdpOrigin: { sessionId: number; version: number };
  progressSent: boolean;
  /** Hang-up came from the remote (BYE / CANCEL): no BYE back. */
  remoteEnded: boolean;
  cancelRetransmit: () => void;
  unwatch: () => void;
  /** Outgoing leg (we sent the INVITE). */
  uac?: { target: Peer; settle: (r: Session | string) => void; settled: boolean; inviteText: string };
}

/**
 * One SIP profile of the twin. start() binds UDP; close() ends every dialog's RTP and the socket.
 */
export class SofiaProfile {
  private sock: Socket | undefined;
  private boundPort = 0;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly byBranch = new Map<string, Dialog>();
  /** Our outgoing INVITEs by Via branch (kept apart: a call to the twin itself reuses the branch). */
  private readonly uacInvites = new Map<string, Dialog>();
  private readonly pendingInvites = new Set<string>();
  private readonly uacTransactions = new Map<string, () => void>();
  private readonly timers = new Set<() => void>();
  private closed = false;
  private tcp: Server | undefined;
  private readonly tcpConns = new Set<TcpSocket>();
  readonly name: string;
  private readonly host: string;
  private readonly context: string;

  constructor(private readonly o: SofiaProfileOptions) {
    this.name = o.name ?? 'fsbridge';
    this.host = o.host ?? '127.0.0.1';
    this.context = o.context ?? 'fsbridge';
  }

  /** The bound SIP port (after start). */
  get port(): number { return this.boundPort; }

  /** Binds the SIP UDP socket. */
  async start(): Promise<void> {
    const s = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.sock = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.o.port ?? 5080, this.host, () => { s.off('error', reject); resolve(); });
    });
    s.on('error', (err) => this.o.logger.warn({ err }, 'sim sofia: socket error'));
    s.on('message', (b, rinfo) => this.onDatagram(b, { address: rinfo.address, port: rinfo.port }));
    this.o.core.registerEndpoint('sofia', (req) => this.originate(req));
    this.boundPort = s.address().port;
    await this.listenTcp();
    this.o.logger.info({ port: this.boundPort, profile: this.name }, 'sim sofia: listening');
  }

  /** TCP on the same port (RFC 3261 §18: UDP and TCP together); skipped with a warning when the port is taken. */
  private async listenTcp(): Promise<void> {
    const srv = createServer((c) => this.acceptTcp(c));
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.boundPort, this.host, () => { srv.off('error', reject); resolve(); });
      });
      srv.on('error', () => {});
      this.tcp = srv;
    } catch (err) {
      this.o.logger.warn({ err, port: this.boundPort }, 'sim sofia: tcp listen failed, udp only');
    }
  }

  private acceptTcp(c: TcpSocket): void {
    if (this.closed || this.tcpConns.size >= MAX_DIALOGS) { c.destroy(); return; }
    this.tcpConns.add(c);
    c.on('close', () => this.tcpConns.delete(c));
    c.on('error', () => {});
    const split = new SipStreamSplitter(MAX_DATAGRAM_BYTES);
    const peer: Peer = { address: c.remoteAddress ?? '', port: c.remotePort ?? 0, tcp: c };
    c.on('data', (chunk) => {
      const { messages, overflow, framingError } = split.push(chunk);
      for (const m of messages) this.onDatagram(Buffer.from(m, 'utf8'), peer);
      if (framingError) c.end(); // a bad Content-Length breaks the framing (RFC 4475 §3.1.2.3)
      else if (overflow) c.destroy();
    });
  }

  /** Closes RTP sockets, timers and the SIP socket (idempotent). Hang channels up first for BYEs to go out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.timers]) c();
    this.timers.clear();
    for (const d of this.dialogs.values()) { d.cancelRetransmit(); d.rtp.close(); }
    for (const c of this.tcpConns) c.destroy();
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
    const s = this.sock;
    this.sock = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private timer(fn: () => void, ms: number): () => void {
    if (this.closed) return () => {};
    const cancel = this.o.clock.setTimeout(() => { this.timers.delete(cancel); fn(); }, ms);
    this.timers.add(cancel);
    return () => { cancel(); this.timers.delete(cancel); };
  }

  /** Sends on the peer's TCP connection when it has one, else as a UDP datagram. */
  private send(text: string, peer: Peer): void {
    if (this.closed) return;
    if (peer.tcp) {
      if (!peer.tcp.destroyed && peer.tcp.writable) peer.tcp.write(text);
      return;
    }
    this.sock?.send(Buffer.from(text, 'utf8'), peer.port, peer.address);
  }

  private get hostPort(): string { return `${this.host}:${this.boundPort}`; }

  private onDatagram(b: Buffer, rinfo: Peer): void {
    if (b.length > MAX_DATAGRAM_BYTES) return;
    const text = b.toString('utf8');
    if (text.trim() === '') return; // CRLF keep-alive
    const verdict = checkSip(text, rinfo.tcp !== undefined);
    if (verdict.action !== 'accept') {
      // sofia-sip answers a malformed request 400 (505 for another version) when its Via is usable,
      // drops anything else, and shuts a stream down afterwards (nta.c agent_recv_request).
      const code: keyof typeof SIP_SIM_ERRORS = 'SIP_SIM_BAD_SIP_FROM_NETWORK';
      this.o.logger.warn({ code, from: rinfo.address, why: verdict.why, status: verdict.action === 'reply' ? verdict.status : 0 }, 'sim sofia: malformed SIP message refused');
      if (verdict.action === 'reply') this.send(this.buildResponse(verdict.msg, rinfo, verdict.status, [], '', tagOf(getHeader(verdict.msg, 'to')) ? undefined : randomTag(), verdict.reason), rinfo);
      rinfo.tcp?.end();
      return;
    }
    const msg = parseSip(text);
    if (!msg) return; // not reached: checkSip accepted it
    if (msg.kind === 'response') { this.onResponse(msg); return; }
    const via = getHeader(msg, 'via');
    if (!via) return; // nowhere to answer
    const cseq = getHeader(msg, 'cseq');
    const cseqOk = cseq !== undefined && new RegExp(`^\\d+\\s+${msg.method}$`, 'i').test(cseq.trim());
    if (!getHeader(msg, 'from') || !getHeader(msg, 'to') || !getHeader(msg, 'call-id') || !cseqOk) {
      if (msg.method !== 'ACK') this.respond(msg, rinfo, 400);
      return;
    }
    try {
      this.onRequest(msg, rinfo);
    } catch (err) {
      this.o.logger.error({ err }, 'sim sofia: request handling failed');
    }
  }

  private onRequest(msg: SipMessage, rinfo: Peer): void {
    const toTag = tagOf(getHeader(msg, 'to'));
    const callId = getHeader(msg, 'call-id') as string;
    const d = toTag ? this.dialogs.get(`${callId};${toTag}`) : undefined;
    switch (msg.method) {
      case 'OPTIONS':
        this.respond(msg, rinfo, 200, [['Accept', 'application/sdp'], ['Accept-Language', 'en']]);
        return;
      case 'INVITE':
        if (toTag) {
          if (!d) { this.respond(msg, rinfo, 481); return; }
          this.onReInvite(d, msg, rinfo);
          return;
        }
        this.onInvite(msg, rinfo);
        return;
      case 'ACK':
        if (d) this.onAck(d, msg);
        return;
      case 'BYE':
        if (!d) { this.respond(msg, rinfo, 481); return; }
        this.respond(msg, rinfo, 200);
        d.remoteEnded = true;
        d.cancelRetransmit();
        d.session.channel.setVar('sip_hangup_disposition', 'recv_bye');
        d.session.hangup('NORMAL_CLEARING');
        return;
      case 'CANCEL': {
        const inv = this.byBranch.get(viaBranch(getHeader(msg, 'via')) ?? '');
        if (!inv || inv.callId !== callId) { this.respond(msg, rinfo, 481); return; }
        this.respond(msg, rinfo, 200, [], inv.localTag);
        if (inv.finalSent) return;
        inv.remoteEnded = true;
        inv.session.channel.setVar('sip_hangup_disposition', 'recv_cancel');
        this.sendFinal(inv, 487);
        inv.session.hangup('ORIGINATOR_CANCEL');
        return;
      }
      case 'INFO': case 'UPDATE': case 'NOTIFY': case 'MESSAGE':
        this.respond(msg, rinfo, toTag && !d ? 481 : 200);
        return;
      case 'REGISTER':
        // disable-register=true
        this.respond(msg, rinfo, 403);
        return;
      default:
        this.respond(msg, rinfo, 501);
    }
  }

  private onResponse(msg: SipMessage): void {
    const branch = viaBranch(getHeader(msg, 'via'));
    const inv = msg.method === 'INVITE' && branch ? this.uacInvites.get(branch) : undefined;
    if (inv?.uac) { this.onInviteResponse(inv, msg); return; }
    if (msg.status < 200) return;
    const stop = branch ? this.uacTransactions.get(branch) : undefined;
    stop?.();
  }

  /** Builds a response: Vias (top one with received/rport), From, To (+ tag), Call-ID, CSeq. */
  private buildResponse(req: SipMessage, rinfo: Peer, status: number, extra: [string, string][] = [], body = '', toTag?: string, reason?: string): string {
    const h: SipHeader[] = [];
    const vias = req.headers.filter((x) => /^(via|v)$/i.test(x.name));
    vias.forEach((v, i) => {
      let value = v.value;
      if (i === 0) {
        value = value.replace(/;\s*rport(?=;|$)/i, `;rport=${rinfo.port}`);
        if (!/;\s*received=/i.test(value)) value += `;received=${rinfo.address}`;
      }
      h.push({ name: 'Via', value });
    });
    h.push({ name: 'From', value: getHeader(req, 'from') ?? '' });
    let to = getHeader(req, 'to') ?? '';
    if (toTag && !tagOf(to)) to += `;tag=${toTag}`;
    h.push({ name: 'To', value: to });
    h.push({ name: 'Call-ID', value: getHeader(req, 'call-id') ?? '' });
    h.push({ name: 'CSeq', value: getHeader(req, 'cseq') ?? '' });
    for (const [name, value] of extra) h.push({ name, value });
    h.push({ name: 'User-Agent', value: SOFIA_USER_AGENT });
    h.push({ name: 'Allow', value: ALLOW });
    h.push({ name: 'Supported', value: SUPPORTED });
    if (body !== '') h.push({ name: 'Content-Type', value: 'application/sdp' }, { name: 'Content-Disposition', value: 'session' });
    h.push({ name: 'Content-Length', value: String(Buffer.byteLength(body)) });
    return serializeSip({ kind: 'response', method: req.method, uri: '', status, reason: reason ?? REASON_PHRASES[status] ?? 'Unknown', headers: h, body });
  }

  /** A response outside an INVITE dialog's own flow; final responses to requests without a To tag get one. */
  private respond(req: SipMessage, rinfo: Peer, status: number, extra: [string, string][] = [], toTag?: string): void {
    const needTag = status >= 200 && !tagOf(getHeader(req, 'to'));
    this.send(this.buildResponse(req, rinfo, status, extra, '', needTag ? toTag ?? randomTag() : undefined), rinfo);
  }

  private contact(user: string): string { return `<sip:${user}@${this.hostPort};transport=udp>`; }

  private onInvite(msg: SipMessage, rinfo: Peer): void {
    const branch = viaBranch(getHeader(msg, 'via')) ?? '';
    const known = this.byBranch.get(branch);
    if (known) {
      // Retransmitted INVITE: repeat the last response.
      if (known.lastInviteResponse) this.send(known.lastInviteResponse, rinfo);
      return;
    }
    if (this.pendingInvites.has(branch)) return; // retransmission while the channel is being set up
    if (this.dialogs.size >= MAX_DIALOGS) { this.respond(msg, rinfo, 503); return; }
    const hasSdp = msg.body.trim() !== '' && /application\/sdp/i.test(getHeader(msg, 'content-type') ?? '');
    if (!hasSdp && !this.o.enable3pcc) {
      this.send(this.buildResponse(msg, rinfo, 480, [['Reason', q850('MANDATORY_IE_MISSING')]], '', randomTag()), rinfo);
      return;
    }
    const trying = this.buildResponse(msg, rinfo, 100);
    this.send(trying, rinfo);
    let remote: RemoteAudio | undefined;
    let neg: Negotiated | undefined;
    if (hasSdp) {
      remote = parseSdpAudio(msg.body);
      neg = remote ? negotiate(remote) : undefined;
      if (!remote || !neg) {
        this.send(this.buildResponse(msg, rinfo, 488, [['Reason', q850('INCOMPATIBLE_DESTINATION')]], '', randomTag()), rinfo);
        return;
      }
    }
    this.pendingInvites.add(branch);
    void this.createChannel(msg, rinfo, branch, remote, neg, trying).finally(() => this.pendingInvites.delete(branch));
  }

  private async createChannel(
    msg: SipMessage, rinfo: Peer, branch: string, remote: RemoteAudio | undefined, neg: Negotiated | undefined, trying: string,
  ): Promise<void> {
    const { core } = this.o;
    const rtp = new RtpEndpoint(this.host);
    let rtpPort: number;
    try { rtpPort = await rtp.bind(); } catch (err) {
      this.o.logger.warn({ err }, 'sim sofia: cannot bind rtp');
      rtp.close();
      this.respond(msg, rinfo, 503);
      return;
    }
    if (this.closed) { rtp.close(); return; }
    const from = getHeader(msg, 'from') as string;
    const to = getHeader(msg, 'to') as string;
    const callId = getHeader(msg, 'call-id') as string;
    const fromUri = parseUri(uriOf(from));
    const toUri = parseUri(uriOf(to));
    const reqUri = parseUri(msg.uri);
    const contactVal = getHeader(msg, 'contact');
    const contactUri = contactVal ? parseUri(uriOf(contactVal)) : undefined;
    const display = /^\s*"([^"]*)"/.exec(from)?.[1] ?? /^\s*([^<"]+?)\s*</.exec(from)?.[1];
    const uuid = randomUUID();
    const localTag = randomTag();
    const profile: CallerProfile = {
      direction: 'inbound', logicalDirection: 'inbound', username: fromUri.user, dialplan: 'XML',
      callerIdName: display ?? fromUri.user, callerIdNumber: fromUri.user, origCallerIdName: display ?? fromUri.user,
      origCallerIdNumber: fromUri.user, calleeIdName: '', calleeIdNumber: '', networkAddr: rinfo.address,
      ani: fromUri.user, destinationNumber: reqUri.user, source: 'mod_sofia', context: this.context,
      profileCreatedUs: core.clockNowUs(),
    };
    const name = `sofia/${this.name}/${fromUri.user}@${fromUri.host}`;
    const codec = { name: neg?.codec ?? 'PCMU', rate: 8000, bitRate: 64000 };
    const session = core.createSession(name, 'inbound', profile, uuid, { callerSource: rtp.caller, codec });
    session.preAnswerFirst = true;
    const d: Dialog = {
      callId, localTag, remoteTag: tagOf(from) ?? '', remoteNameAddr: from, localNameAddr: `${to};tag=${localTag}`,
      remoteTarget: contactVal ? uriOf(contactVal) : `sip:${rinfo.address}:${rinfo.port}`,
      routeSet: getHeaders(msg, 'record-route').flatMap((v) => v.split(/,(?![^<]*>)/)).map((x) => x.trim()).filter((x) => x !== ''),
      src: rinfo, localCseq: Math.floor(Math.random() * 10000) + 1,
      session, rtp, rtpPort, invite: msg, inviteBranch: branch, lastInviteResponse: trying, finalSent: false,
      acked: false, confirmed: false, lateSdp: !remote, negotiated: neg, remote, localSdp: undefined,
      sdpOrigin: sdpOrigin(core.clockNowUs()), progressSent: false, remoteEnded: false, cancelRetransmit: () => {}, unwatch: () => {},
    };
    this.dialogs.set(`${callId};${localTag}`, d);
    this.byBranch.set(branch, d);
    this.pendingInvites.delete(branch);
    const v = (k: string, val: string | undefined): void => { session.channel.setVar(k, val); };
    const via = getHeader(msg, 'via') as string;
    const viaM = /^SIP\/2\.0\/(\w+)\s+([^;:\s]+)(?::(\d+))?/i.exec(via);
    v('direction', 'inbound');
    v('uuid', uuid);
    v('session_id', String(core.allocSessionId()));
    v('sip_from_user', fromUri.user);
    v('sip_from_uri', `${fromUri.user}@${fromUri.hostPort}`);
    v('sip_from_host', fromUri.host);
    v('video_media_flow', 'disabled');
    v('audio_media_flow', 'disabled');
    v('text_media_flow', 'disabled');
    v('channel_name', name);
    v('sip_call_id', callId);
    v('sip_local_network_addr', this.host);
    v('sip_network_ip', rinfo.address);
    v('sip_network_port', String(rinfo.port));
    v('sip_invite_stamp', String(core.clockNowUs()));
    v('sip_received_ip', rinfo.address);
    v('sip_received_port', String(rinfo.port));
    v('sip_via_protocol', (viaM?.[1] ?? 'udp').toLowerCase());
    v('sip_from_user_stripped', fromUri.user);
    v('sip_from_tag', tagOf(from));
    v('sofia_profile_name', this.name);
    v('sofia_profile_url', `sip:mod_sofia@${this.hostPort}`);
    v('recovery_profile_name', this.name);
    v('sip_full_via', via);
    v('sip_full_from', from);
    v('sip_full_to', to);
    v('sip_allow', getHeader(msg, 'allow'));
    v('sip_req_user', reqUri.user);
    v('sip_req_port', reqUri.port);
    v('sip_req_uri', `${reqUri.user}@${reqUri.hostPort}`);
    v('sip_req_host', reqUri.host);
    v('sip_to_user', toUri.user);
    v('sip_to_port', toUri.port);
    v('sip_to_uri', `${toUri.user}@${toUri.hostPort}`);
    v('sip_to_host', toUri.host);
    if (contactUri) {
      v('sip_contact_user', contactUri.user);
      v('sip_contact_port', contactUri.port);
      v('sip_contact_uri', `${contactUri.user}@${contactUri.hostPort}`);
      v('sip_contact_host', contactUri.host);
    }
    v('rtp_use_codec_string', 'PCMU,PCMA');
    v('sip_user_agent', getHeader(msg, 'user-agent'));
    v('sip_via_host', viaM?.[2]);
    v('sip_via_port', viaM?.[3] ?? '5060');
    v('sip_via_rport', String(rinfo.port));
    v('max_forwards', getHeader(msg, 'max-forwards'));
    // Every X- header becomes sip_h_X-... (sofia_glue set_extra_headers on inbound).
    for (const h of msg.headers) if (/^x-/i.test(h.name)) v(`sip_h_${h.name}`, h.value);
    if (remote) v('switch_r_sdp', msg.body);
    v('ep_codec_string', 'CORE_PCM_MODULE.PCMU@8000h@20i@64000b,CORE_PCM_MODULE.PCMA@8000h@20i@64000b');
    // Captured on an inbound sofia channel before answer (the offer was in the INVITE).
    v('endpoint_disposition', 'DELAYED NEGOTIATION');
    if (remote && neg) this.applyNegotiation(d, remote, neg);
    d.unwatch = core.watchChannel(uuid, (name) => this.onChannelEvent(d, name));
    const stopSend = session.media.onWriteFrame((pcm) => rtp.sendFrame(pcm));
    void session.done.then(() => {
      stopSend();
      d.unwatch();
      rtp.close();
      // Keep the dialog a little for retransmitted BYE/ACK, then forget it.
      this.timer(() => this.forget(d), 32 * T1_MS);
    });
    await core.runInboundChannel(session);
  }

  private forget(d: Dialog): void {
    d.cancelRetransmit();
    this.dialogs.delete(`${d.callId};${d.localTag}`);
    if (this.byBranch.get(d.inviteBranch) === d) this.byBranch.delete(d.inviteBranch);
    if (this.uacInvites.get(d.inviteBranch) === d) this.uacInvites.delete(d.inviteBranch);
  }

  /** Sets the negotiated-media variables (as sofia does once offer and answer are known). */
  private applyNegotiation(d: Dialog, remote: RemoteAudio, neg: Negotiated): void {
    const ch = d.session.channel;
    const v = (k: string, val: string | undefined): void => { ch.setVar(k, val); };
    ch.codec.name = neg.codec;
    v('remote_audio_media_flow', remote.direction);
    v('audio_media_flow', 'sendrecv');
    v('rtp_audio_recv_pt', String(neg.pt));
    v('rtp_use_codec_name', neg.codec);
    v('rtp_use_codec_rate', '8000');
    v('rtp_use_codec_ptime', '20');
    v('rtp_use_codec_channels', '1');
    v('rtp_last_audio_codec_string', `${neg.codec}@8000h@20i@1c`);
    v('read_codec', neg.codec);
    v('original_read_codec', neg.codec);
    v('read_rate', '8000');
    v('original_read_rate', '8000');
    v('write_codec', neg.codec);
    v('write_rate', '8000');
    v('dtmf_type', 'rfc2833');
    v('local_media_ip', this.host);
    v('local_media_port', String(d.rtpPort));
    v('advertised_media_ip', this.host);
    v('rtp_use_timer_name', 'soft');
    v('rtp_use_pt', String(neg.pt));
    v('rtp_use_ssrc', String(d.rtp.ssrc));
    if (neg.dtmfPt !== undefined) { v('rtp_2833_send_payload', String(neg.dtmfPt)); v('rtp_2833_recv_payload', String(neg.dtmfPt)); }
    v('remote_media_ip', remote.ip);
    v('remote_media_port', String(remote.port));
    d.rtp.setRemote({ ip: remote.ip, port: remote.port, codec: neg.codec, pt: neg.pt, dtmfPt: neg.dtmfPt });
    // rfc2833 DTMF from the far end, read by the channel (DTMF event); uuid_send_dtmf goes out as rfc2833.
    d.rtp.onDtmf = (digit, samples) => d.session.receiveDtmf(digit, samples, 'RTP');
    d.session.dtmfOut = (digit, samples) => d.rtp.sendDtmf(digit, samples);
  }

  private localSdp(d: Dialog): string {
    if (d.localSdp) return d.localSdp;
    const o = { ...d.sdpOrigin, ip: this.host };
    d.localSdp = d.negotiated ? buildAnswerSdp(o, d.rtpPort, d.negotiated) : buildOfferSdp(o, d.rtpPort);
    d.session.channel.setVar('rtp_local_sdp_str', d.localSdp);
    if (!d.negotiated) {
      d.session.channel.setVar('local_media_ip', this.host);
      d.session.channel.setVar('local_media_port', String(d.rtpPort));
    }
    return d.localSdp;
  }

  private onChannelEvent(d: Dialog, ev: string): void {
    const s = d.session;
    if (d.uac && ev !== 'CHANNEL_HANGUP') return;
    if (ev === 'CHANNEL_PROGRESS_MEDIA') {
      // Captured: CHANNEL_ANSWER of a sofia channel shows endpoint_disposition EARLY MEDIA.
      s.channel.setVar('endpoint_disposition', 'EARLY MEDIA');
      // answer() pre-answers first; only a pre-answer that stays one sends 183.
      queueMicrotask(() => {
        if (s.channel.answered || s.isHungUp || d.finalSent || d.progressSent || d.lateSdp) return;
        d.progressSent = true;
        const r = this.buildResponse(d.invite, d.src, 183, [['Contact', this.contact(s.channel.profile.destinationNumber)]], this.localSdp(d), d.localTag);
        d.lastInviteResponse = r;
        this.send(r, d.src);
      });
    } else if (ev === 'CHANNEL_ANSWER') {
      if (d.finalSent) return;
      s.channel.setVar('endpoint_disposition', 'ANSWER');
      const r = this.buildResponse(d.invite, d.src, 200, [['Contact', this.contact(s.channel.profile.destinationNumber)]], this.localSdp(d), d.localTag);
      d.finalSent = true;
      d.confirmed = true;
      this.retransmitUntilAck(d, r);
    } else if (ev === 'CHANNEL_HANGUP') {
      d.cancelRetransmit();
      if (d.remoteEnded) return;
      if (d.uac) {
        if (d.confirmed) this.sendBye(d, s.channel.hangupCause ?? 'NORMAL_CLEARING');
        else if (!d.finalSent) this.sendCancel(d);
        return;
      }
      const cause = s.channel.hangupCause ?? 'NORMAL_CLEARING';
      if (d.confirmed) {
        s.channel.setVar('sip_hangup_disposition', 'send_bye');
        this.sendBye(d, cause);
      } else if (!d.finalSent) {
        s.channel.setVar('sip_hangup_disposition', 'send_refuse');
        this.sendFinal(d, causeToSipStatus(cause), cause);
      }
    }
  }

  /** Final non-2xx response to the INVITE, retransmitted until the ACK (RFC 3261 §17.2.1). */
  private sendFinal(d: Dialog, status: number, cause?: string): void {
    if (d.finalSent) return;
    d.finalSent = true;
    const extra: [string, string][] = cause ? [['Reason', q850(cause)]] : [];
    this.retransmitUntilAck(d, this.buildResponse(d.invite, d.src, status, extra, '', d.localTag));
  }

  /** Sends a final response now and again at T1, 2·T1 … (capped at T2) until ACK or 64·T1. */
  private retransmitUntilAck(d: Dialog, text: string): void {
    d.cancelRetransmit();
    d.lastInviteResponse = text;
    this.send(text, d.src);
    let interval = T1_MS;
    let elapsed = 0;
    let cancel = (): void => {};
    const step = (): void => {
      if (d.acked || this.closed) return;
      elapsed += interval;
      if (elapsed >= 64 * T1_MS) {
        // No ACK: the dialog is dead (sofia hangs the channel up).
        if (!d.session.isHungUp) d.session.hangup('RECOVERY_ON_TIMER_EXPIRE');
        return;
      }
      this.send(text, d.src);
      interval = Math.min(interval * 2, T2_MS);
      cancel = this.timer(step, interval);
    };
    cancel = this.timer(step, interval);
    d.cancelRetransmit = () => cancel();
  }

  private onAck(d: Dialog, msg: SipMessage): void {
    if (d.acked) return;
    d.acked = true;
    d.cancelRetransmit();
    if (d.lateSdp && msg.body.trim() !== '' && !d.negotiated) {
      const remote = parseSdpAudio(msg.body);
      const neg = remote ? negotiate(remote) : undefined;
      d.session.channel.setVar('switch_r_sdp', msg.body);
      if (!remote || !neg) {
        d.session.hangup('INCOMPATIBLE_DESTINATION');
        return;
      }
      d.negotiated = neg;
      d.remote = remote;
      this.applyNegotiation(d, remote, neg);
    }
  }

  private onReInvite(d: Dialog, msg: SipMessage, rinfo: Peer): void {
    if (msg.body.trim() !== '') {
      const remote = parseSdpAudio(msg.body);
      const neg = remote ? negotiate(remote) : undefined;
      if (!remote || !neg) { this.respond(msg, rinfo, 488); return; }
      d.negotiated = neg;
      d.remote = remote;
      this.applyNegotiation(d, remote, neg);
      d.sdpOrigin.version++;
      d.localSdp = undefined;
    }
    const r = this.buildResponse(msg, rinfo, 200, [['Contact', this.contact(d.session.channel.profile.destinationNumber)]], this.localSdp(d));
    this.send(r, rinfo);
  }

  /**
   * `originate sofia/<profile>/<user>@<host[:port]>`: INVITE with FreeSWITCH's offer; `sip_h_X-*`
   * variables become headers. Resolves with the answered session, or a cause.
   */
  private async originate(req: { dest: string; vars: Map<string, string>; cidName: string; cidNum: string; timeoutSec: number }): Promise<Session | string> {
    const { core } = this.o;
    const slash = req.dest.indexOf('/');
    if (slash < 0 || req.dest.slice(0, slash) !== this.name) return 'INVALID_PROFILE';
    const dest = req.dest.slice(slash + 1).replace(/^sips?:/i, '');
    const dm = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:;]+)(?::(\d+))?/.exec(dest);
    if (!dm) return 'INVALID_URL';
    const user = dm[1] ?? '';
    const target = { address: dm[2].replace(/^\[|\]$/g, ''), port: dm[3] ? Number(dm[3]) : 5060 };
    if (this.closed || this.dialogs.size >= MAX_DIALOGS) return 'SWITCH_CONGESTION';
    const rtp = new RtpEndpoint(this.host);
    let rtpPort: number;
    try { rtpPort = await rtp.bind(); } catch { rtp.close(); return 'DESTINATION_OUT_OF_ORDER'; }
    const uuid = originationUuid(req.vars);
    const callId = randomUUID();
    const localTag = randomTag();
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const ruri = `sip:${user ? `${user}@` : ''}${dm[2]}${dm[3] ? `:${dm[3]}` : ''}`;
    const cidNum = req.cidNum;
    const profile: CallerProfile = {
      direction: 'outbound', logicalDirection: 'outbound', username: '', dialplan: 'XML',
      callerIdName: req.cidName, callerIdNumber: cidNum, origCallerIdName: req.cidName, origCallerIdNumber: cidNum,
      calleeIdName: 'Outbound Call', calleeIdNumber: user, networkAddr: target.address, ani: cidNum,
      destinationNumber: user, source: 'src/switch_ivr_originate.c', context: 'default', profileCreatedUs: core.clockNowUs(),
    };
    const name = `sofia/${this.name}/${dest}`;
    const session = core.createSession(name, 'outbound', profile, uuid, { callerSource: rtp.caller, codec: { name: 'PCMU', rate: 8000, bitRate: 64000 } });
    const ch = session.channel;
    ch.setVar('direction', 'outbound');
    ch.setVar('is_outbound', 'true');
    ch.setVar('uuid', uuid);
    ch.setVar('call_uuid', uuid);
    ch.setVar('session_id', String(core.allocSessionId()));
    ch.setVar('channel_name', name);
    ch.setVar('sip_profile_name', this.name);
    ch.setVar('sofia_profile_name', this.name);
    ch.setVar('sip_destination_url', ruri);
    ch.setVar('sip_call_id', callId);
    ch.setVar('originate_endpoint', 'sofia');
    for (const [k, v] of req.vars) ch.setVar(k, v);
    const from = `"${req.cidName}" <sip:${cidNum}@${this.host}>;tag=${localTag}`;
    const to = `<${ruri}>`;
    const origin = sdpOrigin(core.clockNowUs());
    const offer = buildOfferSdp({ ...origin, ip: this.host }, rtpPort);
    ch.setVar('rtp_local_sdp_str', offer);
    const extra = [...req.vars].filter(([k]) => /^sip_h_X-/i.test(k)).map(([k, v]) => `${k.slice(6)}: ${v}`);
    const inviteText = [
      `INVITE ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.hostPort};rport;branch=${branch}`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:mod_sofia@${this.hostPort}>`,
      `User-Agent: ${SOFIA_USER_AGENT}`,
      `Allow: ${ALLOW}`,
      `Supported: ${SUPPORTED}`,
      ...extra,
      'Content-Type: application/sdp',
      'Content-Disposition: session',
      `Content-Length: ${Buffer.byteLength(offer)}`,
    ].join('\r\n') + '\r\n\r\n' + offer;
    const inviteMsg = parseSip(inviteText) as SipMessage;
    let settle!: (r: Session | string) => void;
    const result = new Promise<Session | string>((r) => { settle = r; });
    const d: Dialog = {
      callId, localTag, remoteTag: '', remoteNameAddr: to, localNameAddr: from, remoteTarget: ruri, routeSet: [],
      src: target, localCseq: 1, session, rtp, rtpPort, invite: inviteMsg, inviteBranch: branch,
      lastInviteResponse: undefined, finalSent: false, acked: false, confirmed: false, lateSdp: false,
      negotiated: undefined, remote: undefined, localSdp: offer, sdpOrigin: origin, progressSent: false, remoteEnded: false,
      cancelRetransmit: () => {}, unwatch: () => {},
      uac: { target, settle: (r) => { if (!d.uac?.settled && d.uac) { d.uac.settled = true; settle(r); } }, settled: false, inviteText },
    };
    this.dialogs.set(`${callId};${localTag}`, d);
    this.uacInvites.set(branch, d);
    d.unwatch = core.watchChannel(uuid, (name) => this.onChannelEvent(d, name));
    const stopSend = session.media.onWriteFrame((pcm) => rtp.sendFrame(pcm));
    void session.done.then(() => {
      stopSend();
      d.unwatch();
      rtp.close();
      d.uac?.settle(ch.hangupCause ?? 'NORMAL_CLEARING');
      this.timer(() => this.forget(d), 32 * T1_MS);
    });
    // Captured order of an originated A leg: OUTGOING, STATE INIT, CREATE, ORIGINATE, ROUTING, CONSUME_MEDIA.
    ch.runningState = 'CS_NONE';
    ch.state = 'CS_INIT';
    session.fire('CHANNEL_OUTGOING', SRC.outgoing, { extended: false });
    session.setRunningState('CS_INIT', 'CS_INIT');
    ch.state = 'CS_ROUTING';
    session.fire('CHANNEL_CREATE', SRC.create);
    session.fire('CHANNEL_ORIGINATE', SRC.originate);
    session.setRunningState('CS_ROUTING', 'CS_ROUTING');
    session.setRunningState('CS_CONSUME_MEDIA', 'CS_CONSUME_MEDIA');
    session.setCallState('DIALING');
    // INVITE client transaction over UDP: T1, 2·T1 … until any response (RFC 3261 §17.1.1).
    let interval = T1_MS;
    let elapsed = 0;
    let cancelRetx = (): void => {};
    const retx = (): void => {
      if (d.lastInviteResponse !== undefined || this.closed) return;
      this.send(inviteText, target);
      if (elapsed >= 64 * T1_MS) { session.hangup('RECOVERY_ON_TIMER_EXPIRE'); return; }
      cancelRetx = this.timer(retx, interval);
      elapsed += interval;
      interval *= 2;
    };
    retx();
    d.cancelRetransmit = () => cancelRetx();
    const cancelTimeout = this.timer(() => { if (!ch.answered && !session.isHungUp) session.hangup('NO_ANSWER'); }, req.timeoutSec * 1000);
    const r = await result;
    cancelTimeout();
    if (typeof r === 'string') void session.finish();
    return r;
  }

  private onInviteResponse(d: Dialog, msg: SipMessage): void {
    const uac = d.uac;
    if (!uac) return;
    const s = d.session;
    d.lastInviteResponse = '';
    d.cancelRetransmit();
    const to = getHeader(msg, 'to') ?? d.remoteNameAddr;
    if (msg.status < 200) {
      if (msg.status === 180) { s.channel.setVar('sip_ring', 'true'); s.setCallState('RINGING'); }
      if (msg.status === 183 && msg.body.trim() !== '' && this.takeAnswer(d, msg.body)) s.preAnswer();
      return;
    }
    if (msg.status < 300) {
      // 2xx (or a retransmission of it): ACK to the remote target.
      if (!d.confirmed) {
        d.confirmed = true;
        d.finalSent = true;
        d.remoteNameAddr = to;
        d.remoteTag = tagOf(to) ?? '';
        const contact = getHeader(msg, 'contact');
        if (contact) d.remoteTarget = uriOf(contact);
        d.routeSet = getHeaders(msg, 'record-route').flatMap((v) => v.split(/,(?![^<]*>)/)).map((x) => x.trim()).filter((x) => x !== '').reverse();
        s.channel.setVar('sip_to_tag', d.remoteTag);
        if (msg.body.trim() !== '') s.channel.setVar('switch_r_sdp', msg.body);
      }
      this.sendAck(d, `z9hG4bK${randomBytes(8).toString('hex')}`, d.remoteNameAddr);
      if (!d.acked) {
        d.acked = true;
        if (!d.negotiated && !this.takeAnswer(d, msg.body)) { s.hangup('INCOMPATIBLE_DESTINATION'); return; }
        s.answer();
        uac.settle(s);
      }
      return;
    }
    // Non-2xx final: ACK on the INVITE's branch, the call fails with the mapped cause.
    this.sendAck(d, d.inviteBranch, to);
    if (d.finalSent) return;
    d.finalSent = true;
    d.remoteEnded = true;
    const cause = sipStatusToCause(msg.status);
    s.channel.setVar('sip_term_status', String(msg.status));
    s.hangup(cause);
    void s.finish();
    uac.settle(cause);
  }

  /** Applies an SDP answer received on an outgoing leg; false when unusable. */
  private takeAnswer(d: Dialog, body: string): boolean {
    const remote = parseSdpAudio(body);
    const neg = remote ? negotiate(remote) : undefined;
    if (!remote || !neg) return false;
    d.remote = remote;
    d.negotiated = neg;
    this.applyNegotiation(d, remote, neg);
    return true;
  }

  private sendAck(d: Dialog, branch: string, to: string): void {
    const t = d.confirmed ? uriTarget(d.routeSet.length > 0 ? uriOf(d.routeSet[0]) : d.remoteTarget) : undefined;
    const address = t?.host ?? d.uac?.target.address ?? d.src.address;
    const port = t?.port ?? d.uac?.target.port ?? 5060;
    const h: SipHeader[] = [
      { name: 'Via', value: `SIP/2.0/UDP ${this.hostPort};rport;branch=${branch}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: d.localNameAddr },
      { name: 'To', value: to },
      { name: 'Call-ID', value: d.callId },
      { name: 'CSeq', value: '1 ACK' },
      ...(d.confirmed ? d.routeSet.map((r) => ({ name: 'Route', value: r })) : []),
      { name: 'Contact', value: `<sip:mod_sofia@${this.hostPort}>` },
      { name: 'Content-Length', value: '0' },
    ];
    const uri = d.confirmed ? d.remoteTarget : d.invite.uri;
    this.send(serializeSip({ kind: 'request', method: 'ACK', uri, status: 0, reason: '', headers: h, body: '' }), { address, port });
  }

  /** CANCEL of our pending INVITE (same branch, RFC 3261 §9.1). */
  private sendCancel(d: Dialog): void {
    const uac = d.uac;
    if (!uac) return;
    const h: SipHeader[] = [
      { name: 'Via', value: `SIP/2.0/UDP ${this.hostPort};rport;branch=${d.inviteBranch}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: d.localNameAddr },
      { name: 'To', value: getHeader(d.invite, 'to') as string },
      { name: 'Call-ID', value: d.callId },
      { name: 'CSeq', value: '1 CANCEL' },
      { name: 'Reason', value: q850(d.session.channel.hangupCause ?? 'ORIGINATOR_CANCEL') },
      { name: 'Content-Length', value: '0' },
    ];
    this.send(serializeSip({ kind: 'request', method: 'CANCEL', uri: d.invite.uri, status: 0, reason: '', headers: h, body: '' }), uac.target);
    uac.settle(d.session.channel.hangupCause ?? 'ORIGINATOR_CANCEL');
  }

  /** BYE within the dialog with `Reason: Q.850;cause=N;text="CAUSE"`, retransmitted until a final response. */
  private sendBye(d: Dialog, cause: string): void {
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const transport = d.src.tcp ? 'TCP' : 'UDP';
    const target = d.routeSet.length > 0 ? uriOf(d.routeSet[0]) : d.remoteTarget;
    const t = uriTarget(target);
    const address = t?.host ?? d.src.address;
    const port = t?.port ?? 5060;
    const h: SipHeader[] = [
      { name: 'Via', value: `SIP/2.0/${transport} ${this.hostPort};rport;branch=${branch}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: d.localNameAddr },
      { name: 'To', value: d.remoteNameAddr },
      { name: 'Call-ID', value: d.callId },
      { name: 'CSeq', value: `${++d.localCseq} BYE` },
      ...d.routeSet.map((r) => ({ name: 'Route', value: r })),
      { name: 'User-Agent', value: SOFIA_USER_AGENT },
      { name: 'Allow', value: ALLOW },
      { name: 'Supported', value: SUPPORTED },
      { name: 'Reason', value: q850(cause) },
      { name: 'Content-Length', value: '0' },
    ];
    const text = serializeSip({ kind: 'request', method: 'BYE', uri: d.remoteTarget, status: 0, reason: '', headers: h, body: '' });
    let tries = 0;
    let interval = T1_MS;
    let cancel = (): void => {};
    const stop = (): void => { cancel(); this.uacTransactions.delete(branch); };
    this.uacTransactions.set(branch, stop);
    const fire = (): void => {
      if (this.closed) return;
      this.send(text, d.src.tcp ? d.src : { address, port });
      if (++tries >= 7) { this.timer(stop, interval); return; }
      cancel = this.timer(fire, interval);
      interval = Math.min(interval * 2, T2_MS);
    };
    fire();
  }
}

/** sofia_glue_sip_cause_to_freeswitch (subset). */
function sipStatusToCause(status: number): string {
  const table: Record<number, string> = {
    401: 'CALL_REJECTED', 403: 'CALL_REJECTED', 404: 'UNALLOCATED_NUMBER', 408: 'RECOVERY_ON_TIMER_EXPIRE',
    480: 'NO_USER_RESPONSE', 481: 'NORMAL_TEMPORARY_FAILURE', 484: 'INVALID_NUMBER_FORMAT', 486: 'USER_BUSY',
    487: 'ORIGINATOR_CANCEL', 488: 'INCOMPATIBLE_DESTINATION', 500: 'NORMAL_TEMPORARY_FAILURE',
    502: 'NETWORK_OUT_OF_ORDER', 503: 'NORMAL_TEMPORARY_FAILURE', 504: 'RECOVERY_ON_TIMER_EXPIRE',
    600: 'USER_BUSY', 603: 'CALL_REJECTED', 606: 'INCOMPATIBLE_DESTINATION',
  };
  return table[status] ?? 'NORMAL_UNSPECIFIED';
}

/** `Q.850;cause=16;text="NORMAL_CLEARING"`. */
function q850(cause: string): string {
  return `Q.850;cause=${HANGUP_CAUSES[cause] ?? 0};text="${cause}"`;
}

/** sofia's tags: 13 characters of letters and digits. */
function randomTag(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const b = randomBytes(13);
  let s = '';
  for (const x of b) s += abc[x % abc.length];
  return s;
}

/** o= line numbers: FreeSWITCH starts from a time-derived id and uses id+1 as the version (captured). */
function sdpOrigin(nowUs: number): { sessionId: number; version: number } {
  const id = Math.floor(nowUs / 1e6) - Math.floor(Math.random() * 100000);
  return { sessionId: id, version: id + 1 };
}

/** user, host, port of a SIP URI ('' where absent). */
function parseUri(uri: string): { user: string; host: string; port: string; hostPort: string } {
  const m = /^sips?:(?:([^@;]*)@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri.trim());
  if (!m) return { user: '', host: '', port: '', hostPort: '' };
  const user = decodeURIComponentSafe(m[1] ?? '').split(':')[0];
  return { user, host: m[2], port: m[3] ?? '', hostPort: m[3] ? `${m[2]}:${m[3]}` : m[2] };
}

function decodeURIComponentSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
