// OutboundDialer against the drachtio twin: sipp UAS scenarios are the trunk, a scripted UDP
// peer stands in for FreeSWITCH's SIP profile (it offers SDP in its 200 OK, 3PCC).
import t from 'tap';
import { OutboundDialer, type DialRequest } from '../../../src/sip/outbound.js';
import { startTwin, connectSrf } from '../sip/srf-helpers.js';
import { FsStandin, getHeader } from './fs-standin.js';
import { UdpPeer } from '../sip/udp-peer.js';
import { parseCredentials, verifyCredentials } from '../../../src/sip/digest.js';
import { runSipp, freeUdpPort, haveBinary, waitUdpBound } from '../../e2e/sipp-runner.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { TrunkConfig } from '../../../src/config/schema.js';

async function setup(t: any, o: { trunkPort?: number; outbound?: Partial<TrunkConfig['outbound']>; fsTimeoutMs?: number; password?: string } = {}) {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  const fs = new FsStandin();
  await fs.start();
  t.teardown(() => fs.close());
  const metrics = new MetricsRegistry();
  const trunk: TrunkConfig = {
    name: 'op', registrar: `sip:127.0.0.1:${o.trunkPort ?? 9}`, username: 'opuser', password: o.password ?? 'pw1', expiresSec: 300, register: false,
    inbound: { allow: [], digest: false }, outbound: { maxConcurrent: 5, callsPerSecond: 50, queueMax: 5, from: '4930123', ...o.outbound },
  };
  const dialer = new OutboundDialer({
    srf, trunks: [trunk], sipProfileUri: `sip:127.0.0.1:${fs.port}`, logger: silentLogger(), metrics, freeswitchTimeoutMs: o.fsTimeoutMs,
  });
  t.teardown(() => dialer.close());
  return { twin, srf, fs, dialer, metrics };
}

const req = (over: Partial<DialRequest> = {}): DialRequest => ({ callId: 'out-1', to: '15550001', trunk: 'op', timeoutSec: 10, ...over });

t.test('queue full: failed with SIP_OUTBOUND_QUEUE_FULL, no INVITE sent; FreeSWITCH not answering fails the dial', async (t) => {
  const { fs, dialer, metrics } = await setup(t, { outbound: { maxConcurrent: 1, queueMax: 0 }, fsTimeoutMs: 300 });
  fs.mode = 'ring';
  const first = dialer.dial(req());
  await fs.next((r) => r.msg.method === 'INVITE');
  const second = await dialer.dial(req({ callId: 'out-2' }));
  t.match(second, { result: 'failed', code: 'SIP_OUTBOUND_QUEUE_FULL', callId: 'out-2' });
  t.equal(metrics.errorCount('SIP_OUTBOUND_QUEUE_FULL'), 1);
  t.equal(fs.invites().length, 1, 'no second INVITE');
  const r1 = await first;
  t.match(r1, { result: 'failed', code: 'SIP_OUTBOUND_FREESWITCH_FAILED', sipStatus: 487 });
  t.ok(await fs.next((r) => r.msg.method === 'CANCEL'), 'FreeSWITCH leg cancelled');
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 }, 'slot released');
});

t.test('unknown trunk fails at once', async (t) => {
  const { dialer, fs } = await setup(t);
  t.match(await dialer.dial(req({ trunk: 'nope' })), { result: 'failed', code: 'SIP_OUTBOUND_FAILED' });
  t.equal(fs.invites().length, 0);
});

