/**
 * The drachtio-server twin: the admin protocol (drachtio-srf's side, protocols.md §3) on a TCP
 * port and real SIP over UDP and TCP on a SIP port, so that drachtio-srf on one side and SIP peers
 * (sipp, kamailio) on the other see what they would see with drachtio-server in between.
 *
 * Covered: authenticate/route/remove_route/ping; new requests completed like sofia-sip; client
 * transactions with RFC 3261 §17.1 UDP retransmission (timers A/B/E/F) and a local 408; incoming
 * requests routed by method (503 when nobody routed it); responses from the app; dialogs
 * (UAC and UAS), ACK, CANCEL, PRACK and in-dialog requests with `sip:placeholder`.
 * Not covered: proxy, outbound (listen) mode, TLS, CDRs, session timers.
 * Checked against the real drachtio-server v0.9.4-rc1 by test/real/differential-drachtio.real.test.ts;
 * where the two differ the real program is right and this file changes.
 */
import { createServer, isIP, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomUUID, randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../../observability/logger.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import { systemClock, type Clock } from '../../clock.js';
import { encodeFrame, FrameDecoder } from './framing.js';
import {
  parseSip, serializeSip, getHeader, getHeaders, removeHeader, tagOf, uriOf, uriTarget, viaBranch, viaSentBy, stampVia,
  capitalizeAfterDash, canonicalName, SipStreamSplitter, type SipMessage, type SipHeader,
} from './sip-message.js';
import { checkSip } from './sip-sanity.js';

/** Options of {@link DrachtioTwin}. Ports 0 pick free ports. */
export interface DrachtioTwinOptions {
  adminHost?: string;
  adminPort?: number;
  secret: string;
  sipHost?: string;
  sipPort?: number;
  logger: Logger;
  metrics?: MetricsRegistry;
  clock?: Clock;
  /** RFC 3261 T1 (default 500 ms) and T2 (default 4000 ms). */
  t1Ms?: number;
  t2Ms?: number;
  /** Version reported on authenticate (default v0.9.4-rc1, the drachtio-server it is checked against). */
  version?: string;
}

interface Remote {
  proto: 'udp' | 'tcp';
  address: string;
  port: number;
}

interface AdminClient {
  socket: Socket;
  decoder: FrameDecoder;
  /** Sent the right secret. drachtio-server does not require it before other messages. */
  authenticated: boolean;
  /** The server stopped reading this connection (empty length prefix) but keeps it open. */
  stalled: boolean;
  routes: Set<string>;
  /** sip messages are handled one after another, in arrival order, like the server's single io thread. */
  queue: Promise<void>;
}

interface ClientTxn {
  id: string;
  key: string;
  method: string;
  msg: SipMessage;
  text: string;
  remote: Remote;
  client: AdminClient;
  dialogId: string;
  provisional: boolean;
  final: number;
  stop: () => void;
}

interface ServerTxn {
  id: string;
  key: string;
  method: string;
  req: SipMessage;
  remote: Remote;
  client?: AdminClient;
  toTag?: string;
  lastResponse?: string;
  final: number;
  dialogId: string;
  /** Size of the request as received (drachtio-server reports it again with a CANCEL of it). */
  wireBytes: number;
}

interface Dialog {
  id: string;
  type: 'uac' | 'uas';
  callId: string;
  localTag: string;
  remoteTag: string;
  local: string; // From/To value for our side, with tag
  remote: string; // value for the peer, with tag
  remoteTarget: string;
  peer: Remote;
  localCSeq: number;
  inviteCSeq: number;
  client: AdminClient;
  ackText?: string;
  inviteFailed: boolean;
  stopRetransmit?: () => void;
}

/** Headers the server never takes from the application (drachtio-server makeTags). */
const IMMUTABLE = new Set(['via', 'route', 'rseq', 'record-route', 'content-length']);
const MAX_TXNS = 10_000;
const MAX_DIALOGS = 10_000;

/** The text with the first header line named `name` (compact form understood) replaced by `line`. */
function replaceFirstHeaderLine(text: string, name: string, line: string): string {
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const lines = head.split('\r\n');
  const i = lines.findIndex((l, k) => k > 0 && l.indexOf(':') > 0 && canonicalName(l.slice(0, l.indexOf(':'))) === name);
  if (i < 0) return text;
  lines[i] = line;
  return lines.join('\r\n') + (end >= 0 ? text.slice(end) : '');
}

/** `Digest a="1",b=2` as sofia-sip prints it: `Digest a="1", b=2` (commas inside quotes kept). */
function formatCredentials(value: string): string {
  const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(value);
  if (!m) return value;
  const params: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of m[2]) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) { params.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) params.push(cur.trim());
  return `${m[1]} ${params.join(', ')}`;
}

function pad(n: number, w: number): string { return String(n).padStart(w, '0'); }
function tag(): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const b = randomBytes(13);
  let s = '';
  for (const x of b) s += a[x % a.length];
  return s;
}

/**
 * A drachtio-server stand-in. start() binds the admin port and the SIP port (UDP and TCP on the
 * same number); close() releases everything and is safe to call twice.
 */
