// Issue 13 (scale-out): the shipped deploy/kamailio/kamailio.cfg in front of three fake fsbridge
// nodes (test/e2e/fake-sip-node.ts) on loopback, with the caller a raw UDP UAC in this file. Round
// robin, failover on 503/500/silence/hung-after-100, OPTIONS-driven rotation, record-routed ACK and
// BYE, CANCEL. Nothing here asserts how long anything took: loops wait on conditions and are
// bounded; the failover times are measured and printed (t.comment) for docs/scale-out.md.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort } from './sipp-runner.js';
import { startKamailio, kamailioSkipReason, DEPLOY_KAMAILIO_CFG, type Kamailio } from './kamailio-runner.js';
import { FakeSipNode, parseSip, header, headers, type SipMessage } from './fake-sip-node.js';
import { until } from '../helpers/harness.js';

/** Short timers so a failing node costs the tests about a second; production defaults are in the cfg. */
const FR_TIMER_MS = 1000;
const FR_INV_TIMER_MS = 1500;
const TEST_DEFINES = ['DS_PING_INTERVAL=1', `FR_TIMER=${FR_TIMER_MS}`, `FR_INV_TIMER=${FR_INV_TIMER_MS}`];
/** Safety net for one call's final answer (failover over three nodes takes a few FR timers). */
const CALL_TIMEOUT_MS = 30_000;

interface Dialog { callId: string; from: string; to: string; target: string; routes: string[]; nextHop: { host: string; port: number } }

/** How a call attempt ended: the final status, which node answered (its Contact user), when. */
interface Outcome { callId: string; status: number; node: string | null; atMs: number; dialog: Dialog | null }

interface PendingCall { callId: string; final: Promise<Outcome>; cancel(): Promise<number> }

function cseqMethod(m: SipMessage): string {
  return (header(m, 'cseq') ?? '').split(/\s+/)[1] ?? '';
}

/** `<sip:127.0.0.1:5060;lr>` -> host and port (5060 when absent). */
function hostPort(uri: string): { host: string; port: number } {
  const m = /sip:(?:[^@;>]+@)?([^:;>]+)(?::(\d+))?/.exec(uri);
  if (!m) throw new Error(`not a SIP URI: ${uri}`);
  return { host: m[1], port: m[2] ? Number(m[2]) : 5060 };
}

/**
 * The operator's side: sends INVITEs to kamailio over UDP from 127.0.0.1, retransmits requests
 * until a response arrives (bounded), ACKs final answers (the 2xx along the Record-Route path,
 * others hop by hop as RFC 3261 17.1.1.3 says), and hangs up with BYE along the route set.
 */
class Caller {
  private socket: Socket | null = null;
  private boxes = new Map<string, { msgs: SipMessage[]; wake: (() => void) | null }>();
  private seq = 0;
  private readonly kamPort: number;

  constructor(kamPort: number) {
    this.kamPort = kamPort;
  }

