// InboundCalls against the drachtio twin: sipp (or a scripted UDP peer) is the operator, a
// scripted UDP peer stands in for FreeSWITCH's SIP profile.
import t from 'tap';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { InboundCalls, type AdmitRequest, type AdmitResult, type InboundEnded } from '../../../src/sip/inbound.js';
import { startTwin, connectSrf } from '../sip/srf-helpers.js';
import { UdpPeer, getHeader } from '../sip/udp-peer.js';
import { FsStandin } from './fs-standin.js';
import { runSipp, freeUdpPort, sippSkipReason } from '../../e2e/sipp-runner.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { buildAuthorization, parseChallenge } from '../../../src/sip/digest.js';
import type { TrunkConfig } from '../../../src/config/schema.js';

const DID = '15551234';

function trunk(over: Partial<TrunkConfig> = {}): TrunkConfig {
  return {
    name: 'op', registrar: 'sip:127.0.0.1:5999', expiresSec: 300, register: false,
    inbound: { allow: ['127.0.0.1/32'], digest: false }, outbound: { maxConcurrent: 10, callsPerSecond: 10, queueMax: 10 }, ...over,
  };
}

async function setup(t: any, o: { trunks?: TrunkConfig[]; admit?: (req: AdmitRequest) => AdmitResult; maxInProgress?: number; answerTimeoutMs?: number } = {}) {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  const fs = new FsStandin();
  await fs.start();
  t.teardown(() => fs.close());
  const metrics = new MetricsRegistry();
  let n = 0;
  const calls = new InboundCalls({
    srf, trunks: o.trunks ?? [trunk()], routes: [{ did: DID, bot: 'echo', record: true }, { did: '999', bot: 'other', trunk: 'elsewhere' }],
    sipProfileUri: `sip:127.0.0.1:${fs.port}`, admit: o.admit ?? (() => ({ ok: true })), logger: silentLogger(), metrics,
    maxInProgress: o.maxInProgress, answerTimeoutMs: o.answerTimeoutMs, newCallId: () => `call-${++n}`,
  });
  t.teardown(() => calls.close());
  calls.start();
  await new Promise((r) => setTimeout(r, 50)); // the route message reaches the twin
  const ended = new Promise<InboundEnded>((r) => calls.once('ended', r));
  return { twin, srf, fs, calls, metrics, ended };
}

