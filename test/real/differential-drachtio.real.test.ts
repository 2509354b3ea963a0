// Differential test: the same client exchanges against the real drachtio-server (realfs) and the
// twin (src/sim/drachtio), compared after normalising volatile values (test/helpers/real/
// drachtio-diff.ts). The real program is right: a difference is a bug in the twin.
// Covered: the admin wire protocol as a raw client sees it; what drachtio-srf sees for the
// exchanges fsbridge uses (connect, REGISTER with digest, createUAC answered, busy or cancelled,
// an inbound INVITE bridged with createB2BUA with BYE from either side and CANCEL, a B2BUA leg to
// a trunk that asks for digest, OPTIONS and unrouted methods, the admin connection dropping under
// a pending request), including every admin frame srf receives; what the SIP peers on the other
// side receive. FSBRIDGE_DIFF_DUMP=1 prints both observations, FSBRIDGE_DIFF_ONLY=<text> runs the
// scenarios whose name contains it.
import t from 'tap';
import { connect as tcpConnect, type Socket } from 'node:net';
import Srf from 'drachtio-srf';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import {
  normaliseContext, normaliseText, sipShape, adminFrameShape, diffObservations, formatDiff,
  type NormaliseContext, type SipShape,
} from '../helpers/real/drachtio-diff.js';
import { startTwin } from '../integration/sip/srf-helpers.js';
import { UdpPeer, getHeader, type Received } from '../integration/sip/udp-peer.js';

const SECRET = 'diff-secret';
const SDP_A = 'v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const SDP_B = 'v=0\r\no=callee 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
/** How long "nothing more happens" is watched for (silence is an observation, not a timing check). */
const QUIET_MS = 400;
/** Upper bound for something that should happen (a missing message becomes `(missing)`). */
const WAIT_MS = 4000;

interface Target {
  name: 'real' | 'twin';
  adminPort: number;
  sipPort: number;
  /** Drops every admin connection, as a crash would (real: SIGKILL; twin: close()). */
  drop: () => Promise<void>;
}

type Teardown = (fn: () => unknown) => void;

/** Resolves with the value, or undefined when it did not come within ms. */
function within<T>(p: Promise<T>, ms = WAIT_MS): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ raw admin client

/** A raw admin-protocol client: writes bytes, reads `<len>#<payload>` frames. */
class RawAdmin {
  private readonly sock: Socket;
  private buf = Buffer.alloc(0);
  private readonly events: string[] = [];
  private wake = () => {};
  closed = false;
  badFrames = 0;

  constructor(port: number) {
    this.sock = tcpConnect(port, '127.0.0.1');
    this.sock.on('data', (b: Buffer) => this.onData(b));
    this.sock.on('error', () => {});
    this.sock.on('close', () => { this.closed = true; this.push('closed'); });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => { this.sock.once('connect', () => resolve()); this.sock.once('error', reject); });
  }

  private push(e: string): void { this.events.push(e); this.wake(); }

  private onData(b: Buffer): void {
    this.buf = Buffer.concat([this.buf, b]);
    for (;;) {
      const hash = this.buf.indexOf(0x23);
      if (hash < 0) return;
      const len = Number(this.buf.subarray(0, hash).toString('ascii'));
      if (!Number.isInteger(len)) { this.badFrames++; this.buf = Buffer.alloc(0); return; }
      if (this.buf.length < hash + 1 + len) return;
      this.push(`frame:${this.buf.subarray(hash + 1, hash + 1 + len).toString('utf8')}`);
      this.buf = this.buf.subarray(hash + 1 + len);
    }
  }

  write(raw: string): void { if (!this.closed) this.sock.write(raw); }
  send(payload: string): void { this.write(`${Buffer.byteLength(payload, 'utf8')}#${payload}`); }

  /** The next event: `frame:<payload>`, `closed`, or `silent` when nothing came within ms. */
  async next(ms = QUIET_MS): Promise<string> {
    if (this.events.length) return this.events.shift()!;
    await within(new Promise<void>((resolve) => { this.wake = resolve; }), ms);
    this.wake = () => {};
    return this.events.shift() ?? 'silent';
  }

  close(): void { this.sock.destroy(); }
}

interface RawStep { send?: string; raw?: string; /** events to read after writing (default 1) */ read?: number }

/**
 * One connection: each step is written and its events read; then a `ping` probe tells whether the
 * connection still answers (`open`), was closed by the server (`closed`) or is mute (`silent`).
 */
