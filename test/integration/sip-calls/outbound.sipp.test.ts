// OutboundDialer against the drachtio twin: FreeSWITCH places the call (a scripted UAC stands in
// for `originate sofia/fsbridge/...`), drachtio hands its INVITE to the dialer, which sends it on to
// the trunk (sipp UAS scenarios, or a scripted peer for digest) as a B2BUA.
import t from 'tap';
import { OutboundDialer, type DialRequest } from '../../../src/sip/outbound.js';
import { startTwin, connectSrf } from '../sip/srf-helpers.js';
import { FsOriginator, FS_SDP, getHeader } from './fs-standin.js';
import { UdpPeer } from '../sip/udp-peer.js';
import { parseCredentials, verifyCredentials } from '../../../src/sip/digest.js';
import { runSipp, freeUdpPort, sippSkipReason, waitUdpBound } from '../../e2e/sipp-runner.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { TrunkConfig } from '../../../src/config/schema.js';
import type { SipRequest, SipResponse } from '../../../src/sip/srf.js';

async function setup(t: any, o: { trunkPort?: number; outbound?: Partial<TrunkConfig['outbound']>; fsInviteTimeoutMs?: number; password?: string } = {}) {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  const fs = new FsOriginator(() => twin.sipPort);
  await fs.start();
  t.teardown(() => fs.close());
  const metrics = new MetricsRegistry();
  const trunk: TrunkConfig = {
    name: 'op', registrar: `sip:127.0.0.1:${o.trunkPort ?? 9}`, username: 'opuser', password: o.password ?? 'pw1', expiresSec: 300, register: false,
    inbound: { allow: [], digest: false }, outbound: { maxConcurrent: 5, callsPerSecond: 50, queueMax: 5, from: '4930123', ...o.outbound },
  };
  const dialer = new OutboundDialer({
    srf, trunks: [trunk], freeswitch: fs, drachtioSipAddress: () => `127.0.0.1:${twin.sipPort}`, freeswitchHost: '127.0.0.1',
    logger: silentLogger(), metrics, freeswitchInviteTimeoutMs: o.fsInviteTimeoutMs,
  });
  srf.invite((req: any, res: any) => { if (!dialer.claim(req, res)) res.send(404); });
  t.teardown(() => dialer.close());
  return { twin, srf, fs, dialer, metrics };
}

const req = (over: Partial<DialRequest> = {}): DialRequest => ({ callId: 'out-1', to: '15550001', trunk: 'op', timeoutSec: 10, ...over });

t.test('FreeSWITCH is asked to dial drachtio-server with the call id; its leg not arriving fails the dial', async (t) => {
  const { fs, dialer, metrics, twin } = await setup(t, { fsInviteTimeoutMs: 300 });
  fs.mode = 'silent';
  const r = await dialer.dial(req());
  t.match(r, { result: 'failed', code: 'SIP_OUTBOUND_FREESWITCH_FAILED', cause: 'NORMAL_TEMPORARY_FAILURE' });
  t.match(fs.originates[0], { callId: 'out-1', uri: `sip:15550001@127.0.0.1:${twin.sipPort}`, from: '4930123' });
  t.same(fs.kills, [fs.originates[0].fsUuid], 'the FreeSWITCH leg is killed');
  t.equal(metrics.errorCount('SIP_OUTBOUND_FREESWITCH_FAILED'), 1);
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 }, 'slot released');
  t.equal(dialer.dialsInProgress, 0);
});

t.test('FreeSWITCH refusing the originate fails the dial at once', async (t) => {
  const { fs, dialer } = await setup(t);
  fs.mode = { fail: 'CHAN_NOT_IMPLEMENTED' };
  t.match(await dialer.dial(req()), { result: 'failed', code: 'SIP_OUTBOUND_FREESWITCH_FAILED' });
});

t.test('queue full: failed with SIP_OUTBOUND_QUEUE_FULL, FreeSWITCH not asked', async (t) => {
  const { fs, dialer, metrics } = await setup(t, { outbound: { maxConcurrent: 1, queueMax: 0 }, fsInviteTimeoutMs: 300 });
  fs.mode = 'silent';
  const first = dialer.dial(req());
  await new Promise((r) => setTimeout(r, 20));
  const second = await dialer.dial(req({ callId: 'out-2' }));
  t.match(second, { result: 'failed', code: 'SIP_OUTBOUND_QUEUE_FULL', callId: 'out-2' });
  t.equal(metrics.errorCount('SIP_OUTBOUND_QUEUE_FULL'), 1);
  t.equal(fs.originates.length, 1, 'no second originate');
  await first;
});

t.test('unknown trunk and bad numbers fail at once', async (t) => {
  const { dialer, fs } = await setup(t);
  t.match(await dialer.dial(req({ trunk: 'nope' })), { result: 'failed', code: 'SIP_OUTBOUND_FAILED' });
  t.match(await dialer.dial(req({ to: '1555 0001' })), { result: 'failed', cause: 'INVALID_NUMBER_FORMAT' });
  t.equal(fs.originates.length, 0);
});