export class DrachtioTwin {
  private readonly opts: Required<Omit<DrachtioTwinOptions, 'metrics'>> & { metrics?: MetricsRegistry };
  private admin?: Server;
  private udp?: UdpSocket;
  private sipTcp?: Server;
  private readonly clients = new Set<AdminClient>();
  private readonly tcpConns = new Map<string, Socket>();
  private readonly clientTxns = new Map<string, ClientTxn>(); // by branch|method
  private readonly clientTxnsById = new Map<string, ClientTxn>();
  private readonly serverTxns = new Map<string, ServerTxn>(); // by branch|method
  private readonly serverTxnsById = new Map<string, ServerTxn>();
  private readonly dialogs = new Map<string, Dialog>();
  private readonly timers = new Set<() => void>();
  /** Next CSeq of a request the twin starts; like sofia-sip's, a large random start (seen ~1.2e8). */
  private cseq = randomInt(65_536, 2 ** 30);
  private closed = false;
  private boundAdminPort = 0;
  private boundSipPort = 0;

  constructor(opts: DrachtioTwinOptions) {
    this.opts = {
      adminHost: '127.0.0.1', adminPort: 9022, sipHost: '127.0.0.1', sipPort: 5060, clock: systemClock,
      t1Ms: 500, t2Ms: 4000, version: 'v0.9.4-rc1', ...opts,
    };
  }

  /** The bound admin port (valid after start()). */
  get adminPort(): number { return this.boundAdminPort; }
  /** The bound SIP port, UDP and TCP (valid after start()). */
  get sipPort(): number { return this.boundSipPort; }