/** A scripted trunk: 407 first, then checks Proxy-Authorization with src/sip/digest.ts. */
async function digestTrunk(t: any) {
  const peer = new UdpPeer();
  await peer.start();
  t.teardown(() => peer.close());
  const verdicts: string[] = [];
  peer.onMessage = (r) => {
    if (r.msg.kind !== 'request') return;
    if (r.msg.method === 'BYE') { peer.reply(r, 200, 'OK'); return; }
    if (r.msg.method !== 'INVITE') return;
    const auth = getHeader(r.msg, 'proxy-authorization');
    if (!auth) { peer.reply(r, 407, 'Proxy Authentication Required', ['Proxy-Authenticate: Digest realm="trunk.test", nonce="n407", qop="auth", algorithm=MD5'], 'tr1'); return; }
    const v = verifyCredentials(parseCredentials(auth)!, 'INVITE', { username: 'opuser', password: 'pw1' });
    verdicts.push(v);
    if (v !== 'ok') { peer.reply(r, 403, 'Forbidden', [], 'tr2'); return; }
    peer.reply(r, 200, 'OK', [`Contact: <sip:trunk@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], 'tr2', 'v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n');
  };
  return { peer, verdicts };
}

t.test('407 challenge: the digest the trunk checks is right (src/sip/digest.ts); hangup BYEs the trunk', async (t) => {
  const { peer, verdicts } = await digestTrunk(t);
  const { dialer, fs } = await setup(t, { trunkPort: peer.port });
  const r = await dialer.dial(req());
  t.equal(r.result, 'answered');
  t.same(verdicts, ['ok']);
  await fs.next((x) => x.msg.method === 'ACK');
  t.equal(dialer.hangupAll(), 1);
  t.equal(dialer.activeCalls, 0);
  t.ok(await peer.next((x) => x.msg.method === 'BYE'), 'trunk got BYE');
  t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH got BYE');
});

t.test('407 with a wrong password: rejected (403), FreeSWITCH leg torn down', async (t) => {
  const { peer, verdicts } = await digestTrunk(t);
  const { dialer, fs } = await setup(t, { trunkPort: peer.port, password: 'wrong' });
  const r = await dialer.dial(req());
  t.match(r, { result: 'rejected', sipStatus: 403, cause: 'CALL_REJECTED' });
  t.same(verdicts, ['bad-response']);
  t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH leg BYEd');
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 });
});

if (!haveBinary('sipp')) {
  t.test('sipp is not installed', { skip: true }, async () => {});
} else {
  const trunkSipp = async (t: any, scenario: string) => {
    const port = await freeUdpPort();
    const run = runSipp(scenario, { port, mediaPort: await freeUdpPort(), extra: process.env.SIPP_TRACE ? ['-trace_msg', '-message_file', '/tmp/sipp-trace.log'] : [] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp trunk listening');
    return { port, run };
  };

  t.test('answered: 3PCC offer/answer, X-Fsbridge-Call, progress; hangup() ends both legs', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-answer.xml');
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const progress: number[] = [];
    dialer.on('progress', (p) => progress.push(p.sipStatus));
    const r = await dialer.dial(req());
    t.equal(r.result, 'answered');
    const inv = fs.invites()[0];
    t.equal(getHeader(inv.msg, 'x-fsbridge-call'), 'out-1');
    t.equal(inv.msg.body, '', 'no SDP to FreeSWITCH: it offers');
    const ack = await fs.next((x) => x.msg.method === 'ACK');
    t.match(ack.msg.body, /o=trunk/, 'FreeSWITCH got the trunk\'s answer in the ACK');
    t.same(progress, [180]);
    t.equal(dialer.activeCalls, 1);
    t.same(dialer.trunkLoad('op'), { inUse: 1, waiting: 0 });
    const ended = new Promise<any>((res) => dialer.once('ended', res));
    await new Promise((res) => setTimeout(res, 100)); // let sipp see the ACK before the BYE (sipp is strict about order)
    t.equal(dialer.hangup('out-1'), true);
    t.same(await ended, { callId: 'out-1', by: 'fsbridge', cause: 'NORMAL_CLEARING' });
    const bye = await fs.next((x) => x.msg.method === 'BYE');
    t.equal(getHeader(bye.msg, 'reason'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (offer was FreeSWITCH\'s, BYE came)' : res.output.slice(-2000));
    t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 });
  });

  t.test('BYE from the trunk ends the FreeSWITCH leg', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-answer-then-bye.xml');
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const ended = new Promise<any>((res) => dialer.once('ended', res));
    t.equal((await dialer.dial(req())).result, 'answered');
    t.same(await ended, { callId: 'out-1', by: 'callee', cause: 'NORMAL_CLEARING' });
    t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH got BYE');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('BYE from FreeSWITCH ends the trunk leg', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-answer.xml');
    const { fs, dialer, twin } = await setup(t, { trunkPort: port });
    const ended = new Promise<any>((res) => dialer.once('ended', res));
    t.equal((await dialer.dial(req())).result, 'answered');
    await fs.next((x) => x.msg.method === 'ACK');
    await new Promise((res) => setTimeout(res, 100)); // sipp: ACK before BYE
    fs.bye(fs.invites()[0], twin.sipPort, 'Q.850;cause=16;text="NORMAL_CLEARING"');
    t.same(await ended, { callId: 'out-1', by: 'freeswitch', cause: 'NORMAL_CLEARING' });
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (trunk got BYE)' : res.output.slice(-2000));
  });

  t.test('486: busy / USER_BUSY, FreeSWITCH leg torn down', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-busy.xml');
    const { fs, dialer, metrics } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req());
    t.same(r, { result: 'busy', callId: 'out-1', cause: 'USER_BUSY', sipStatus: 486 });
    t.ok(await fs.next((x) => x.msg.method === 'ACK'), 'FreeSWITCH 200 ACKed');
    t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH leg BYEd');
    t.equal(metrics.errorCount('SIP_OUTBOUND_FAILED'), 0);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('no answer within timeoutSec: CANCEL, no-answer / NO_ANSWER', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-no-answer.xml');
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req({ timeoutSec: 0.5 }));
    t.match(r, { result: 'no-answer', cause: 'NO_ANSWER', sipStatus: 487 });
    t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH leg BYEd');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (CANCEL received)' : res.output.slice(-2000));
  });

  t.test('407 challenge answered with the trunk credentials, then 200', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-407.xml');
    const { dialer, fs } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req());
    t.equal(r.result, 'answered', JSON.stringify({ ...r, trunkDialog: undefined, fsDialog: undefined }));
    await fs.next((x) => x.msg.method === 'ACK');
    await new Promise((res) => setTimeout(res, 100)); // sipp: ACK before BYE
    t.equal(dialer.hangup('out-1', 'NORMAL_CLEARING'), true);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (digest verified)' : res.output.slice(-2000));
  });
}