async function rawExchange(target: Target, steps: RawStep[], teardown: Teardown): Promise<string[]> {
  const c = new RawAdmin(target.adminPort);
  teardown(() => c.close());
  await c.ready();
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'admin-port': target.adminPort });
  const log: string[] = [];
  const shape = (e: string) => (e.startsWith('frame:') ? `<< ${adminFrameShape(e.slice(6), ctx)}` : e);
  for (const s of steps) {
    if (s.send !== undefined) c.send(s.send); else c.write(s.raw ?? '');
    for (let i = 0; i < (s.read ?? 1); i++) log.push(shape(await c.next()));
  }
  if (!c.closed) c.send('probe|ping');
  let end = await c.next();
  while (end !== 'closed' && end !== 'silent' && !end.includes('|probe|')) end = await c.next();
  log.push(end === 'closed' || end === 'silent' ? `end: ${end}` : `end: open (${shape(end)})`);
  if (c.badFrames) log.push(`bad frames from server: ${c.badFrames}`);
  return log;
}

// ------------------------------------------------------------------ drachtio-srf

interface SrfConn {
  srf: any; err?: string; hostport?: string; version?: string; localHostports?: string; events: string[];
  /** Every admin frame payload srf received, in order. */
  frames: string[];
}

/** A drachtio-srf instance connected to target (no reconnect loop beyond one attempt). */
async function connectSrf(target: Target, teardown: Teardown, secret = SECRET, before: (srf: any) => void = () => {}): Promise<SrfConn> {
  const srf: any = new (Srf as any)();
  const events: string[] = [];
  const frames: string[] = [];
  teardown(() => { try { srf.disconnect(); } catch { /* not connected */ } });
  srf.on('error', (err: Error) => events.push(`error: ${err.message.replace(/\d+$/, '<port>')}`));
  srf.on('close', () => events.push('close'));
  srf.on('reconnecting', () => events.push('reconnecting'));
  before(srf);
  const got = await within(new Promise<SrfConn>((resolve) => {
    srf.once('connect', (err: Error | null, hostport: string, version: string, localHostports: string) => resolve({
      srf, err: err ? err.message : undefined, hostport, version, localHostports, events, frames,
    }));
    srf.connect({ host: '127.0.0.1', port: target.adminPort, secret, reconnect: { maxAttempts: 1, retryMaxDelay: 100 } });
    // srf's wire protocol object exists once connect() was called; its 'msg' event is every frame
    srf._app.client.wp.on('msg', (_socket: unknown, msg: string) => frames.push(msg));
  }));
  return got ?? { srf, err: 'no connect event', events, frames };
}