  /** Binds the SIP port (UDP+TCP) and the admin port. Rejects if a port is taken. */
  async start(): Promise<void> {
    const { sipHost, sipPort, adminHost, adminPort } = this.opts;
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket(isIP(sipHost) === 6 ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(sipPort, sipHost, () => { udp.off('error', reject); resolve(); });
      });
      const port = udp.address().port;
      const tcp = createServer((s) => this.onSipTcpConnection(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, sipHost, () => { tcp.off('error', reject); resolve(); });
        });
      } catch (err) {
        udp.close();
        if (sipPort === 0 && attempt < 5) continue; // the UDP port's TCP twin was taken; pick again
        throw err;
      }
      this.udp = udp;
      this.sipTcp = tcp;
      this.boundSipPort = port;
      udp.on('message', (buf, rinfo) => this.onNetworkMessage(buf.toString('utf8'), { proto: 'udp', address: rinfo.address, port: rinfo.port }));
      udp.on('error', (err) => this.opts.logger.warn({ err }, 'drachtio twin udp error'));
      break;
    }
    const admin = createServer((s) => this.onAdminConnection(s));
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(adminPort, adminHost, () => { admin.off('error', reject); resolve(); });
    });
    this.admin = admin;
    const a = admin.address();
    this.boundAdminPort = typeof a === 'object' && a ? a.port : 0;
  }

  /** Closes listeners, connections and timers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.timers) c();
    this.timers.clear();
    for (const c of this.clients) c.socket.destroy();
    for (const s of this.tcpConns.values()) s.destroy();
    const closeServer = (s?: Server) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    await Promise.all([
      closeServer(this.admin),
      closeServer(this.sipTcp),
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
    ]);
  }

  // ---------------------------------------------------------------- helpers

  private error(code: string, fields: Record<string, unknown>, msg: string): void {
    this.opts.metrics?.error(code);
    this.opts.logger.warn({ code, ...fields }, msg);
  }

  private timer(fn: () => void, ms: number): () => void {
    const cancel = this.opts.clock.setTimeout(() => { this.timers.delete(cancel); fn(); }, ms);
    this.timers.add(cancel);
    return () => { cancel(); this.timers.delete(cancel); };
  }

  private time(): string {
    const d = new Date(this.opts.clock.wallMs());
    return `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds() * 1000, 6)}`;
  }

  private hostport(): string { return `${this.opts.sipHost.includes(':') ? `[${this.opts.sipHost}]` : this.opts.sipHost}:${this.boundSipPort}`; }

  private contact(proto: 'udp' | 'tcp'): string {
    return `<sip:${this.hostport()}${proto === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  private sendAdmin(c: AdminClient, payload: string): void {
    if (!c.socket.destroyed) c.socket.write(encodeFrame(`${randomUUID()}|${payload}`));
  }

  private sendNetwork(r: Remote, text: string): void {
    if (this.closed) return;
    if (r.proto === 'udp') {
      this.udp?.send(Buffer.from(text, 'utf8'), r.port, r.address);
      return;
    }
    const key = `${r.address}:${r.port}`;
    let s = this.tcpConns.get(key);
    if (!s || s.destroyed) {
      s = tcpConnect(r.port, r.address);
      this.attachSipTcp(s, key, r);
    }
    s.write(text);
  }

  // ---------------------------------------------------------------- admin side

  private onAdminConnection(socket: Socket): void {
    if (this.closed) { socket.destroy(); return; }
    const c: AdminClient = { socket, decoder: new FrameDecoder(), authenticated: false, stalled: false, routes: new Set(), queue: Promise.resolve() };
    this.clients.add(c);
    socket.on('data', (chunk: Buffer) => {
      if (c.stalled) return;
      const r = c.decoder.push(chunk);
      for (const p of r.payloads) {
        if (socket.destroyed || socket.writableEnded) return;
        this.onAdminPayload(c, p);
      }
      if (r.error && r.stall) {
        this.error(r.error, {}, 'drachtio twin stopped reading a client that sent an empty length prefix');
        c.stalled = true;
      } else if (r.error) {
        this.error(r.error, {}, 'drachtio twin dropped a client with a bad frame');
        socket.end();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.clients.delete(c));
  }

  private onAdminPayload(c: AdminClient, payload: string): void {
    const nl = payload.indexOf('\r\n');
    const leader = nl >= 0 ? payload.slice(0, nl) : payload;
    const rest = nl >= 0 ? payload.slice(nl + 2) : '';
    const token = leader.split('|');
    const msgId = token[0] ?? '';
    const type = token[1];
    if (token.length < 2) {
      this.error('SIP_SIM_UNKNOWN_MESSAGE', {}, 'drachtio twin got a message without a type');
      this.sendAdmin(c, `response|${msgId}|NO|Invalid message format`);
      c.socket.end();
      return;
    }
    if (type === 'authenticate') {
      if (token[2] === this.opts.secret) {
        c.authenticated = true;
        // drachtio-server lists the tcp transport first
        const hp = `tcp/${this.hostport()},udp/${this.hostport()}`;
        this.sendAdmin(c, `response|${msgId}|OK|${hp}|${this.opts.version}|${hp}`);
      } else {
        this.error('SIP_SIM_AUTH_FAILED', {}, 'drachtio twin rejected a client secret');
        this.sendAdmin(c, `response|${msgId}|NO|incorrect secret`);
        c.socket.end();
      }
      return;
    }
    // drachtio-server (client.cpp processClientMessage) does not check that a client authenticated
    // before it handles ping, route or sip: neither does the twin.
    switch (type) {
      case 'route':
        if (token[2]) c.routes.add(token[2].toLowerCase());
        this.sendAdmin(c, `response|${msgId}|OK`);
        return;
      case 'remove_route':
        // drachtio-server erases every route entry of this client, whatever verb was named.
        c.routes.clear();
        this.sendAdmin(c, `response|${msgId}|OK`);
        return;
      case 'ping':
        this.sendAdmin(c, `response|${msgId}|OK|pong`);
        return;
      case 'sip':
        c.queue = c.queue.then(() => this.onAppSip(c, msgId, token[2] ?? '', token[3] ?? '', token[4] ?? '', rest)).catch((err: unknown) => {
          this.error('SIP_SIM_BAD_SIP_FROM_APP', { err }, 'drachtio twin could not send a sip message');
          this.sendAdmin(c, `response|${msgId}|NOK|${err instanceof Error ? err.message : String(err)}`);
        });
        return;
      default:
        this.error('SIP_SIM_UNKNOWN_MESSAGE', { type }, 'drachtio twin got an unknown message type');
        this.sendAdmin(c, `response|${msgId}|NO|Unknown message type`);
        c.socket.end();
    }
  }

  private nok(c: AdminClient, msgId: string, text: string): void {
    this.error('SIP_SIM_BAD_SIP_FROM_APP', { reason: text }, 'drachtio twin refused a sip message from the application');
    this.sendAdmin(c, `response|${msgId}|NOK|${text}`);
  }

  /** Application headers, cleaned as drachtio-server does (makeTags). */
  private appHeaders(m: SipMessage, skip: string[]): SipHeader[] {
    const hp = this.hostport();
    const out: SipHeader[] = [];
    for (const h of m.headers) {
      const n = canonicalName(h.name);
      if (IMMUTABLE.has(n) || skip.includes(n)) continue;
      let value = h.value;
      if (['from', 'to', 'contact', 'p-asserted-identity'].includes(n)) value = value.replace(/@localhost\b/g, `@${hp}`);
      // sofia-sip parses credentials and prints their parameters separated by ", "
      if (n === 'authorization' || n === 'proxy-authorization') value = formatCredentials(value);
      out.push({ name: capitalizeAfterDash(h.name), value });
    }
    return out;
  }

  private finishBody(m: SipMessage): string | undefined {
    if (m.body.length > 0 && getHeader(m, 'content-type') === undefined) {
      if (m.body.startsWith('v=0')) m.headers.push({ name: 'Content-Type', value: 'application/sdp' });
      else return 'missing content-type';
    }
    removeHeader(m, 'content-length');
    m.headers.push({ name: 'Content-Length', value: String(Buffer.byteLength(m.body, 'utf8')) });
    return undefined;
  }

  private async resolve(uri: string): Promise<Remote> {
    const t = uriTarget(uri);
    if (!t) throw new Error(`invalid request-uri ${uri}`);
    let address = t.host;
    if (isIP(address) === 0) address = address === 'localhost' ? '127.0.0.1' : (await lookup(address, { family: 4 })).address;
    const proto = t.transport === 'tcp' ? 'tcp' : 'udp';
    const port = t.port ?? 5060;
    if ((address === this.opts.sipHost || address === '127.0.0.1' && this.opts.sipHost === 'localhost') && port === this.boundSipPort) {
      throw new Error('can not send request to myself');
    }
    return { proto, address, port };
  }

  private async onAppSip(c: AdminClient, msgId: string, txnId: string, dialogId: string, routeUri: string, raw: string): Promise<void> {
    const m = parseSip(raw);
    if (!m) { this.nok(c, msgId, 'invalid sip message'); return; }
    if (m.kind === 'response') { this.appResponse(c, msgId, txnId, m); return; }
    if (dialogId) { await this.appInDialog(c, msgId, dialogId, m); return; }
    if (txnId) { this.appCancel(c, msgId, txnId, m); return; }
    await this.appNewRequest(c, msgId, routeUri, m);
  }

  /** "Msg sent" for a request: drachtio-server reports the address and port it sent from (its own). */
  private echoRequest(c: AdminClient, msgId: string, txnId: string, r: Remote, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    this.sendAdmin(c, `response|${msgId}|OK|application|${bytes}|${r.proto}|${this.opts.sipHost}|${this.boundSipPort}|${this.time()}|${txnId}|Msg sent:|\r\n${text}`);
  }

  private via(proto: 'udp' | 'tcp', branch: string): string {
    // sofia-sip's order: rport first, then branch
    return `SIP/2.0/${proto.toUpperCase()} ${this.hostport()};rport;branch=${branch}`;
  }

  private async appNewRequest(c: AdminClient, msgId: string, routeUri: string, app: SipMessage): Promise<void> {
    if (this.clientTxns.size >= MAX_TXNS) { this.nok(c, msgId, 'too many transactions'); return; }
    const callIdGiven = getHeader(app, 'call-id');
    const existing = callIdGiven ? [...this.dialogs.values()].find((d) => d.callId === callIdGiven && d.client === c) : undefined;
    if (existing && app.method !== 'REGISTER') { await this.appInDialog(c, msgId, existing.id, app); return; }
    if (!uriTarget(app.uri)) { this.nok(c, msgId, `invalid request-uri: ${app.method} ${app.uri} SIP/2.0`); return; }
    const remote = await this.resolve(routeUri || app.uri);
    const branch = `z9hG4bK${tag()}`;
    const other = this.appHeaders(app, ['max-forwards', 'from', 'to', 'call-id', 'cseq', 'contact']);
    let from = this.appHeaders(app, []).find((h) => canonicalName(h.name) === 'from')?.value;
    from ??= `<sip:${this.hostport()}>`;
    if (!tagOf(from)) from += `;tag=${tag()}`;
    const to = this.appHeaders(app, []).find((h) => canonicalName(h.name) === 'to')?.value ?? `<${app.uri}>`;
    const callId = callIdGiven ?? randomUUID();
    const cseq = getHeader(app, 'cseq') ?? `${this.cseq++} ${app.method}`;
    let contact = this.appHeaders(app, []).find((h) => canonicalName(h.name) === 'contact')?.value;
    if (!contact && (app.method === 'INVITE' || app.method === 'SUBSCRIBE')) contact = this.contact(remote.proto);
    const m: SipMessage = { ...app, headers: [
      { name: 'Via', value: this.via(remote.proto, branch) },
      { name: 'Max-Forwards', value: getHeader(app, 'max-forwards') ?? '70' },
      { name: 'From', value: from },
      { name: 'To', value: to },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: cseq },
      ...(contact ? [{ name: 'Contact', value: contact }] : []),
      ...other,
    ] };
    const err = this.finishBody(m);
    if (err) { this.nok(c, msgId, err); return; }
    const dialogId = app.method === 'INVITE' || app.method === 'SUBSCRIBE' ? `${callId};from-tag=${tagOf(from)}` : '';
    this.startClientTxn(c, msgId, m, remote, branch, dialogId);
  }

  private startClientTxn(c: AdminClient, msgId: string, m: SipMessage, remote: Remote, branch: string, dialogId: string): ClientTxn {
    const text = serializeSip(m);
    const txn: ClientTxn = {
      id: randomUUID(), key: `${branch}|${m.method}`, method: m.method, msg: m, text, remote, client: c, dialogId,
      provisional: false, final: 0, stop: () => {},
    };
    this.clientTxns.set(txn.key, txn);
    this.clientTxnsById.set(txn.id, txn);
    // "Msg sent" goes to the application before anything can come back from the network (§3.4).
    this.echoRequest(c, msgId, txn.id, remote, text);
    this.sendNetwork(remote, text);
    if (m.method === 'ACK') { this.dropClientTxn(txn, 0); return txn; }
    const { t1Ms, t2Ms } = this.opts;
    const invite = m.method === 'INVITE';
    let stopRetransmit = () => {};
    if (remote.proto === 'udp') {
      // RFC 3261 §17.1.1.2 timer A (INVITE, doubling, until a provisional) and §17.1.2.2 timer E
      // (non-INVITE, doubling up to T2).
      let interval = t1Ms;
      const arm = (): void => {
        stopRetransmit = this.timer(() => {
          if (txn.final || (invite && txn.provisional)) return;
          this.sendNetwork(remote, text);
          interval = invite ? interval * 2 : Math.min(interval * 2, t2Ms);
          arm();
        }, interval);
      };
      arm();
    }
    // Timers B and F: 64*T1 without a final response.
    const stopTimeout = this.timer(() => {
      if (txn.final) return;
      this.error('SIP_SIM_TRANSACTION_TIMEOUT', { method: m.method }, 'drachtio twin client transaction timed out');
      const res: SipMessage = {
        kind: 'response', method: m.method, uri: '', status: 408, reason: 'Request Timeout', body: '',
        headers: [
          { name: 'Via', value: getHeader(m, 'via') ?? '' },
          { name: 'From', value: getHeader(m, 'from') ?? '' },
          { name: 'To', value: getHeader(m, 'to') ?? '' },
          { name: 'Call-ID', value: getHeader(m, 'call-id') ?? '' },
          { name: 'CSeq', value: getHeader(m, 'cseq') ?? '' },
          { name: 'Content-Length', value: '0' },
        ],
      };
      this.onClientResponse(txn, res, serializeSip(res), remote, true);
    }, 64 * t1Ms);
    txn.stop = () => { stopRetransmit(); stopTimeout(); };
    return txn;
  }

  private dropClientTxn(txn: ClientTxn, afterMs: number): void {
    const drop = (): void => { this.clientTxns.delete(txn.key); this.clientTxnsById.delete(txn.id); };
    if (afterMs <= 0) drop(); else this.timer(drop, afterMs);
  }

  private async appInDialog(c: AdminClient, msgId: string, dialogId: string, app: SipMessage): Promise<void> {
    const d = this.dialogs.get(dialogId);
    if (!d) {
      if (app.method === 'ACK' && [...this.clientTxns.values()].some((t) => t.dialogId === dialogId && t.final >= 300)) {
        this.nok(c, msgId, 'Server error: ACK for non-success final response is automatically generated by server');
      } else {
        this.nok(c, msgId, 'Server error: unable to find dialog for dialog id provided');
      }
      return;
    }
    if (app.method === 'ACK' && d.inviteFailed) {
      this.nok(c, msgId, 'Server error: ACK for non-success final response is automatically generated by server');
      return;
    }
    const uri = app.method === 'ACK' || app.uri.includes('placeholder') ? d.remoteTarget : app.uri;
    const cseq = app.method === 'ACK' ? `${d.inviteCSeq} ACK` : `${++d.localCSeq} ${app.method}`;
    const branch = `z9hG4bK${tag()}`;
    let contact: string | undefined;
    if (app.method === 'INVITE' && getHeader(app, 'contact') === undefined) contact = this.contact(d.peer.proto);
    const m: SipMessage = { kind: 'request', method: app.method, uri, status: 0, reason: '', body: app.body, headers: [
      { name: 'Via', value: this.via(d.peer.proto, branch) },
      { name: 'Max-Forwards', value: getHeader(app, 'max-forwards') ?? '70' },
      { name: 'From', value: d.local },
      { name: 'To', value: d.remote },
      { name: 'Call-ID', value: d.callId },
      { name: 'CSeq', value: cseq },
      ...(contact ? [{ name: 'Contact', value: contact }] : []),
      ...this.appHeaders(app, ['max-forwards', 'from', 'to', 'call-id', 'cseq']),
    ] };
    const err = this.finishBody(m);
    if (err) { this.nok(c, msgId, err); return; }
    if (app.method === 'INVITE') d.inviteCSeq = d.localCSeq;
    const txn = this.startClientTxn(c, msgId, m, d.peer, branch, d.id);
    if (app.method === 'ACK') {
      d.ackText = txn.text;
    }
  }

  private appCancel(c: AdminClient, msgId: string, txnId: string, app: SipMessage): void {
    const inv = this.clientTxnsById.get(txnId);
    if (app.method !== 'CANCEL' || !inv) { this.nok(c, msgId, 'unable to find transaction'); return; }
    if (inv.final) { this.nok(c, msgId, 'transaction already completed'); return; }
    const branch = viaBranch(getHeader(inv.msg, 'via')) ?? `z9hG4bK${tag()}`;
    // RFC 3261 §9.1: same Request-URI, Call-ID, To, From, top Via and CSeq number as the INVITE.
    const m: SipMessage = { kind: 'request', method: 'CANCEL', uri: inv.msg.uri, status: 0, reason: '', body: '', headers: [
      { name: 'Via', value: getHeader(inv.msg, 'via') ?? '' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: getHeader(inv.msg, 'from') ?? '' },
      { name: 'To', value: getHeader(inv.msg, 'to') ?? '' },
      { name: 'Call-ID', value: getHeader(inv.msg, 'call-id') ?? '' },
      { name: 'CSeq', value: `${(getHeader(inv.msg, 'cseq') ?? '1').split(/\s+/)[0]} CANCEL` },
      ...this.appHeaders(app, ['max-forwards', 'from', 'to', 'call-id', 'cseq', 'content-type']),
      { name: 'Content-Length', value: '0' },
    ] };
    m.body = '';
    this.startClientTxn(c, msgId, m, inv.remote, branch, '');
  }

  private appResponse(c: AdminClient, msgId: string, txnId: string, app: SipMessage): void {
    const st = this.serverTxnsById.get(txnId);
    // drachtio-server's reply when the transaction is gone or already answered (e.g. after a CANCEL)
    if (!st || st.final) { this.nok(c, msgId, 'Response not sent due to unknown transaction'); return; }
    const req = st.req;
    const appTo = getHeader(app, 'to');
    if (appTo && tagOf(appTo)) st.toTag = tagOf(appTo);
    if (app.status > 100 && !tagOf(getHeader(req, 'to')) && !st.toTag) st.toTag = tag();
    let to = getHeader(req, 'to') ?? '';
    if (st.toTag && !tagOf(to)) to += `;tag=${st.toTag}`;
    const dialogForming = (req.method === 'INVITE' || req.method === 'SUBSCRIBE') && app.status > 100 && app.status < 300;
    let contact: string | undefined;
    // drachtio-server adds its Contact to a 2xx only; a 18x from the app goes out without one.
    if (dialogForming && app.status >= 200 && getHeader(app, 'contact') === undefined) contact = this.contact(st.remote.proto);
    const m: SipMessage = { kind: 'response', method: req.method, uri: '', status: app.status, reason: app.reason, body: app.body, headers: [
      ...getHeaders(req, 'via').map((v) => ({ name: 'Via', value: v })),
      { name: 'From', value: getHeader(req, 'from') ?? '' },
      { name: 'To', value: to },
      { name: 'Call-ID', value: getHeader(req, 'call-id') ?? '' },
      { name: 'CSeq', value: getHeader(req, 'cseq') ?? '' },
      ...(contact ? [{ name: 'Contact', value: contact }] : []),
      ...this.appHeaders(app, ['from', 'to', 'call-id', 'cseq']),
    ] };
    const err = this.finishBody(m);
    if (err) { this.nok(c, msgId, err); return; }
    const text = serializeSip(m);
    let dialogId = st.dialogId;
    if (dialogForming && !st.dialogId && this.dialogs.size < MAX_DIALOGS) {
      const callId = getHeader(req, 'call-id') ?? '';
      const remoteTag = tagOf(getHeader(req, 'from')) ?? '';
      dialogId = `${callId};from-tag=${remoteTag}`;
      st.dialogId = dialogId;
      this.dialogs.set(dialogId, {
        id: dialogId, type: 'uas', callId, localTag: st.toTag ?? '', remoteTag, local: to, remote: getHeader(req, 'from') ?? '',
        // sofia-sip numbers our first request in a UAS dialog after the peer's INVITE (CSeq n+1)
        remoteTarget: uriOf(getHeader(req, 'contact') ?? req.uri), peer: st.remote, localCSeq: Number((getHeader(req, 'cseq') ?? '1').split(/\s+/)[0]),
        inviteCSeq: Number((getHeader(req, 'cseq') ?? '1').split(/\s+/)[0]), client: c, inviteFailed: false,
      });
    }
    st.lastResponse = text;
    const bytes = Buffer.byteLength(text, 'utf8');
    // As drachtio-server v0.9.4-rc1 reports it: the transport and the dialog id for responses to
    // INVITE only; for any other request both fields are empty.
    const inv = req.method === 'INVITE';
    this.sendAdmin(c, `response|${msgId}|OK|application|${bytes}|${inv ? st.remote.proto : ''}|${st.remote.address}|${st.remote.port}|${this.time()}|${st.id}|${inv ? dialogId : ''}||Msg sent:|\r\n${text}`);
    this.sendNetwork(st.remote, text);
    if (app.status >= 200) {
      st.final = app.status;
      this.timer(() => { this.serverTxns.delete(st.key); this.serverTxnsById.delete(st.id); }, 64 * this.opts.t1Ms);
      const d = dialogId ? this.dialogs.get(dialogId) : undefined;
      if (req.method === 'INVITE' && d && d.type === 'uas') {
        if (app.status >= 300) this.dialogs.delete(dialogId);
        else if (st.remote.proto === 'udp') {
          // RFC 3261 §13.3.1.4: the UAS retransmits its 2xx until the ACK arrives.
          let interval = this.opts.t1Ms;
          let stop = () => {};
          const arm = (): void => {
            stop = this.timer(() => {
              if (!this.dialogs.has(d.id) || elapsed >= 64 * this.opts.t1Ms) return;
              this.sendNetwork(st.remote, text);
              elapsed += interval;
              interval = Math.min(interval * 2, this.opts.t2Ms);
              arm();
            }, interval);
          };
          let elapsed = 0;
          arm();
          d.stopRetransmit = () => stop();
        }
      }
      if (req.method === 'BYE' && d) this.deleteDialog(d);
    }
  }

  private deleteDialog(d: Dialog): void {
    d.stopRetransmit?.();
    this.dialogs.delete(d.id);
  }

  // ---------------------------------------------------------------- network side

  private onSipTcpConnection(s: Socket): void {
    if (this.closed) { s.destroy(); return; }
    const r: Remote = { proto: 'tcp', address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
    this.attachSipTcp(s, `${r.address}:${r.port}`, r);
  }

  private attachSipTcp(s: Socket, key: string, r: Remote): void {
    this.tcpConns.set(key, s);
    const splitter = new SipStreamSplitter();
    s.on('data', (chunk: Buffer) => {
      const { messages, overflow, framingError } = splitter.push(chunk);
      for (const m of messages) this.onNetworkMessage(m, r);
      if (framingError && !s.destroyed) {
        // A bad Content-Length breaks the stream's framing (RFC 4475 §3.1.2.3): close it.
        s.end();
        return;
      }
      if (overflow) {
        this.error('SIP_SIM_BAD_SIP_FROM_NETWORK', { address: r.address }, 'drachtio twin closed a SIP stream with an oversize message');
        s.destroy();
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => { if (this.tcpConns.get(key) === s) this.tcpConns.delete(key); });
  }

  private deliverAck(c: AdminClient, r: Remote, text: string, dialogId: string, bytes: number): void {
    this.sendAdmin(c, `sip|network|${bytes}||${r.address}|${r.port}|${this.time()}|${randomUUID()}|${dialogId}|\r\n${text}`);
  }

  /** `bytes`: the size of the message as it came off the wire (default: of `text`). */
  private deliver(c: AdminClient, r: Remote, text: string, txnId: string, dialogId: string, extra = '', bytes = Buffer.byteLength(text, 'utf8')): void {
    this.sendAdmin(c, `sip|network|${bytes}|${r.proto}|${r.address}|${r.port}|${this.time()}|${txnId}|${dialogId}|${extra}\r\n${text}`);
  }

  private onNetworkMessage(text: string, r: Remote): void {
    if (this.closed) return;
    if (/^\s*$/.test(text)) return; // keep-alive
    const verdict = checkSip(text, r.proto === 'tcp');
    if (verdict.action !== 'accept') {
      this.error('SIP_SIM_BAD_SIP_FROM_NETWORK', { address: r.address, port: r.port, why: verdict.why, status: verdict.action === 'reply' ? verdict.status : 0 },
        'drachtio twin refused a malformed SIP message');
      if (verdict.action === 'reply') this.replyNetwork(verdict.msg, r, verdict.status, verdict.reason);
      // sofia-sip shuts a stream down after answering (or dropping) a malformed request.
      if (r.proto === 'tcp') this.tcpConns.get(`${r.address}:${r.port}`)?.end();
      return;
    }
    const m = parseSip(text);
    if (!m || !getHeader(m, 'call-id') || !getHeader(m, 'cseq') || !getHeader(m, 'via')) {
      this.error('SIP_SIM_BAD_SIP_FROM_NETWORK', { address: r.address, port: r.port }, 'drachtio twin dropped an unparsable SIP message');
      return;
    }
    if (m.kind === 'response') {
      const key = `${viaBranch(getHeader(m, 'via'))}|${m.method}`;
      const txn = this.clientTxns.get(key);
      if (txn) this.onClientResponse(txn, m, text, r);
      else if (m.method === 'INVITE' && m.status >= 200 && m.status < 300) {
        // A retransmitted 2xx after the transaction ended: resend the ACK (RFC 3261 §13.2.2.4).
        const d = this.dialogs.get(`${getHeader(m, 'call-id')};from-tag=${tagOf(getHeader(m, 'from'))}`);
        if (d?.ackText) this.sendNetwork(d.peer, d.ackText);
      }
      return;
    }
    // sofia-sip stamps the top Via with rport/received before anyone sees the request: the app
    // gets it stamped, and every response echoes the stamped Via.
    const wireBytes = Buffer.byteLength(text, 'utf8');
    const via = m.headers.find((h) => canonicalName(h.name) === 'via');
    if (via) {
      via.value = stampVia(via.value, r.address, r.port);
      text = replaceFirstHeaderLine(text, 'via', `${via.name}: ${via.value}`);
    }
    this.onNetworkRequest(m, text, r, wireBytes);
  }

  /** `local`: a 408 generated here on timeout (nothing to ACK on the wire). */
  private onClientResponse(txn: ClientTxn, m: SipMessage, text: string, r: Remote, local = false): void {
    if (txn.final) {
      if (txn.method === 'INVITE' && m.status >= 300) this.sendNetwork(txn.remote, this.nonSuccessAck(txn, m)); // lost ACK
      return;
    }
    let dialogId = '';
    const invite = txn.method === 'INVITE' || txn.method === 'SUBSCRIBE';
    const toTag = tagOf(getHeader(m, 'to'));
    if (invite && m.status > 100 && toTag) dialogId = txn.dialogId;
    // responses to requests inside a dialog (BYE, INFO…) carry its id
    if (!invite && txn.dialogId) dialogId = txn.dialogId;
    if (m.status < 200) {
      txn.provisional = true;
    } else {
      txn.final = m.status;
      txn.stop();
      this.dropClientTxn(txn, txn.method === 'INVITE' ? 64 * this.opts.t1Ms : 0);
    }
    if (invite && toTag && m.status > 100 && m.status < 300) {
      let d = this.dialogs.get(txn.dialogId);
      const contact = getHeader(m, 'contact');
      if (!d && this.dialogs.size < MAX_DIALOGS) {
        d = {
          id: txn.dialogId, type: 'uac', callId: getHeader(txn.msg, 'call-id') ?? '', localTag: tagOf(getHeader(txn.msg, 'from')) ?? '',
          remoteTag: toTag, local: getHeader(txn.msg, 'from') ?? '', remote: getHeader(m, 'to') ?? '',
          remoteTarget: contact ? uriOf(contact) : txn.msg.uri, peer: txn.remote, localCSeq: Number((getHeader(txn.msg, 'cseq') ?? '1').split(/\s+/)[0]),
          inviteCSeq: Number((getHeader(txn.msg, 'cseq') ?? '1').split(/\s+/)[0]), client: txn.client, inviteFailed: false,
        };
        this.dialogs.set(d.id, d);
      } else if (d) {
        d.remoteTag = toTag;
        d.remote = getHeader(m, 'to') ?? d.remote;
        if (contact) d.remoteTarget = uriOf(contact);
      }
      if (d && contact) d.peer = this.peerFor(uriOf(contact), txn.remote);
    }
    if (txn.method === 'INVITE' && m.status >= 300) {
      const d = this.dialogs.get(txn.dialogId);
      if (d && d.type === 'uac') this.deleteDialog(d);
      if (!local) this.sendNetwork(txn.remote, this.nonSuccessAck(txn, m));
    }
    if (txn.method === 'BYE' && m.status >= 200 && txn.dialogId) {
      const d = this.dialogs.get(txn.dialogId);
      if (d) this.deleteDialog(d);
    }
    // drachtio-server keeps the response to a CANCEL it sent for the application to itself
    if (txn.method === 'CANCEL') return;
    this.deliver(txn.client, r, text, txn.id, dialogId);
  }

  /** Next hop for in-dialog requests: the remote target if it is an IP literal, else the old peer. */
  private peerFor(target: string, fallback: Remote): Remote {
    const t = uriTarget(target);
    if (!t || isIP(t.host) === 0) return fallback;
    return { proto: t.transport === 'tcp' ? 'tcp' : fallback.proto, address: t.host, port: t.port ?? 5060 };
  }

  /** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response is part of the INVITE transaction. */
  private nonSuccessAck(txn: ClientTxn, res: SipMessage): string {
    const m: SipMessage = { kind: 'request', method: 'ACK', uri: txn.msg.uri, status: 0, reason: '', body: '', headers: [
      { name: 'Via', value: getHeader(txn.msg, 'via') ?? '' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: getHeader(txn.msg, 'from') ?? '' },
      { name: 'To', value: getHeader(res, 'to') ?? '' },
      { name: 'Call-ID', value: getHeader(txn.msg, 'call-id') ?? '' },
      { name: 'CSeq', value: `${(getHeader(txn.msg, 'cseq') ?? '1').split(/\s+/)[0]} ACK` },
      { name: 'Content-Length', value: '0' },
    ] };
    return serializeSip(m);
  }

  /** Stateless reply to a network request (503, 481, 200 to CANCEL, 487). */
  private replyNetwork(req: SipMessage, r: Remote, status: number, reason: string, toTag?: string): string {
    let to = getHeader(req, 'to') ?? '';
    if (toTag && !tagOf(to)) to += `;tag=${toTag}`;
    else if (!tagOf(to) && status > 100) to += `;tag=${tag()}`;
    const m: SipMessage = { kind: 'response', method: req.method, uri: '', status, reason, body: '', headers: [
      ...getHeaders(req, 'via').map((v) => ({ name: 'Via', value: v })),
      { name: 'From', value: getHeader(req, 'from') ?? '' },
      { name: 'To', value: to },
      { name: 'Call-ID', value: getHeader(req, 'call-id') ?? '' },
      { name: 'CSeq', value: getHeader(req, 'cseq') ?? '' },
      { name: 'Content-Length', value: '0' },
    ] };
    const text = serializeSip(m);
    this.sendNetwork(r, text);
    return text;
  }

  private onNetworkRequest(m: SipMessage, text: string, r: Remote, wireBytes: number): void {
    // RFC 3261 §17.2.3: a server transaction is matched by branch, sent-by and method, so that
    // two callers reusing a branch value are not taken for one another.
    const branch = `${viaBranch(getHeader(m, 'via')) ?? ''}|${viaSentBy(getHeader(m, 'via'))}`;
    const callId = getHeader(m, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(m, 'from'));
    const toTag = tagOf(getHeader(m, 'to'));
    const key = `${branch}|${m.method}`;

    const again = this.serverTxns.get(key);
    if (again) { // retransmission: repeat the last response (RFC 3261 §17.2)
      if (again.lastResponse) this.sendNetwork(r, again.lastResponse);
      return;
    }
    if (m.method === 'CANCEL') {
      const inv = this.serverTxns.get(`${branch}|INVITE`);
      if (!inv) { this.replyNetwork(m, r, 481, 'Call/Transaction Does Not Exist'); return; }
      this.replyNetwork(m, r, 200, 'OK', inv.toTag);
      if (!inv.final) {
        inv.final = 487;
        inv.toTag ??= tag();
        inv.lastResponse = this.replyNetwork(inv.req, inv.remote, 487, 'Request Terminated', inv.toTag);
        const d = inv.dialogId ? this.dialogs.get(inv.dialogId) : undefined;
        if (d) this.deleteDialog(d);
        // the CANCEL goes to the application with the INVITE's transaction id and, a quirk of
        // drachtio-server, the INVITE's byte count
        if (inv.client) this.deliver(inv.client, r, text, inv.id, inv.dialogId, '', inv.wireBytes);
      }
      return;
    }
    if (m.method === 'ACK') {
      const inv = this.serverTxns.get(`${branch}|INVITE`);
      if (inv && inv.final >= 300) return; // ACK for a non-2xx: absorbed by the transaction
      const d = this.dialogs.get(`${callId};from-tag=${fromTag}`);
      if (!d) return;
      d.stopRetransmit?.();
      d.stopRetransmit = undefined;
      // the transport field of a delivered ACK is empty (drachtio-server v0.9.4-rc1)
      this.deliverAck(d.client, r, text, d.id, wireBytes);
      return;
    }
    if (this.serverTxns.size >= MAX_TXNS) { this.replyNetwork(m, r, 503, 'Service Unavailable'); return; }
    if (toTag) {
      const d = this.dialogs.get(`${callId};from-tag=${fromTag}`) ?? this.dialogs.get(`${callId};from-tag=${toTag}`);
      if (!d || d.localTag !== toTag) { this.replyNetwork(m, r, 481, 'Call/Transaction Does Not Exist'); return; }
      const st = this.addServerTxn(m, r, branch, d.client, d.id, wireBytes);
      st.toTag = toTag;
      if (m.method === 'INVITE') {
        // re-INVITE: the remote target may change (RFC 3261 §12.2.2)
        const ct = getHeader(m, 'contact');
        if (ct) d.remoteTarget = uriOf(ct);
      }
      this.deliver(d.client, r, text, st.id, d.id, '', wireBytes);
      return;
    }
    // drachtio-server answers a new INVITE with 100 Trying before it looks for an application
    // (so an unrouted INVITE gets 100 then 503).
    const trying = m.method === 'INVITE' ? this.replyNetwork(m, r, 100, 'Trying') : undefined;
    const verb = m.method.toLowerCase();
    const client = [...this.clients].find((c) => c.routes.has(verb));
    if (!client) { this.replyNetwork(m, r, 503, 'Service Unavailable'); return; }
    const st = this.addServerTxn(m, r, branch, client, '', wireBytes);
    st.lastResponse = trying;
    this.deliver(client, r, text, st.id, '', `${this.opts.sipHost}|${this.boundSipPort}|`, wireBytes);
  }

  private addServerTxn(m: SipMessage, r: Remote, branch: string, client: AdminClient, dialogId: string, wireBytes: number): ServerTxn {
    const st: ServerTxn = { id: randomUUID(), key: `${branch}|${m.method}`, method: m.method, req: m, remote: r, client, final: 0, dialogId, wireBytes };
    this.serverTxns.set(st.key, st);
    this.serverTxnsById.set(st.id, st);
    // An unanswered request is forgotten after 64 s, as drachtio-server's CLIENT_TIMEOUT does.
    this.timer(() => { if (!st.final) { this.serverTxns.delete(st.key); this.serverTxnsById.delete(st.id); } }, 64_000);
    return st;
  }
}