/** A raw INVITE from a UDP peer (the operator) to the twin. */
function invite(peer: UdpPeer, sp: number, callId: string, did = DID, extra: string[] = [], cseq = 1): void {
  const sdp = 'v=0\r\no=op 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n';
  peer.send([`INVITE sip:${did}@127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${callId}${cseq}`,
    'Max-Forwards: 70', `From: <sip:+4930123@127.0.0.1>;tag=${callId}`, `To: <sip:${did}@127.0.0.1:${sp}>`, `Call-ID: ${callId}`,
    `CSeq: ${cseq} INVITE`, `Contact: <sip:op@127.0.0.1:${peer.port}>`, ...extra, 'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`].join('\r\n') + '\r\n\r\n' + sdp, sp);
}

async function operator(t: any): Promise<UdpPeer> {
  const p = new UdpPeer();
  await p.start();
  t.teardown(() => p.close());
  return p;
}
const final = (callId: string) => (r: { msg: { kind: string; status: number }; text: string }) =>
  r.msg.kind === 'response' && r.msg.status >= 200 && r.text.includes(`Call-ID: ${callId}`);

t.test('unknown source: 403, nothing reaches FreeSWITCH', async (t) => {
  const { twin, fs, metrics, calls } = await setup(t, { trunks: [trunk({ inbound: { allow: ['10.0.0.0/8', '2001:db8::/32'], digest: false } })] });
  const rejected = new Promise<any>((r) => calls.once('rejected', r));
  const op = await operator(t);
  invite(op, twin.sipPort, 'src1');
  const res = await op.next(final('src1'));
  t.equal(res.msg.status, 403);
  t.equal((await rejected).code, 'SIP_INBOUND_FORBIDDEN');
  t.equal(metrics.errorCount('SIP_INBOUND_FORBIDDEN'), 1);
  t.equal(fs.invites().length, 0);
});

t.test('no route: 404 (also a route bound to another trunk)', async (t) => {
  const { twin, fs, metrics } = await setup(t);
  const op = await operator(t);
  invite(op, twin.sipPort, 'nr1', '4711');
  t.equal((await op.next(final('nr1'))).msg.status, 404);
  invite(op, twin.sipPort, 'nr2', '999');
  t.equal((await op.next(final('nr2'))).msg.status, 404);
  t.equal(metrics.errorCount('SIP_INBOUND_NO_ROUTE'), 2);
  t.equal(fs.invites().length, 0);
});

t.test('admission refused: 503 with Retry-After', async (t) => {
  const asked: any[] = [];
  const { twin, fs, metrics, calls } = await setup(t, { admit: (req) => { asked.push(req); return { ok: false, reason: 'capacity' }; } });
  const op = await operator(t);
  invite(op, twin.sipPort, 'cap1', '+' + DID);
  const res = await op.next(final('cap1'));
  t.equal(res.msg.status, 503);
  t.equal(getHeader(res.msg, 'retry-after'), '5');
  t.equal(asked.length, 1);
  t.match(asked[0], { bot: 'echo', to: DID, record: true }, 'the route\'s bot and record (issue 10) reach admission');
  t.equal(metrics.errorCount('SIP_INBOUND_OVER_CAPACITY'), 1);
  t.equal(fs.invites().length, 0);
  t.equal(calls.activeCalls, 0);
});

t.test('issue 10: a tenant at its limit: 486 Busy Here, no Retry-After', async (t) => {
  const { twin, fs, metrics, calls } = await setup(t, { admit: () => ({ ok: false, reason: 'tenant-limit' }) });
  const op = await operator(t);
  invite(op, twin.sipPort, 'ten1', '+' + DID);
  const res = await op.next(final('ten1'));
  t.equal(res.msg.status, 486);
  t.equal(getHeader(res.msg, 'retry-after'), undefined);
  t.equal(metrics.errorCount('SIP_INBOUND_TENANT_LIMIT'), 1);
  t.equal(metrics.errorCount('SIP_INBOUND_OVER_CAPACITY'), 0);
  t.equal(fs.invites().length, 0);
  t.equal(calls.activeCalls, 0);
});

t.test('INVITE flood: beyond maxInProgress 503 at once; counts come back down', async (t) => {
  const { twin, fs, calls, metrics } = await setup(t, { maxInProgress: 2 });
  fs.mode = 'ring'; // FreeSWITCH never answers: the first two stay in progress
  const op = await operator(t);
  invite(op, twin.sipPort, 'fl1');
  invite(op, twin.sipPort, 'fl2');
  await fs.next((r) => r.msg.method === 'INVITE' && r.text.includes('X-Fsbridge-Call: call-2'));
  await fs.next((r) => r.msg.method === 'INVITE' && r.text.includes('X-Fsbridge-Call: call-1'));
  t.equal(calls.pendingInvites, 2);
  for (let i = 3; i <= 12; i++) invite(op, twin.sipPort, `fl${i}`);
  for (let i = 3; i <= 12; i++) {
    const r = await op.next(final(`fl${i}`));
    t.equal(r.msg.status, 503);
    t.equal(getHeader(r.msg, 'retry-after'), '5');
  }
  t.equal(metrics.errorCount('SIP_INBOUND_OVER_CAPACITY'), 10);
  t.equal(fs.invites().length, 2, 'nothing more went to FreeSWITCH');
  t.equal(calls.pendingInvites, 2, 'no growth');
  const cancelBoth = [1, 2].map((i) => new Promise<void>((r) => calls.on('ended', (e) => { if (e.callId === `call-${i}`) r(); })));
  // the operator cancels both; FreeSWITCH's stand-in answers 487
  for (const id of ['fl1', 'fl2']) {
    op.send([`CANCEL sip:${DID}@127.0.0.1:${twin.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${op.port};branch=z9hG4bK${id}1`,
      'Max-Forwards: 70', `From: <sip:+4930123@127.0.0.1>;tag=${id}`, `To: <sip:${DID}@127.0.0.1:${twin.sipPort}>`, `Call-ID: ${id}`,
      'CSeq: 1 CANCEL', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', twin.sipPort);
  }
  await Promise.all(cancelBoth);
  t.equal(calls.pendingInvites, 0);
  t.equal(calls.activeCalls, 0);
});

t.test('digest trunk: 401 challenge, then the right credentials get through, wrong ones 403', async (t) => {
  const { twin, fs } = await setup(t, {
    trunks: [trunk({ username: 'opuser', password: 'pw1', inbound: { allow: [], digest: true } })],
  });
  fs.mode = { status: 480, reason: 'Temporarily Unavailable' };
  const op = await operator(t);
  invite(op, twin.sipPort, 'dg1');
  const ch = await op.next(final('dg1'));
  t.equal(ch.msg.status, 401);
  const challenge = parseChallenge(getHeader(ch.msg, 'www-authenticate')!)!;
  t.equal(challenge.realm, 'fsbridge');
  const uri = `sip:${DID}@127.0.0.1:${twin.sipPort}`;
  const good = buildAuthorization(challenge, { username: 'opuser', password: 'pw1', method: 'INVITE', uri, nc: 1, cnonce: 'abc' });
  invite(op, twin.sipPort, 'dg2', DID, [`Authorization: ${good}`]);
  t.equal((await op.next(final('dg2'))).msg.status, 480, 'got past the check; FreeSWITCH\'s failure passed back');
  t.equal(fs.invites().length, 1);
  const bad = buildAuthorization(challenge, { username: 'opuser', password: 'nope', method: 'INVITE', uri, nc: 1, cnonce: 'abc' });
  invite(op, twin.sipPort, 'dg3', DID, [`Authorization: ${bad}`]);
  t.equal((await op.next(final('dg3'))).msg.status, 403);
  const forged = good.replace(/nonce="[^"]+"/, 'nonce="0.00000000000000000000000000000000"');
  invite(op, twin.sipPort, 'dg4', DID, [`Authorization: ${forged}`]);
  t.equal((await op.next(final('dg4'))).msg.status, 401, 'a nonce fsbridge did not issue is challenged again');
  t.equal(fs.invites().length, 1);
});

t.test('FreeSWITCH rejects: the status goes back to the caller, ended by freeswitch', async (t) => {
  const { twin, fs, ended, metrics } = await setup(t);
  fs.mode = { status: 486, reason: 'Busy Here' };
  const op = await operator(t);
  invite(op, twin.sipPort, 'rj1');
  t.equal((await op.next(final('rj1'))).msg.status, 486);
  const e = await ended;
  t.same(e, { callId: 'call-1', by: 'freeswitch', sipStatus: 486, cause: 'USER_BUSY' });
  t.equal(metrics.errorCount('SIP_INBOUND_FAILED'), 1);
});

t.test('FreeSWITCH does not answer in time: its leg cancelled, 503 + Retry-After to the caller', async (t) => {
  const { twin, fs, ended, metrics, calls } = await setup(t, { answerTimeoutMs: 200 });
  fs.mode = 'ring';
  const op = await operator(t);
  invite(op, twin.sipPort, 'to1');
  const res = await op.next(final('to1'));
  t.equal(res.msg.status, 503);
  t.equal(getHeader(res.msg, 'retry-after'), '5');
  t.same(await ended, { callId: 'call-1', by: 'fsbridge', sipStatus: 503, cause: 'RECOVERY_ON_TIMER_EXPIRE' });
  t.ok(await fs.next((r) => r.msg.method === 'CANCEL'), 'FreeSWITCH leg cancelled');
  t.equal(metrics.errorCount('SIP_INBOUND_FAILED'), 1);
  t.equal(calls.pendingInvites, 0);
});

t.test('hangup() before answer: FreeSWITCH leg cancelled, the caller gets the cause\'s status', async (t) => {
  const { twin, fs, ended, calls } = await setup(t);
  fs.mode = 'ring';
  const admitted = new Promise<any>((r) => calls.once('admitted', r));
  const op = await operator(t);
  invite(op, twin.sipPort, 'hb1');
  const a = await admitted;
  await fs.next((r) => r.msg.method === 'INVITE');
  t.equal(calls.hangup(a.callId, 'USER_BUSY'), true, 'hangup ends the call being set up');
  t.equal(calls.hangup(a.callId, 'USER_BUSY'), false, 'only once');
  const res = await op.next(final('hb1'));
  t.equal(res.msg.status, 486);
  t.equal(getHeader(res.msg, 'reason'), 'Q.850;cause=17;text="USER_BUSY"');
  t.same(await ended, { callId: 'call-1', by: 'fsbridge', sipStatus: 486, cause: 'USER_BUSY' });
  t.ok(await fs.next((r) => r.msg.method === 'CANCEL'), 'FreeSWITCH leg cancelled');
  t.equal(calls.activeCalls, 0, 'record released');
});

t.test('dropAll() (drachtio-server lost) settles a call being set up at once and frees its slot', async (t) => {
  const { twin, fs, ended, calls } = await setup(t);
  fs.mode = 'ring';
  const admitted = new Promise<any>((r) => calls.once('admitted', r));
  const op = await operator(t);
  invite(op, twin.sipPort, 'dl1');
  await admitted;
  await fs.next((r) => r.msg.method === 'INVITE');
  t.equal(calls.pendingInvites, 1);
  t.equal(calls.dropAll('NORMAL_TEMPORARY_FAILURE'), 1);
  t.same(await ended, { callId: 'call-1', by: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE' });
  t.equal(calls.activeCalls, 0, 'no call left');
  await new Promise((r) => setImmediate(r));
  t.equal(calls.pendingInvites, 0, 'the in-progress count is released (no 503 leak)');
});

const sippSkip = sippSkipReason();
if (sippSkip) {
  t.test('sipp tests', { skip: sippSkip }, async () => {});
} else {
  const sipp = async (t: any, scenario: string, twinPort: number) => {
    const run = runSipp(scenario, { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${twinPort}`, extra: ['-s', DID] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    return run;
  };

  t.test('allowed source, answered end to end; BYE from the caller', async (t) => {
    const { twin, fs, calls, ended } = await setup(t);
    const answered = new Promise<any>((r) => calls.once('answered', r));
    const run = await sipp(t, 'uac-invite.xml', twin.sipPort);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    const a = await answered;
    t.match(a, { callId: 'call-1', trunk: 'op', bot: 'echo', from: 'sipp', to: DID });
    const inv = fs.invites()[0];
    t.equal(getHeader(inv.msg, 'x-fsbridge-call'), 'call-1', 'FreeSWITCH sees the correlation header');
    t.equal(inv.msg.uri, `sip:${DID}@127.0.0.1:${fs.port}`, 'request-URI user is the DID');
    t.match(inv.msg.body, /m=audio \d+ RTP\/AVP 0/, 'the caller\'s SDP passed through');
    t.match(await ended, { callId: 'call-1', by: 'caller', cause: 'NORMAL_CLEARING' });
    const bye = await fs.next((r) => r.msg.method === 'BYE');
    t.ok(bye, 'FreeSWITCH leg got BYE');
    t.equal(calls.activeCalls, 0);
  });

  t.test('audio: the caller\'s RTP reaches the media address FreeSWITCH answered with (SDP passed through)', { skip: !existsSync('/usr/share/sip-tester/g711a.pcap') && 'no sipp G.711 sample' }, async (t) => {
    const { twin, fs, ended } = await setup(t);
    const rtp = createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => rtp.close(() => r())));
    const types = new Map<number, number>();
    rtp.on('message', (b) => { if (b.length >= 12 && b[0] >> 6 === 2) types.set(b[1] & 0x7f, (types.get(b[1] & 0x7f) ?? 0) + 1); });
    fs.answerSdp = `v=0\r\no=FreeSWITCH 1 1 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtp.address().port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`;
    const run = await sipp(t, 'uac-invite-audio.xml', twin.sipPort);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.match(fs.invites()[0].msg.body, /m=audio \d+ RTP\/AVP 8 0/, 'the offer reached FreeSWITCH unchanged');
    t.ok((types.get(8) ?? 0) > 10, `PCMA RTP packets arrived at FreeSWITCH's media port (${types.get(8) ?? 0})`);
    t.match(await ended, { by: 'caller' });
  });

  t.test('CANCEL before answer: 487 to the caller, FreeSWITCH leg cancelled', async (t) => {
    const { twin, fs, calls, ended } = await setup(t);
    fs.mode = 'ring';
    const run = await sipp(t, 'uac-invite-cancel.xml', twin.sipPort);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.same(await ended, { callId: 'call-1', by: 'caller', sipStatus: 487, cause: 'ORIGINATOR_CANCEL' });
    t.ok(await fs.next((r) => r.msg.method === 'CANCEL'), 'CANCEL reached FreeSWITCH');
    t.equal(calls.pendingInvites, 0);
  });

  t.test('BYE from the FreeSWITCH side ends the caller\'s leg', async (t) => {
    const { twin, fs, calls, ended } = await setup(t);
    const answered = new Promise<any>((r) => calls.once('answered', r));
    const run = await sipp(t, 'uac-invite-wait-bye.xml', twin.sipPort);
    await answered;
    await fs.next((r) => r.msg.method === 'ACK');
    fs.bye(fs.invites()[0], twin.sipPort, 'Q.850;cause=16;text="NORMAL_CLEARING"');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.match(await ended, { callId: 'call-1', by: 'freeswitch', cause: 'NORMAL_CLEARING' });
  });

  t.test('hangup() from fsbridge: BYE with Reason on both legs', async (t) => {
    const { twin, fs, calls, ended } = await setup(t);
    const answered = new Promise<any>((r) => calls.once('answered', r));
    const run = await sipp(t, 'uac-invite-wait-bye.xml', twin.sipPort);
    const a = await answered;
    await fs.next((r) => r.msg.method === 'ACK');
    t.equal(calls.hangup(a.callId, 'NORMAL_CLEARING'), true);
    t.equal(calls.hangup(a.callId), false, 'second hangup is a no-op');
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.same(await ended, { callId: 'call-1', by: 'fsbridge', cause: 'NORMAL_CLEARING' });
    t.equal(calls.dropAll(), 0, 'nothing left');
    const bye = await fs.next((r) => r.msg.method === 'BYE');
    t.equal(getHeader(bye.msg, 'reason'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
  });
}