/** Resolves once every admin message srf sent so far has been processed (a request's echo is the barrier). */
async function barrier(srf: any, sink: UdpPeer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    srf.request(`sip:sink@127.0.0.1:${sink.port}`, { method: 'OPTIONS' }, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

async function peer(teardown: Teardown): Promise<UdpPeer> {
  const p = new UdpPeer();
  await p.start();
  teardown(() => p.close());
  return p;
}

/** A UDP peer that answers everything 200 (the barrier's target). */
async function sinkPeer(teardown: Teardown): Promise<UdpPeer> {
  const p = await peer(teardown);
  p.onMessage = (r) => { if (r.msg.kind === 'request' && r.msg.method !== 'ACK') p.reply(r, 200, 'OK', [], 'sink'); };
  return p;
}

/**
 * The admin frames srf received, normalised and sorted (the order of independent network events
 * may vary from run to run). Call after the SIP messages were shaped, so that their Call-IDs have
 * their names already.
 */
function framesOf(conn: SrfConn, ctx: NormaliseContext): string[] {
  return conn.frames.map((f) => adminFrameShape(f, ctx)).sort();
}

/** The part of a Received message compared. */
function shapeOf(r: Received | undefined, ctx: NormaliseContext): SipShape | '(missing)' {
  return r ? sipShape(r.text, ctx) : '(missing)';
}

function sipLines(lines: string[], body = ''): string {
  return lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Names of the headers a srf message carries (as srf parsed them, lower-case). */
function srfHeaderNames(m: any): string[] {
  return Object.keys(m?.headers ?? {}).map((h) => h.toLowerCase()).sort();
}

// ------------------------------------------------------------------ scenarios

async function scenarioAdmin(target: Target, teardown: Teardown): Promise<Record<string, string[]>> {
  const auth = { send: `a1|authenticate|${SECRET}|` };
  return {
    'right secret': await rawExchange(target, [auth], teardown),
    'wrong secret': await rawExchange(target, [{ send: 'a1|authenticate|nope|' }], teardown),
    'route, duplicate route, remove_route, ping': await rawExchange(target, [
      auth, { send: 'r1|route|invite' }, { send: 'r2|route|invite' }, { send: 'r3|route|options' },
      { send: 'r4|remove_route|options' }, { send: 'p1|ping' },
    ], teardown),
    'ping and route before authenticate': await rawExchange(target, [{ send: 'p1|ping' }, { send: 'r1|route|invite' }], teardown),
    'unknown message type': await rawExchange(target, [auth, { send: 'u1|frobnicate|x' }], teardown),
    'a single token': await rawExchange(target, [auth, { send: 'lonely' }], teardown),
    'two frames in one write': await rawExchange(target, [auth, { raw: '7#p1|ping7#p2|ping', read: 2 }], teardown),
    'frame split inside the length': await rawExchange(target, [auth, { raw: '1', read: 0 }, { raw: '1#p1|ping|xyz' }], teardown),
    'non-digit length prefix': await rawExchange(target, [auth, { raw: '1x#p1|ping' }], teardown),
    'six-digit length prefix': await rawExchange(target, [auth, { raw: '100000#p1|ping' }], teardown),
    'empty length prefix': await rawExchange(target, [auth, { raw: '#p1|ping' }], teardown),
    'zero length frame': await rawExchange(target, [auth, { raw: '0#' }, { send: 'p1|ping' }], teardown),
    'sip messages the server refuses': await rawExchange(target, [
      auth,
      { send: 's1|sip||no-such-dialog\r\nBYE sip:placeholder SIP/2.0\r\nContent-Length: 0\r\n\r\n' },
      { send: 's2|sip|no-such-transaction|\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n' },
      { send: `s3|sip||\r\nOPTIONS sip:127.0.0.1:${target.sipPort} SIP/2.0\r\nContent-Length: 0\r\n\r\n` },
      { send: 's4|sip||\r\nMESSAGE sip:nobody@127.0.0.1:9 SIP/2.0\r\nContent-Length: 5\r\n\r\nhello' },
      { send: 's5|sip||\r\nOPTIONS not-a-uri SIP/2.0\r\nContent-Length: 0\r\n\r\n' },
    ], teardown),
  };
}

async function scenarioConnect(target: Target, teardown: Teardown): Promise<Record<string, unknown>> {
  const ok = await connectSrf(target, teardown);
  const bad = await connectSrf(target, teardown, 'wrong-secret');
  await sleep(QUIET_MS);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'admin-port': target.adminPort });
  return {
    ok: {
      err: ok.err ?? null,
      hostport: ok.hostport === undefined ? null : normaliseText(ok.hostport, ctx),
      localHostports: ok.localHostports === undefined ? null : normaliseText(ok.localHostports, ctx),
      versionPresent: typeof ok.version === 'string' && /^v\d+\.\d+\.\d+/.test(ok.version),
      events: ok.events,
    },
    wrongSecret: { err: bad.err ?? null, hostport: bad.hostport ?? null, events: bad.events },
  };
}

async function scenarioRegister(target: Target, teardown: Teardown): Promise<Record<string, unknown>> {
  const conn = await connectSrf(target, teardown);
  const { srf } = conn;
  const registrar = await peer(teardown);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'registrar-port': registrar.port });
  registrar.onMessage = (r) => {
    if (r.msg.method !== 'REGISTER' || r.msg.kind !== 'request') return;
    if (!getHeader(r.msg, 'authorization')) {
      registrar.reply(r, 401, 'Unauthorized', ['WWW-Authenticate: Digest realm="diff", nonce="n0nce", qop="auth", algorithm=MD5'], 'reg1');
    } else {
      registrar.reply(r, 200, 'OK', [`Contact: ${getHeader(r.msg, 'contact')};expires=60`, 'Expires: 60'], 'reg1');
    }
  };
  const responses: any[] = [];
  const final = new Promise<void>((resolve) => {
    srf.request(`sip:127.0.0.1:${registrar.port}`, {
      method: 'REGISTER',
      headers: {
        From: '<sip:alice@127.0.0.1>', To: '<sip:alice@127.0.0.1>', Contact: '<sip:alice@localhost>', Expires: '60',
        'Call-ID': `reg-${target.name}-1`, CSeq: '7 REGISTER', 'User-Agent': 'fsbridge',
      },
      auth: { username: 'alice', password: 's3cret' },
    }, (err: Error | null, req: any) => {
      if (err) { responses.push({ sendError: err.message }); resolve(); return; }
      responses.push({ echo: sipShape(req.raw, ctx) });
      req.on('response', (res: any) => {
        responses.push({ status: res.status, reason: res.reason, headers: srfHeaderNames(res), shape: sipShape(res.raw, ctx) });
        if (res.status >= 200 && res.status !== 401) resolve();
      });
    });
  });
  await within(final);
  const regs = registrar.received.filter((r) => r.msg.kind === 'request');
  const cseq = (r: Received | undefined) => Number((getHeader(r?.msg ?? ({ headers: [] } as any), 'cseq') ?? '').split(' ')[0]);
  return {
    srf: responses,
    registrarReceived: regs.map((r) => sipShape(r.text, ctx)),
    registrarCSeqs: regs.map((r) => cseq(r)),
    digestRetry: regs.length < 2 ? '(no retry)' : {
      cseqStep: cseq(regs[1]) - cseq(regs[0]),
      sameCallId: getHeader(regs[0].msg, 'call-id') === getHeader(regs[1].msg, 'call-id'),
      sameFrom: getHeader(regs[0].msg, 'from') === getHeader(regs[1].msg, 'from'),
    },
    adminFrames: framesOf(conn, ctx),
  };
}