  async open(): Promise<void> {
    const s = createSocket('udp4');
    this.socket = s;
    s.on('message', (buf) => {
      const m = parseSip(buf.toString('utf8'));
      if (!m || m.status === null) return;
      const box = this.box(header(m, 'call-id') ?? '');
      box.msgs.push(m);
      box.wake?.();
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    return s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
  }

  private get port(): number {
    if (!this.socket) throw new Error('Caller: not open');
    return this.socket.address().port;
  }

  private box(callId: string) {
    let b = this.boxes.get(callId);
    if (!b) { b = { msgs: [], wake: null }; this.boxes.set(callId, b); }
    return b;
  }

  private send(text: string, to: { host: string; port: number }): void {
    this.socket?.send(text, to.port, to.host);
  }

  /**
   * Resolves (and removes) the first response of `callId` with CSeq method `method` that passes
   * `pred`; calls `resend` every 500 ms until any response to that method arrived (UDP
   * retransmission, RFC 3261 17.1.1.2 without the back-off). Rejects after `timeoutMs`.
   */
  private async response(callId: string, method: string, pred: (m: SipMessage) => boolean, timeoutMs: number, resend?: () => void): Promise<SipMessage> {
    const box = this.box(callId);
    const start = Date.now();
    let sentAt = start;
    for (;;) {
      const i = box.msgs.findIndex((m) => cseqMethod(m) === method && pred(m));
      if (i >= 0) return box.msgs.splice(i, 1)[0];
      if (Date.now() - start > timeoutMs) throw new Error(`no ${method} response for ${callId} in ${timeoutMs} ms`);
      if (!this.socket) throw new Error('Caller: closed while waiting for a response');
      const heard = box.msgs.some((m) => cseqMethod(m) === method);
      if (resend && !heard && Date.now() - sentAt >= 500) { resend(); sentAt = Date.now(); }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 50);
        box.wake = () => { clearTimeout(timer); r(); };
      });
      box.wake = null;
    }
  }

  /** Sends a new INVITE; `final` resolves once the final answer came and was ACKed. */
  start(): PendingCall {
    const id = `${process.pid}-${++this.seq}-${Date.now()}`;
    const callId = `call-${id}@127.0.0.1`;
    const me = this.port;
    const kam = { host: '127.0.0.1', port: this.kamPort };
    const ruri = `sip:+15550100@127.0.0.1:${this.kamPort}`;
    const via = `SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-${id};rport`;
    const from = `<sip:+15550199@127.0.0.1:${me}>;tag=f-${id}`;
    const to = `<${ruri}>`;
    const sdp = ['v=0', 'o=caller 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const invite = [`INVITE ${ruri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
      `Contact: <sip:caller@127.0.0.1:${me}>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n');
    this.send(invite, kam);
    const finalP = this.response(callId, 'INVITE', (m) => (m.status ?? 0) >= 200, CALL_TIMEOUT_MS, () => this.send(invite, kam));
    const final = (async (): Promise<Outcome> => {
      const r = await finalP;
      const atMs = Date.now();
      const status = r.status ?? 0;
      const toWithTag = header(r, 'to') ?? to;
      if (status >= 300) {
        // Non-2xx: ACK hop by hop, same branch as the INVITE, no Route.
        this.send([`ACK ${ruri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: ${from}`, `To: ${toWithTag}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'), kam);
        return { callId, status, node: null, atMs, dialog: null };
      }
      const contact = header(r, 'contact') ?? '';
      const target = /<([^>]+)>/.exec(contact)?.[1] ?? contact;
      // The UAC's route set is the 2xx's Record-Route list reversed (RFC 3261 12.1.2).
      const routes = headers(r, 'record-route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse();
      const dialog: Dialog = { callId, from, to: toWithTag, target, routes, nextHop: routes.length > 0 ? hostPort(routes[0]) : hostPort(target) };
      this.sendInDialog(dialog, 'ACK', 1, `ack-${id}`);
      return { callId, status, node: /sip:([^@>;]+)@/.exec(contact)?.[1] ?? null, atMs, dialog };
    })();
    const cancel = async (): Promise<number> => {
      this.send([`CANCEL ${ruri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 1 CANCEL', 'Content-Length: 0', '', ''].join('\r\n'), kam);
      const r = await this.response(callId, 'CANCEL', () => true, CALL_TIMEOUT_MS);
      return r.status ?? 0;
    };
    return { callId, final, cancel };
  }

  private sendInDialog(d: Dialog, method: string, cseq: number, branch: string): string {
    const text = [`${method} ${d.target} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK-${branch};rport`, 'Max-Forwards: 70',
      ...d.routes.map((r) => `Route: ${r}`), `From: ${d.from}`, `To: ${d.to}`, `Call-ID: ${d.callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
    this.send(text, d.nextHop);
    return text;
  }

  /** Hangs up an answered call with BYE along its route set; resolves the BYE's final status. */
  async hangup(o: Outcome): Promise<number> {
    if (!o.dialog) throw new Error('hangup: the call was not answered');
    const d = o.dialog;
    const branch = `bye-${o.callId}`;
    const text = this.sendInDialog(d, 'BYE', 2, branch);
    const r = await this.response(d.callId, 'BYE', (m) => (m.status ?? 0) >= 200, CALL_TIMEOUT_MS, () => this.send(text, d.nextHop));
    return r.status ?? 0;
  }

  /** One whole call: INVITE, final answer, ACK, and BYE when answered (unless `hangup` is false). */
  async call(opts: { hangup?: boolean } = {}): Promise<Outcome> {
    const o = await this.start().final;
    if (o.status >= 200 && o.status < 300 && opts.hangup !== false) await this.hangup(o);
    return o;
  }
}

/** Three fake nodes a, b, c in dispatcher set 1 behind a fresh kamailio; everything closed in teardown. */
async function cluster(t: any) {
  const nodes = ['a', 'b', 'c'].map((n) => new FakeSipNode(n));
  for (const n of nodes) {
    await n.listen();
    t.teardown(() => n.close());
  }
  const dir = t.testdir();
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, nodes.map((n) => `1 ${n.uri} 0 0\n`).join(''));
  const kport = await freeUdpPort();
  const kam: Kamailio = await startKamailio(kport, [`DS_LIST="${list}"`, ...TEST_DEFINES], DEPLOY_KAMAILIO_CFG);
  t.teardown(() => kam.stop());
  const caller = new Caller(kport);
  await caller.open();
  t.teardown(() => caller.close());
  // Every node has been probed once, so the dispatcher's state is what the nodes say.
  await until(() => nodes.every((n) => n.optionsCount >= 1), 15_000, 'the first OPTIONS probe of every node');
  const [a, b, c] = nodes;
  return { nodes, a, b, c, kam, caller };
}

/** Calls answered per node name. */
function tally(outcomes: Outcome[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const o of outcomes) if (o.node) n[o.node] = (n[o.node] ?? 0) + 1;
  return n;
}

/** Whether kamailio's log has a line containing `text` (the log comes through a pipe and may lag the SIP traffic). */
function logged(kam: Kamailio, text: string): boolean {
  return kam.output().includes(text);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const skip = kamailioSkipReason();
if (skip) {
  t.test(skip, { skip: true }, async () => {});
} else {
  t.test('new calls are spread round robin over the nodes', async (t) => {
    const { nodes, caller } = await cluster(t);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 30; i++) outcomes.push(await caller.call());
    t.same(outcomes.map((o) => o.status), Array(30).fill(200), 'every call answered 200');
    const per = tally(outcomes);
    t.comment(`answered per node: ${JSON.stringify(per)}`);
    for (const n of nodes) {
      t.ok(Math.abs((per[n.name] ?? 0) - 10) <= 1, `node ${n.name} answered ${per[n.name] ?? 0} of 30 (10 ± 1)`);
      t.equal(n.invites.size, per[n.name] ?? 0, `node ${n.name} got an INVITE only for the calls it answered`);
    }
    // Round robin: no node answers twice in a row.
    t.ok(outcomes.every((o, i) => i === 0 || o.node !== outcomes[i - 1].node), 'no node took two calls in a row');
  });

  t.test('a node answering INVITE 503 is failed over and taken out of rotation', async (t) => {
    const { b, caller } = await cluster(t);
    b.invite = { reject: 503 };
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 6 && b.invites.size === 0; i++) outcomes.push(await caller.call());
    t.equal(b.invites.size, 1, 'node b got an INVITE and answered it 503');
    // Round robin would give b one of the next three calls: it is out of rotation instead (the
    // probes bring it back only after two OPTIONS 200s, a second apart at the least).
    for (let i = 0; i < 3; i++) outcomes.push(await caller.call());
    t.equal(b.invites.size, 1, 'none of the next three calls reached node b');
    t.same(outcomes.map((o) => o.status), Array(outcomes.length).fill(200), 'every call answered 200');
    t.notOk(outcomes.some((o) => o.node === 'b'), 'node b answered none');
    const byId = new Map(outcomes.map((o) => [o.callId, o]));
    for (const id of b.invites.keys()) t.match(byId.get(id), { status: 200, node: /^[ac]$/ }, `call ${id} refused by b was answered by another node`);
    t.ok(b.acks.size >= 1, 'kamailio ACKed the 503 to node b (hop by hop)');
  });

  t.test('a node answering INVITE 500 is failed over', async (t) => {
    const { b, caller } = await cluster(t);
    b.invite = { reject: 500 };
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 9; i++) outcomes.push(await caller.call());
    t.same(outcomes.map((o) => o.status), Array(9).fill(200), 'every call answered 200');
    t.ok(b.invites.size >= 1, `node b saw ${b.invites.size} INVITE(s) and answered 500`);
    const byId = new Map(outcomes.map((o) => [o.callId, o]));
    t.ok([...b.invites.keys()].every((id) => byId.get(id)?.status === 200 && byId.get(id)?.node !== 'b'), 'each refused call was answered by another node');
  });

  t.test('a silent node is failed over after FR_TIMER and then skipped', async (t) => {
    const { b, caller } = await cluster(t);
    b.invite = 'silent';
    b.options = 'silent';
    const silentAt = Date.now();
    const outcomes: Outcome[] = [];
    let failedOver: Outcome | undefined;
    for (let i = 0; i < 9 && !failedOver; i++) {
      const o = await caller.call();
      outcomes.push(o);
      if (b.invites.has(o.callId)) failedOver = o;
    }
    t.ok(failedOver, 'one call was sent to the silent node');
    t.match(failedOver, { status: 200, node: /^[ac]$/ }, 'and answered by another node');
    t.comment(`silent node: ${(failedOver?.atMs ?? silentAt) - silentAt} ms from going silent to the first failed-over answer (FR_TIMER ${FR_TIMER_MS} ms)`);
    // Taken out at once (ds_mark_dst): the next calls do not wait for it.
    const seen = b.invites.size;
    for (let i = 0; i < 6; i++) outcomes.push(await caller.call());
    t.same(outcomes.map((o) => o.status), Array(outcomes.length).fill(200), 'every call answered 200');
    t.equal(b.invites.size, seen, 'no INVITE reached the silent node after its first timeout');
  });

  t.test('a node that sends 100 Trying and nothing else is failed over after FR_INV_TIMER', async (t) => {
    const { b, caller } = await cluster(t);
    b.invite = 'trying';
    const hungAt = Date.now();
    let failedOver: Outcome | undefined;
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 9 && !failedOver; i++) {
      const o = await caller.call();
      outcomes.push(o);
      if (b.invites.has(o.callId)) failedOver = o;
    }
    t.ok(failedOver, 'one call was sent to the hung node');
    t.match(failedOver, { status: 200, node: /^[ac]$/ }, 'and answered by another node');
    t.ok(failedOver && b.cancels.has(failedOver.callId), 'kamailio CANCELled the hung branch');
    t.same(outcomes.map((o) => o.status), Array(outcomes.length).fill(200), 'every call answered 200');
    t.comment(`hung node (100 Trying only): ${(failedOver?.atMs ?? hungAt) - hungAt} ms from hanging to the first failed-over answer (FR_INV_TIMER ${FR_INV_TIMER_MS} ms)`);
  });

  t.test('OPTIONS 503 takes a node out of rotation; 200 brings it back', async (t) => {
    const { b, caller, kam } = await cluster(t);
    const outcomes: Outcome[] = [];
    b.options = 503;
    const drainAt = Date.now();
    // Calls (paced, bounded) until six in a row avoided b: under round robin b would take every
    // third call while in rotation.
    let streak = 0;
    for (let i = 0; i < 300 && streak < 6; i++) {
      const o = await caller.call();
      outcomes.push(o);
      streak = o.node === 'b' || b.invites.has(o.callId) ? 0 : streak + 1;
      if (streak < 6) await pause(50);
    }
    t.equal(streak, 6, 'six calls in a row avoided the node answering OPTIONS 503');
    await until(() => logged(kam, `fsbridge node ${b.uri} out of rotation`), 10_000, 'kamailio to log the node out of rotation');
    t.pass('kamailio logged the node out of rotation (event_route[dispatcher:dst-down])');
    const last = b.lastInviteAtMs();
    t.comment(`OPTIONS 503: last INVITE to the node ${last !== null && last > drainAt ? `${last - drainAt} ms` : 'before'} after it turned 503 (DS_PING_INTERVAL 1 s, DS_PROBING_THRESHOLD 2)`);
    const seen = b.invites.size;
    for (let i = 0; i < 9; i++) outcomes.push(await caller.call());
    t.equal(b.invites.size, seen, 'nine more calls: none reached it');
    t.same(outcomes.map((o) => o.status), Array(outcomes.length).fill(200), 'every call answered 200');

    b.options = 200;
    const backAt = Date.now();
    let back: Outcome | undefined;
    for (let i = 0; i < 300 && !back; i++) {
      const o = await caller.call();
      if (o.node === 'b') back = o;
      else await pause(50);
    }
    t.match(back, { status: 200, node: 'b' }, 'after OPTIONS 200 again, the node answers calls again');
    await until(() => logged(kam, `fsbridge node ${b.uri} back in rotation`), 10_000, 'kamailio to log the node back in rotation');
    t.pass('kamailio logged the node back in rotation (event_route[dispatcher:dst-up])');
    t.comment(`OPTIONS 200 again: first call answered by the node ${(back?.atMs ?? backAt) - backAt} ms later (DS_INACTIVE_THRESHOLD 2)`);
  });

  t.test('ACK and BYE from the caller reach the node through kamailio (record-route)', async (t) => {
    const { nodes, caller, kam } = await cluster(t);
    const o = await caller.call({ hangup: false });
    t.equal(o.status, 200);
    const node = nodes.find((n) => n.name === o.node);
    if (!node || !o.dialog) throw new Error('the call was not answered by a node');
    t.same(o.dialog.routes.map((r) => hostPort(r)), [{ host: '127.0.0.1', port: kam.port }], 'the route set is kamailio alone');
    const invite = node.invites.get(o.callId);
    t.match(header(invite!.msg, 'record-route'), new RegExp(`^<sip:127\\.0\\.0\\.1:${kam.port};lr>$`), 'the node got the INVITE with kamailio\'s Record-Route');
    await until(() => node.acks.has(o.callId), 10_000, 'the ACK at the node');
    t.equal(node.acks.get(o.callId)!.from.port, kam.port, 'the ACK came from kamailio');
    t.equal(await caller.hangup(o), 200, 'BYE answered 200 (by the node)');
    const bye = node.byes.get(o.callId);
    t.ok(bye, 'the node got the BYE');
    t.equal(bye!.from.port, kam.port, 'the BYE came from kamailio');
    t.equal(header(bye!.msg, 'route'), undefined, 'kamailio consumed its own Route header');
    t.ok(nodes.every((n) => n === node || !n.byes.has(o.callId)), 'no other node got it');
  });

  t.test('CANCEL from the caller reaches the node and ends the call with 487', async (t) => {
    const { nodes, caller } = await cluster(t);
    for (const n of nodes) n.invite = 'trying';
    const p = caller.start();
    await until(() => nodes.some((n) => n.invites.has(p.callId)), 10_000, 'the INVITE at a node');
    const node = nodes.find((n) => n.invites.has(p.callId))!;
    t.equal(await p.cancel(), 200, 'CANCEL answered 200');
    const o = await p.final;
    t.equal(o.status, 487, 'the INVITE ended with 487');
    t.ok(node.cancels.has(p.callId), 'the node that had the INVITE got the CANCEL');
    t.equal(nodes.filter((n) => n.invites.has(p.callId)).length, 1, 'no failover after a CANCEL');
  });

  t.test('kamailio answers OPTIONS addressed to itself', async (t) => {
    const { kam } = await cluster(t);
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => s.close(() => r())));
    const got: SipMessage[] = [];
    s.on('message', (b) => { const m = parseSip(b.toString()); if (m) got.push(m); });
    const me = s.address().port;
    const probe = [`OPTIONS sip:127.0.0.1:${kam.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-self`, 'Max-Forwards: 70',
      `From: <sip:carrier@127.0.0.1:${me}>;tag=x`, `To: <sip:127.0.0.1:${kam.port}>`, 'Call-ID: self-options@127.0.0.1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    s.send(probe, kam.port, '127.0.0.1');
    await until(() => got.length > 0, 10_000, 'the answer to OPTIONS');
    t.equal(got[0].status, 200);
    t.equal(header(got[0], 'call-id'), 'self-options@127.0.0.1');
    t.notMatch(header(got[0], 'to'), /tag=[abc]-opt/, 'answered by kamailio itself, not relayed to a node');
  });
}
