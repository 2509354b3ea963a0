// Issue 8: a captured Authorization header of a digest trunk could be replayed for the nonce's
// whole lifetime (60 s), against any DID. Now the digest-uri must match the Request-URI (403,
// SIP_AUTH_URI_MISMATCH) and a nonce count that does not grow is a replay (401 with a fresh
// nonce and stale=true, SIP_AUTH_REPLAY). Against the drachtio twin, as inbound.sipp.test.ts.
import t, { type Test } from 'tap';
import { InboundCalls, type InboundRejected } from '../../../src/sip/inbound.js';
import { startTwin, connectSrf } from '../sip/srf-helpers.js';
import { UdpPeer, getHeader } from '../sip/udp-peer.js';
import { FsStandin } from './fs-standin.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ManualClock } from '../../../src/clock.js';
import { buildAuthorization, parseChallenge, type DigestChallenge } from '../../../src/sip/digest.js';
import type { TrunkConfig } from '../../../src/config/schema.js';

const DID = '15551234';
const OTHER_DID = '15559999';

const digestTrunk: TrunkConfig = {
  name: 'op', registrar: 'sip:127.0.0.1:5999', expiresSec: 300, register: false, username: 'opuser', password: 'pw1',
  inbound: { allow: [], digest: true }, outbound: { maxConcurrent: 10, callsPerSecond: 10, queueMax: 10 },
};

async function setup(t: Test) {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  const fs = new FsStandin();
  await fs.start();
  t.teardown(() => fs.close());
  // FreeSWITCH refuses every call: an INVITE that got past the digest check shows up as 480.
  fs.mode = { status: 480, reason: 'Temporarily Unavailable' };
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const calls = new InboundCalls({
    srf, trunks: [digestTrunk], routes: [{ did: DID, bot: 'echo' }, { did: OTHER_DID, bot: 'other' }],
    sipProfileUri: `sip:127.0.0.1:${fs.port}`, admit: () => ({ ok: true }), logger: silentLogger(), metrics, clock,
  });
  t.teardown(() => calls.close());
  calls.start();
  await new Promise((r) => setTimeout(r, 50)); // the route message reaches the twin
  const rejected: InboundRejected[] = [];
  calls.on('rejected', (r) => rejected.push(r));
  const op = new UdpPeer();
  await op.start();
  t.teardown(() => op.close());
  return { twin, fs, metrics, clock, op, rejected };
}