t.test('an INVITE naming no pending dial is not claimed', async (t) => {
  const { dialer } = await setup(t);
  const fake = { get: (h: string) => (h === 'X-Fsbridge-Call' ? 'nobody' : undefined), source_address: '127.0.0.1' };
  t.equal(dialer.claim(fake as unknown as SipRequest, {} as SipResponse), false);
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

t.test('407 challenge: the digest the trunk checks is right; FreeSWITCH\'s offer reaches the trunk; hangup BYEs both', async (t) => {
  const { peer, verdicts } = await digestTrunk(t);
  const { dialer, fs } = await setup(t, { trunkPort: peer.port });
  const r = await dialer.dial(req());
  t.match(r, { result: 'answered', callId: 'out-1' });
  t.same(verdicts, ['ok']);
  const inv = peer.received.filter((x) => x.msg.method === 'INVITE').at(-1)!;
  t.equal(inv.msg.body, FS_SDP, 'the trunk got FreeSWITCH\'s own offer');
  t.notOk(getHeader(inv.msg, 'x-fsbridge-call'), 'fsbridge\'s header does not leak to the trunk');
  t.match(getHeader(inv.msg, 'from'), /sip:4930123@/);
  t.equal(dialer.activeCalls, 1);
  t.same(dialer.trunkLoad('op'), { inUse: 1, waiting: 0 });
  t.equal(dialer.hangup('out-1'), true);
  t.equal(dialer.activeCalls, 0);
  t.ok(await peer.next((x) => x.msg.method === 'BYE'), 'trunk got BYE');
  t.ok(await fs.next((x) => x.msg.method === 'BYE'), 'FreeSWITCH got BYE');
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 });
});

t.test('407 with a wrong password: rejected (403), FreeSWITCH gets the failure', async (t) => {
  const { peer, verdicts } = await digestTrunk(t);
  const { dialer, fs } = await setup(t, { trunkPort: peer.port, password: 'wrong' });
  const r = await dialer.dial(req());
  t.match(r, { result: 'rejected', sipStatus: 403, cause: 'CALL_REJECTED' });
  t.same(verdicts, ['bad-response']);
  t.ok(await fs.next((x) => x.msg.kind === 'response' && x.msg.status === 403), 'FreeSWITCH got 403');
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 });
});

t.test('dropAll (drachtio-server lost) settles a ringing dial at once', async (t) => {
  const peer = new UdpPeer();
  await peer.start();
  t.teardown(() => peer.close());
  peer.onMessage = (r) => { if (r.msg.method === 'INVITE') peer.reply(r, 180, 'Ringing', [], 'ring1'); };
  const { dialer, fs, metrics } = await setup(t, { trunkPort: peer.port });
  const p = dialer.dial(req());
  await peer.next((x) => x.msg.method === 'INVITE');
  t.equal(dialer.dialsInProgress, 1);
  t.equal(dialer.dropAll(), 1);
  t.match(await p, { result: 'failed', code: 'SIP_DRACHTIO_LOST' });
  t.equal(metrics.errorCount('SIP_DRACHTIO_LOST'), 1);
  t.equal(dialer.dialsInProgress, 0);
  t.same(fs.kills.length, 1, 'FreeSWITCH leg killed');
  t.same(dialer.trunkLoad('op'), { inUse: 0, waiting: 0 });
});

const sippSkip = sippSkipReason();
if (sippSkip) {
  t.test('sipp tests', { skip: sippSkip }, async () => {});
} else {
  const trunkSipp = async (t: any, scenario: string, extra: string[] = []) => {
    const port = await freeUdpPort();
    const run = runSipp(scenario, { port, mediaPort: await freeUdpPort(), extra });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp trunk listening');
    return { port, run };
  };

  t.test('answered: progress reported; hangup() ends both legs', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-answer.xml');
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const progress: number[] = [];
    dialer.on('progress', (p) => progress.push(p.sipStatus));
    const r = await dialer.dial(req());
    t.equal(r.result, 'answered');
    t.same(progress, [180]);
    t.ok(fs.responses('out-1').some((x) => x.msg.status === 180), 'FreeSWITCH saw the ringing');
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
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const ended = new Promise<any>((res) => dialer.once('ended', res));
    t.equal((await dialer.dial(req())).result, 'answered');
    await new Promise((res) => setTimeout(res, 100)); // sipp: ACK before BYE
    fs.bye('out-1', 'Q.850;cause=16;text="NORMAL_CLEARING"');
    t.same(await ended, { callId: 'out-1', by: 'freeswitch', cause: 'NORMAL_CLEARING' });
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (trunk got BYE)' : res.output.slice(-2000));
  });

  t.test('486: busy / USER_BUSY, FreeSWITCH gets 486', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-busy.xml');
    const { fs, dialer, metrics } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req());
    t.same(r, { result: 'busy', callId: 'out-1', cause: 'USER_BUSY', sipStatus: 486 });
    t.ok(await fs.next((x) => x.msg.kind === 'response' && x.msg.status === 486), 'FreeSWITCH got the 486');
    t.equal(metrics.errorCount('SIP_OUTBOUND_FAILED'), 0);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('no answer within timeoutSec: CANCEL, no-answer / NO_ANSWER', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-no-answer.xml');
    const { fs, dialer } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req({ timeoutSec: 0.5 }));
    t.match(r, { result: 'no-answer', cause: 'NO_ANSWER', sipStatus: 487 });
    t.ok(await fs.next((x) => x.msg.kind === 'response' && x.msg.status === 487), 'FreeSWITCH got 487');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (CANCEL received)' : res.output.slice(-2000));
  });

  t.test('407 challenge answered with the trunk credentials, then 200', async (t) => {
    const { port, run } = await trunkSipp(t, 'uas-trunk-407.xml');
    const { dialer } = await setup(t, { trunkPort: port });
    const r = await dialer.dial(req());
    t.equal(r.result, 'answered', JSON.stringify(r));
    await new Promise((res) => setTimeout(res, 100)); // sipp: ACK before BYE
    t.equal(dialer.hangup('out-1', 'NORMAL_CLEARING'), true);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed (digest verified)' : res.output.slice(-2000));
  });
}