async function scenarioUac(target: Target, teardown: Teardown): Promise<Record<string, unknown>> {
  const conn = await connectSrf(target, teardown);
  const { srf } = conn;
  const callee = await peer(teardown);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'callee-port': callee.port });
  let byeSent = false;
  callee.onMessage = (r) => {
    if (r.msg.kind !== 'request') return;
    if (r.msg.method === 'INVITE') {
      callee.reply(r, 180, 'Ringing', [], 'callee1');
      callee.reply(r, 200, 'OK', [`Contact: <sip:callee@127.0.0.1:${callee.port}>`, 'Content-Type: application/sdp'], 'callee1', SDP_B);
    }
    if (r.msg.method === 'ACK' && !byeSent) {
      byeSent = true;
      const inv = callee.received.find((x) => x.msg.method === 'INVITE')!;
      const contact = /<([^>]+)>/.exec(getHeader(inv.msg, 'contact') ?? '')?.[1] ?? `sip:127.0.0.1:${target.sipPort}`;
      callee.send(sipLines([
        `BYE ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${callee.port};branch=z9hG4bKcalleebye`, 'Max-Forwards: 70',
        `From: ${getHeader(inv.msg, 'to')};tag=callee1`, `To: ${getHeader(inv.msg, 'from')}`, `Call-ID: ${getHeader(inv.msg, 'call-id')}`, 'CSeq: 1 BYE',
      ]), target.sipPort);
    }
  };
  const provisional: Array<{ status: number; reason: string }> = [];
  let sent: any;
  let destroyed: Promise<any> = Promise.resolve(undefined);
  const dlg: any = await within(srf.createUAC(`sip:callee@127.0.0.1:${callee.port}`, {
    localSdp: SDP_A, headers: { From: '<sip:bot@localhost>', 'X-Diff': 'uac' },
  }, {
    cbRequest: (_e: unknown, req: any) => { sent = req; },
    cbProvisional: (res: any) => provisional.push({ status: res.status, reason: res.reason }),
  }).then((d: any) => { destroyed = new Promise((resolve) => d.on('destroy', (bye: any) => resolve(bye))); return d; }).catch((e: any) => ({ rejected: e?.status ?? e?.message })));
  const bye: any = await within(destroyed);
  const byeOk = await within(callee.next((r) => r.msg.kind === 'response' && r.msg.method === 'BYE'));
  await sleep(QUIET_MS / 2); // the "Msg sent" for srf's 200 may trail the 200 itself
  return {
    echo: sent ? sipShape(sent.raw, ctx) : '(missing)',
    provisional,
    dialog: !dlg ? '(none)' : dlg.rejected !== undefined ? dlg : {
      type: dlg.type, remoteTag: dlg.sip?.remoteTag, hasLocalTag: Boolean(dlg.sip?.localTag),
      remoteUri: normaliseText(String(dlg.remote?.uri), ctx), localContact: normaliseText(String(dlg.local?.contact), ctx),
      remoteSdp: dlg.remote?.sdp === SDP_B, localUri: normaliseText(String(dlg.local?.uri), ctx),
    },
    byeAtSrf: bye ? { method: bye.method, headers: srfHeaderNames(bye), shape: sipShape(bye.raw, ctx) } : '(missing)',
    calleeReceived: {
      invite: shapeOf(callee.received.find((r) => r.msg.method === 'INVITE' && r.msg.kind === 'request'), ctx),
      ack: shapeOf(callee.received.find((r) => r.msg.method === 'ACK'), ctx),
      byeResponse: shapeOf(byeOk, ctx),
    },
    adminFrames: framesOf(conn, ctx),
  };
}

/**
 * createUAC that does not end in a dialog, as fsbridge's outbound calls can: the callee is busy
 * (486), or ringing when srf cancels (the no-answer timeout).
 */