function invite(op: UdpPeer, sp: number, callId: string, did: string, auth?: string): void {
  const sdp = 'v=0\r\no=op 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n';
  op.send([`INVITE sip:${did}@127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${op.port};branch=z9hG4bK${callId}`,
    'Max-Forwards: 70', `From: <sip:+4930123@127.0.0.1>;tag=${callId}`, `To: <sip:${did}@127.0.0.1:${sp}>`, `Call-ID: ${callId}`,
    'CSeq: 1 INVITE', `Contact: <sip:op@127.0.0.1:${op.port}>`, ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Type: application/sdp', `Content-Length: ${sdp.length}`].join('\r\n') + '\r\n\r\n' + sdp, sp);
}
const final = (callId: string) => (r: { msg: { kind: string; status: number }; text: string }) =>
  r.msg.kind === 'response' && r.msg.status >= 200 && r.text.includes(`Call-ID: ${callId}`);

async function challenge(op: UdpPeer, sp: number, callId: string): Promise<DigestChallenge> {
  invite(op, sp, callId, DID);
  const res = await op.next(final(callId));
  if (res.msg.status !== 401) throw new Error(`expected 401, got ${res.msg.status}`);
  return parseChallenge(getHeader(res.msg, 'www-authenticate')!)!;
}

const answer = (ch: DigestChallenge, uri: string, nc: number, cnonce = 'c0ffee') =>
  buildAuthorization(ch, { username: 'opuser', password: 'pw1', method: 'INVITE', uri, nc, cnonce });

t.test('a captured Authorization header replayed as is: challenged again, counted, nothing reaches FreeSWITCH', async (t) => {
  const { twin, fs, metrics, op, rejected } = await setup(t);
  const sp = twin.sipPort;
  const ch = await challenge(op, sp, 'rp0');
  const captured = answer(ch, `sip:${DID}@127.0.0.1:${sp}`, 1);
  invite(op, sp, 'rp1', DID, captured);
  t.equal((await op.next(final('rp1'))).msg.status, 480, 'the genuine request gets through');
  t.equal(fs.invites().length, 1);

  invite(op, sp, 'rp2', DID, captured); // a new INVITE (new Call-ID and branch), the same header
  const res = await op.next(final('rp2'));
  t.equal(res.msg.status, 401, 'the replay is challenged again');
  const fresh = parseChallenge(getHeader(res.msg, 'www-authenticate')!)!;
  t.not(fresh.nonce, ch.nonce, 'with a fresh nonce');
  t.equal(fresh.stale, true, 'stale=true: a client with the password retries at once');
  t.equal(metrics.errorCount('SIP_AUTH_REPLAY'), 1);
  t.match(rejected, [{ code: 'SIP_AUTH_REPLAY', sipStatus: 401 }]);
  t.equal(fs.invites().length, 1, 'the replay did not reach FreeSWITCH');

  // the genuine client goes on with the same nonce and the next nc, or answers the fresh challenge
  invite(op, sp, 'rp3', DID, answer(ch, `sip:${DID}@127.0.0.1:${sp}`, 2, 'beef'));
  t.equal((await op.next(final('rp3'))).msg.status, 480, 'nc=2 on the same nonce gets through');
  invite(op, sp, 'rp4', DID, answer(fresh, `sip:${DID}@127.0.0.1:${sp}`, 1));
  t.equal((await op.next(final('rp4'))).msg.status, 480, 'the fresh nonce gets through');
  invite(op, sp, 'rp5', DID, answer(ch, `sip:${DID}@127.0.0.1:${sp}`, 2, 'beef'));
  t.equal((await op.next(final('rp5'))).msg.status, 401, 'nc=2 again is a replay too');
  t.equal(metrics.errorCount('SIP_AUTH_REPLAY'), 2);
  t.equal(fs.invites().length, 3);
});

t.test('a captured Authorization header sent to another DID: 403 SIP_AUTH_URI_MISMATCH', async (t) => {
  const { twin, fs, metrics, op, rejected } = await setup(t);
  const sp = twin.sipPort;
  const ch = await challenge(op, sp, 'um0');
  const captured = answer(ch, `sip:${DID}@127.0.0.1:${sp}`, 1);
  invite(op, sp, 'um1', OTHER_DID, captured);
  t.equal((await op.next(final('um1'))).msg.status, 403);
  t.equal(metrics.errorCount('SIP_AUTH_URI_MISMATCH'), 1);
  t.match(rejected, [{ code: 'SIP_AUTH_URI_MISMATCH', sipStatus: 403 }]);
  t.equal(metrics.errorCount('SIP_INBOUND_FORBIDDEN'), 0, 'counted under its own code');
  t.equal(fs.invites().length, 0, 'nothing reached FreeSWITCH');
  // the refused attempt did not use up the nonce: the genuine request still gets through
  invite(op, sp, 'um2', DID, captured);
  t.equal((await op.next(final('um2'))).msg.status, 480);
  t.equal(fs.invites().length, 1);
});

t.test('after the nonce lifetime the header is stale whatever its nc', async (t) => {
  const { twin, fs, clock, op } = await setup(t);
  const sp = twin.sipPort;
  const ch = await challenge(op, sp, 'ex0');
  clock.advance(60_001);
  invite(op, sp, 'ex1', DID, answer(ch, `sip:${DID}@127.0.0.1:${sp}`, 1));
  t.equal((await op.next(final('ex1'))).msg.status, 401);
  t.equal(fs.invites().length, 0);
});