async function scenarioUacFailure(target: Target, teardown: Teardown, mode: 'busy' | 'cancel'): Promise<Record<string, unknown>> {
  const conn = await connectSrf(target, teardown);
  const callee = await peer(teardown);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'callee-port': callee.port });
  callee.onMessage = (r) => {
    if (r.msg.kind !== 'request') return;
    if (r.msg.method === 'INVITE') {
      if (mode === 'busy') callee.reply(r, 486, 'Busy Here', [], 'busy1');
      else callee.reply(r, 180, 'Ringing', [], 'ring1');
    }
    if (r.msg.method === 'CANCEL') {
      callee.reply(r, 200, 'OK', [], 'ring1');
      callee.reply(callee.received.find((x) => x.msg.method === 'INVITE')!, 487, 'Request Terminated', [], 'ring1');
    }
  };
  let sent: any;
  const outcome: any = await within(conn.srf.createUAC(`sip:callee@127.0.0.1:${callee.port}`, { localSdp: SDP_A }, {
    cbRequest: (_e: unknown, req: any) => { sent = req; },
    cbProvisional: () => { if (mode === 'cancel') sent?.cancel(); },
  }).then(() => 'dialog', (e: any) => ({ status: e?.status, reason: e?.reason, name: e?.name })));
  await within(callee.next((r) => r.msg.method === 'ACK'));
  await sleep(QUIET_MS / 2); // a late NOK for srf's own ACK, if any
  const got = (pred: (r: Received) => boolean) => shapeOf(callee.received.find(pred), ctx);
  return {
    outcome: outcome ?? '(none)',
    calleeGot: [...new Set(callee.received.map((r) => (r.msg.kind === 'request' ? r.msg.method : `${r.msg.status} ${r.msg.method}`)))],
    invite: got((r) => r.msg.method === 'INVITE' && r.msg.kind === 'request'),
    cancel: got((r) => r.msg.method === 'CANCEL'),
    ack: got((r) => r.msg.method === 'ACK'),
    adminFrames: framesOf(conn, ctx),
  };
}

/**
 * How the bridged call goes: BYE from the caller or the callee, CANCEL from the caller, or (as
 * fsbridge's outbound calls to a trunk) a From at @localhost and a 407 digest challenge from the
 * callee, then BYE from the caller.
 */
type InboundEnd = 'caller-bye' | 'callee-bye' | 'caller-cancel' | 'trunk-auth';

/**
 * A caller INVITEs drachtio-server; srf.invite bridges it with createB2BUA (as src/sip/inbound.ts
 * does) to a callee; the call ends as `end` says.
 */
async function scenarioInbound(target: Target, teardown: Teardown, end: InboundEnd): Promise<Record<string, unknown>> {
  const legs: { uas?: any; uac?: any; err?: unknown; srfReq?: any; destroyed: string[] } = { destroyed: [] };
  const caller = await peer(teardown);
  const callee = await peer(teardown);
  const sink = await sinkPeer(teardown);
  let resolveSettled = () => {};
  const settled = new Promise<void>((resolve) => { resolveSettled = resolve; });
  const reason = { Reason: 'Q.850;cause=16;text="NORMAL_CLEARING"' };
  const conn = await connectSrf(target, teardown, SECRET, (srf) => {
    srf.invite((req: any, res: any) => {
      legs.srfReq = req;
      const opts = end === 'trunk-auth'
        ? { headers: { From: '<sip:+15550001@localhost>' }, auth: { username: 'trunk', password: 'pw' } }
        : { headers: { 'X-Fsbridge-Call': 'diff-call' }, passFailure: false };
      srf.createB2BUA(req, res, `sip:fs@127.0.0.1:${callee.port}`, opts)
        .then(({ uas, uac }: any) => {
          legs.uas = uas;
          legs.uac = uac;
          uas.on('destroy', () => { legs.destroyed.push('uas'); uac.destroy({ headers: reason }).catch(() => {}); resolveSettled(); });
          uac.on('destroy', () => { legs.destroyed.push('uac'); uas.destroy({ headers: reason }).catch(() => {}); resolveSettled(); });
        })
        .catch((err: any) => {
          legs.err = { status: err?.status, reason: err?.reason };
          if (!res.finalResponseSent) { try { res.send(err?.status ?? 500); } catch { /* gone */ } }
          resolveSettled();
        });
    });
  });
  await barrier(conn.srf, sink);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'caller-port': caller.port, 'callee-port': callee.port, 'sink-port': sink.port });
  const sp = target.sipPort;

  callee.onMessage = (r) => {
    if (r.msg.kind !== 'request') return;
    if (r.msg.method === 'INVITE' && end === 'trunk-auth' && !getHeader(r.msg, 'proxy-authorization')) {
      callee.reply(r, 407, 'Proxy Authentication Required', ['Proxy-Authenticate: Digest realm="trunk", nonce="tn0nce", qop="auth", algorithm=MD5'], 'auth1');
      return;
    }
    if (r.msg.method === 'INVITE') {
      // early media (183 with SDP) in one variant, plain ringing in the others
      if (end === 'callee-bye') callee.reply(r, 183, 'Session Progress', [`Contact: <sip:fs@127.0.0.1:${callee.port}>`, 'Content-Type: application/sdp'], 'fs1', SDP_B);
      else callee.reply(r, 180, 'Ringing', [], 'fs1');
      if (end !== 'caller-cancel') {
        callee.reply(r, 200, 'OK', [`Contact: <sip:fs@127.0.0.1:${callee.port}>`, 'Content-Type: application/sdp'], 'fs1', SDP_B);
      }
    }
    if (r.msg.method === 'CANCEL') {
      callee.reply(r, 200, 'OK', [], 'fs1');
      const inv = callee.received.find((x) => x.msg.method === 'INVITE')!;
      callee.reply(inv, 487, 'Request Terminated', [], 'fs1');
    }
    if (r.msg.method === 'BYE') callee.reply(r, 200, 'OK', [], 'fs1');
  };
  caller.onMessage = (r) => {
    if (r.msg.kind === 'request' && r.msg.method === 'BYE') caller.reply(r, 200, 'OK', [], 'x');
  };
  const callId = `inbound-${end}-${target.name}`;
  const base = ['Max-Forwards: 70', 'From: "Caller" <sip:+15550001@127.0.0.1>;tag=caller1', `To: <sip:+15550002@127.0.0.1:${sp}>`, `Call-ID: ${callId}`];
  const via = (b: string) => `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${b}`;
  caller.send(sipLines([
    `INVITE sip:+15550002@127.0.0.1:${sp} SIP/2.0`, via('inv1'), ...base, 'CSeq: 10 INVITE',
    `Contact: <sip:caller@127.0.0.1:${caller.port}>`, 'Content-Type: application/sdp', 'User-Agent: diff-caller',
  ], SDP_A), sp);

  const ringing = await within(caller.next((r) => r.msg.status > 100 && r.msg.status < 200));
  const calleeInvite = await within(callee.next((r) => r.msg.kind === 'request' && r.msg.method === 'INVITE'));
  let toTag = '';
  let answered: Received | undefined;
  if (end === 'caller-cancel') {
    caller.send(sipLines([`CANCEL sip:+15550002@127.0.0.1:${sp} SIP/2.0`, via('inv1'), ...base, 'CSeq: 10 CANCEL']), sp);
    const terminated = await within(caller.next((r) => r.msg.status === 487));
    toTag = /tag=([^;\s]+)/.exec(getHeader(terminated?.msg ?? ({ headers: [] } as any), 'to') ?? '')?.[1] ?? '';
    caller.send(sipLines([`ACK sip:+15550002@127.0.0.1:${sp} SIP/2.0`, via('inv1'), base[0], base[1], `${base[2]};tag=${toTag}`, base[3], 'CSeq: 10 ACK']), sp);
    await within(settled);
    await within(callee.next((r) => r.msg.method === 'ACK'));
  } else {
    answered = await within(caller.next((r) => r.msg.status === 200 && r.msg.method === 'INVITE'));
    toTag = /tag=([^;\s]+)/.exec(getHeader(answered?.msg ?? ({ headers: [] } as any), 'to') ?? '')?.[1] ?? '';
    const target200 = /<([^>]+)>/.exec(getHeader(answered?.msg ?? ({ headers: [] } as any), 'contact') ?? '')?.[1] ?? `sip:127.0.0.1:${sp}`;
    const dlgBase = [base[0], base[1], `${base[2]};tag=${toTag}`, base[3]];
    caller.send(sipLines([`ACK ${target200} SIP/2.0`, via('ack1'), ...dlgBase, 'CSeq: 10 ACK']), sp);
    await within(callee.next((r) => r.msg.method === 'ACK'));
    await sleep(50); // both ACKs delivered before the BYE (the order a real caller would keep)
    if (end === 'caller-bye' || end === 'trunk-auth') {
      caller.send(sipLines([`BYE ${target200} SIP/2.0`, via('bye1'), ...dlgBase, 'CSeq: 11 BYE']), sp);
      await within(caller.next((r) => r.msg.kind === 'response' && r.msg.method === 'BYE'));
      await within(callee.next((r) => r.msg.kind === 'request' && r.msg.method === 'BYE'));
    } else {
      const inv = calleeInvite!;
      const contact = /<([^>]+)>/.exec(getHeader(inv.msg, 'contact') ?? '')?.[1] ?? `sip:127.0.0.1:${sp}`;
      callee.send(sipLines([
        `BYE ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${callee.port};branch=z9hG4bKfsbye`, 'Max-Forwards: 70',
        `From: ${getHeader(inv.msg, 'to')};tag=fs1`, `To: ${getHeader(inv.msg, 'from')}`, `Call-ID: ${getHeader(inv.msg, 'call-id')}`, 'CSeq: 1 BYE',
      ]), sp);
      await within(callee.next((r) => r.msg.kind === 'response' && r.msg.method === 'BYE'));
      await within(caller.next((r) => r.msg.kind === 'request' && r.msg.method === 'BYE'));
    }
    await within(settled);
  }
  await sleep(QUIET_MS / 2); // retransmissions and late responses, if any
  const req = legs.srfReq;
  const calleeMsgs = callee.received.map((r) => (r.msg.kind === 'request' ? r.msg.method : `${r.msg.status} ${r.msg.method}`));
  const callerMsgs = caller.received.map((r) => (r.msg.kind === 'request' ? r.msg.method : `${r.msg.status} ${r.msg.method}`));
  const first = (list: Received[], pred: (r: Received) => boolean) => shapeOf(list.find(pred), ctx);
  return {
    srfInvite: req ? {
      method: req.method, uri: normaliseText(req.uri, ctx), headers: srfHeaderNames(req), protocol: req.protocol,
      source: `${req.source}`, sourceAddress: req.source_address, sourcePort: normaliseText(`:${req.source_port}`, ctx),
      receivedOn: normaliseText(`${req.receivedOn}`, ctx), shape: sipShape(req.raw, ctx),
    } : '(missing)',
    b2bua: legs.err ? { rejected: legs.err } : { uas: Boolean(legs.uas), uac: Boolean(legs.uac), destroyed: legs.destroyed },
    // sequences (without duplicates from retransmission)
    callerGot: [...new Set(callerMsgs)],
    calleeGot: [...new Set(calleeMsgs)],
    caller: {
      trying: first(caller.received, (r) => r.msg.status === 100),
      ringing: shapeOf(ringing, ctx),
      ok: shapeOf(answered, ctx),
      byeOk: first(caller.received, (r) => r.msg.kind === 'response' && r.msg.method === 'BYE'),
      bye: first(caller.received, (r) => r.msg.kind === 'request' && r.msg.method === 'BYE'),
      cancelOk: first(caller.received, (r) => r.msg.kind === 'response' && r.msg.method === 'CANCEL'),
      terminated: first(caller.received, (r) => r.msg.status === 487),
    },
    callee: {
      invite: shapeOf(calleeInvite, ctx),
      invites: callee.received.filter((r) => r.msg.method === 'INVITE' && r.msg.kind === 'request').map((r) => sipShape(r.text, ctx)),
      acks: callee.received.filter((r) => r.msg.method === 'ACK').map((r) => sipShape(r.text, ctx)),
      ack: first(callee.received, (r) => r.msg.method === 'ACK'),
      bye: first(callee.received, (r) => r.msg.kind === 'request' && r.msg.method === 'BYE'),
      byeOk: first(callee.received, (r) => r.msg.kind === 'response' && r.msg.method === 'BYE'),
      cancel: first(callee.received, (r) => r.msg.method === 'CANCEL'),
    },
    adminFrames: framesOf(conn, ctx),
  };
}

/** OPTIONS answered by srf.options, and methods nobody routed, sent by a UDP peer. */
async function scenarioUnrouted(target: Target, teardown: Teardown): Promise<Record<string, unknown>> {
  const routed: string[] = [];
  const conn = await connectSrf(target, teardown, SECRET, (srf) => {
    srf.options((req: any, res: any) => { routed.push(req.method); res.send(200); });
  });
  const sink = await sinkPeer(teardown);
  await barrier(conn.srf, sink);
  const caller = await peer(teardown);
  const ctx = normaliseContext({ 'sip-port': target.sipPort, 'caller-port': caller.port, 'sink-port': sink.port });
  const out: Record<string, unknown> = {};
  for (const method of ['OPTIONS', 'MESSAGE', 'INFO', 'INVITE']) {
    const before = caller.received.length;
    caller.send(sipLines([
      `${method} sip:svc@127.0.0.1:${target.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${method}1`,
      'Max-Forwards: 70', 'From: <sip:probe@127.0.0.1>;tag=p1', `To: <sip:svc@127.0.0.1:${target.sipPort}>`, `Call-ID: probe-${method}-${target.name}`,
      `CSeq: 1 ${method}`, `Contact: <sip:probe@127.0.0.1:${caller.port}>`,
    ]), target.sipPort);
    await within(caller.next((r) => r.msg.kind === 'response' && r.msg.status >= 200, before));
    await sleep(50);
    out[method] = caller.received.slice(before).map((r) => sipShape(r.text, ctx));
  }
  out.routedToSrf = routed;
  out.adminFrames = framesOf(conn, ctx);
  // no app routes anything: the server answers by itself
  conn.srf.disconnect();
  await sleep(100);
  const before = caller.received.length;
  caller.send(sipLines([
    `OPTIONS sip:svc@127.0.0.1:${target.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKnoapp`,
    'Max-Forwards: 70', 'From: <sip:probe@127.0.0.1>;tag=p2', `To: <sip:svc@127.0.0.1:${target.sipPort}>`, `Call-ID: probe-noapp-${target.name}`, 'CSeq: 1 OPTIONS',
  ]), target.sipPort);
  await within(caller.next((r) => r.msg.kind === 'response', before));
  out['OPTIONS, no app connected'] = caller.received.slice(before).map((r) => sipShape(r.text, ctx));
  return out;
}

/** The admin connection drops while srf has a request pending (the peer never answers). */
async function scenarioDrop(target: Target, teardown: Teardown): Promise<Record<string, unknown>> {
  const conn = await connectSrf(target, teardown);
  const silent = await peer(teardown);
  const responses: number[] = [];
  const echoed = await within(new Promise<boolean>((resolve) => {
    conn.srf.request(`sip:mute@127.0.0.1:${silent.port}`, { method: 'OPTIONS' }, (err: Error | null, req: any) => {
      if (err) { resolve(false); return; }
      req.on('response', (res: any) => responses.push(res.status));
      resolve(true);
    });
  }));
  await within(silent.next(() => true));
  conn.events.length = 0;
  await target.drop();
  await sleep(QUIET_MS * 2);
  let after: string;
  try {
    after = await within(new Promise<string>((resolve) => {
      conn.srf.request(`sip:mute@127.0.0.1:${silent.port}`, { method: 'OPTIONS' }, (err: Error | null) => resolve(err ? `callback error: ${err.message}` : 'sent'));
    }), QUIET_MS) ?? 'no callback';
  } catch (err) {
    after = `threw: ${(err as Error).message}`;
  }
  return { echoed, eventsAfterDrop: conn.events, responsesAfterDrop: responses, requestAfterDrop: after };
}

// ------------------------------------------------------------------ the test

t.test('drachtio-server twin vs the real drachtio-server', { skip: realSkipReason() }, async (t) => {
  const real = await RealDrachtio.start(t, SECRET);
  const twin = await startTwin({ secret: SECRET });
  t.teardown(() => twin.close());
  const targets: Target[] = [
    { name: 'real', adminPort: real.adminPort, sipPort: real.sipPort, drop: async () => { real.kill(); } },
    { name: 'twin', adminPort: twin.adminPort, sipPort: twin.sipPort, drop: () => twin.close() },
  ];

  const only = process.env.FSBRIDGE_DIFF_ONLY; // a substring of the scenario names to run (development)
  const compare = async (name: string, run: (target: Target, teardown: Teardown) => Promise<unknown>) => {
    if (only && !name.includes(only)) return;
    await t.test(name, async (t) => {
      const teardown: Teardown = (fn) => t.teardown(fn);
      const seen: unknown[] = [];
      for (const target of targets) seen.push(await run(target, teardown));
      const diffs = diffObservations(seen[0], seen[1]);
      if (process.env.FSBRIDGE_DIFF_DUMP) t.comment(`${name}\nreal: ${JSON.stringify(seen[0], null, 1)}\ntwin: ${JSON.stringify(seen[1], null, 1)}`);
      if (diffs.length) t.comment(formatDiff(name, diffs));
      t.same(diffs, [], `${name}: the twin behaves as the real drachtio-server`);
    });
  };

  await compare('admin protocol, raw client', scenarioAdmin);
  await compare('srf connect', scenarioConnect);
  await compare('REGISTER with a digest challenge', scenarioRegister);
  await compare('createUAC INVITE, 180/200, BYE from the callee', scenarioUac);
  await compare('createUAC answered 486 Busy Here', (x, td) => scenarioUacFailure(x, td, 'busy'));
  await compare('createUAC cancelled by srf while ringing', (x, td) => scenarioUacFailure(x, td, 'cancel'));
  await compare('inbound INVITE bridged by createB2BUA, BYE from the caller', (x, td) => scenarioInbound(x, td, 'caller-bye'));
  await compare('inbound INVITE bridged by createB2BUA, BYE from the callee', (x, td) => scenarioInbound(x, td, 'callee-bye'));
  await compare('inbound INVITE bridged by createB2BUA, CANCEL before answer', (x, td) => scenarioInbound(x, td, 'caller-cancel'));
  await compare('createB2BUA to a trunk that asks for digest (407), From @localhost', (x, td) => scenarioInbound(x, td, 'trunk-auth'));
  await compare('OPTIONS to srf.options and methods nobody routed', scenarioUnrouted);
  // last: it kills the real drachtio-server and closes the twin
  await compare('admin connection dropped under a pending request', scenarioDrop);
});
