// drachtio-srf (the real client library) against the drachtio-server twin, with a scripted UDP SIP
// peer on the network side.
import t from 'tap';
import { startTwin, connectSrf } from './srf-helpers.js';
import { UdpPeer, getHeader } from './udp-peer.js';
import { parseChallenge, parseCredentials, verifyCredentials } from '../../../src/sip/digest.js';

async function setup(t: any, twinOpts = {}) {
  const twin = await startTwin(twinOpts);
  t.teardown(() => twin.close());
  const { srf, err } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  t.equal(err, undefined, 'srf connected');
  const peer = new UdpPeer();
  await peer.start();
  t.teardown(() => peer.close());
  return { twin, srf, peer };
}

t.test('authenticate with the right secret', async (t) => {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf, err, hostport, version } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  t.equal(err, undefined);
  // as drachtio-server v0.9.4-rc1 announces them (test/real/differential-drachtio.real.test.ts)
  t.equal(hostport, `tcp/127.0.0.1:${twin.sipPort},udp/127.0.0.1:${twin.sipPort}`);
  t.equal(version, 'v0.9.4-rc1');
});

t.test('authenticate with a wrong secret', async (t) => {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf, err } = await connectSrf(twin, 'wrong');
  t.teardown(() => srf.disconnect());
  t.ok(err instanceof Error, 'connect reports an error');
});

t.test('OPTIONS to a UDP peer, completed like sofia', async (t) => {
  const { srf, peer } = await setup(t);
  peer.onMessage = (r) => { if (r.msg.method === 'OPTIONS') peer.reply(r, 200, 'OK', ['Server: peer']); };
  const req = await srf.request(`sip:127.0.0.1:${peer.port}`, { method: 'OPTIONS', headers: { 'X-Test': 'one', From: '<sip:fsbridge@localhost>' } });
  const res: any = await new Promise((resolve) => req.on('response', resolve));
  t.equal(res.status, 200);
  t.equal(res.get('Server'), 'peer');
  const got = peer.received[0].msg;
  t.match(getHeader(got, 'via'), /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;rport;branch=z9hG4bK\w+$/);
  t.equal(getHeader(got, 'max-forwards'), '70');
  t.match(getHeader(got, 'from'), /^<sip:fsbridge@127\.0\.0\.1:\d+>;tag=\w+$/, '@localhost replaced, tag added');
  t.equal(getHeader(got, 'x-test'), 'one');
  t.equal(getHeader(got, 'content-length'), '0');
  t.equal(req.get('Call-ID'), getHeader(got, 'call-id'), 'srf got the echoed request');
});

t.test('REGISTER answered with a digest challenge, then 200', async (t) => {
  const { srf, peer } = await setup(t);
  let verdict = '';
  peer.onMessage = (r) => {
    if (r.msg.method !== 'REGISTER') return;
    const auth = getHeader(r.msg, 'authorization');
    if (!auth) { peer.reply(r, 401, 'Unauthorized', ['WWW-Authenticate: Digest realm="peer", nonce="n1", qop="auth", algorithm=MD5']); return; }
    verdict = verifyCredentials(parseCredentials(auth)!, 'REGISTER', { username: 'alice', password: 's3cret' });
    peer.reply(r, verdict === 'ok' ? 200 : 403, verdict === 'ok' ? 'OK' : 'Forbidden', ['Expires: 60']);
  };
  t.ok(parseChallenge('Digest realm="peer", nonce="n1"'));
  const uri = `sip:127.0.0.1:${peer.port}`;
  const req = await srf.request(uri, {
    method: 'REGISTER', headers: { Contact: '<sip:alice@localhost>', Expires: '60', From: `<sip:alice@127.0.0.1>`, To: `<sip:alice@127.0.0.1>` },
    auth: { username: 'alice', password: 's3cret' },
  });
  const res: any = await new Promise((resolve) => req.on('response', (r: any) => { if (r.status >= 200 && r.status !== 401) resolve(r); }));
  t.equal(res.status, 200);
  t.equal(verdict, 'ok');
  const regs = peer.received.filter((r) => r.msg.method === 'REGISTER');
  t.equal(regs.length, 2);
  t.equal(getHeader(regs[0].msg, 'call-id'), getHeader(regs[1].msg, 'call-id'));
  t.equal(Number(getHeader(regs[1].msg, 'cseq')!.split(' ')[0]), Number(getHeader(regs[0].msg, 'cseq')!.split(' ')[0]) + 1);
  t.match(getHeader(regs[0].msg, 'contact'), /^<sip:alice@127\.0\.0\.1:\d+>$/);
});

t.test('UDP retransmission until the peer answers', async (t) => {
  const { srf, peer } = await setup(t, { t1Ms: 20 });
  let seen = 0;
  peer.onMessage = (r) => { if (++seen === 3) peer.reply(r, 200, 'OK'); };
  const req = await srf.request(`sip:127.0.0.1:${peer.port}`, { method: 'OPTIONS' });
  const res: any = await new Promise((resolve) => req.on('response', resolve));
  t.equal(res.status, 200);
  t.ok(seen >= 3, 'request was retransmitted');
  const branches = new Set(peer.received.map((r) => getHeader(r.msg, 'via')));
  t.equal(branches.size, 1, 'retransmissions are identical');
});

t.test('no answer ends in a local 408', async (t) => {
  const { srf, peer } = await setup(t, { t1Ms: 5 });
  const req = await srf.request(`sip:127.0.0.1:${peer.port}`, { method: 'OPTIONS' });
  const res: any = await new Promise((resolve) => req.on('response', resolve));
  t.equal(res.status, 408);
});

t.test('incoming INVITE reaches srf.invite, then ACK and BYE', async (t) => {
  const { twin, srf, peer } = await setup(t);
  const destroyed = new Promise<void>((resolve) => {
    srf.invite(async (req: any, res: any) => {
      t.equal(req.method, 'INVITE');
      const dlg = await srf.createUAS(req, res, { localSdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' });
      dlg.on('destroy', () => resolve());
    });
  });
  await new Promise((r) => setTimeout(r, 50)); // let the route message reach the twin
  const sp = twin.sipPort;
  const inv = [
    `INVITE sip:+15551234@127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKinv1`,
    'Max-Forwards: 70', '<sip:caller@127.0.0.1>;tag=c1'.replace(/^/, 'From: '), `To: <sip:+15551234@127.0.0.1:${sp}>`,
    'Call-ID: call-in-1', 'CSeq: 1 INVITE', `Contact: <sip:caller@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp',
  ];
  const sdp = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
  peer.send(inv.join('\r\n') + `\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`, sp);
  const ok = await peer.next((r) => r.msg.status === 200);
  t.ok(peer.received.some((r) => r.msg.status === 100), '100 Trying first');
  const toTag = /tag=([^;]+)/.exec(getHeader(ok.msg, 'to')!)![1];
  t.match(getHeader(ok.msg, 'contact'), new RegExp(`<sip:127\\.0\\.0\\.1:${sp}>`));
  t.equal(getHeader(ok.msg, 'content-type'), 'application/sdp');
  t.match(ok.msg.body, /m=audio 4000/);
  const base = [`From: <sip:caller@127.0.0.1>;tag=c1`, `To: <sip:+15551234@127.0.0.1:${sp}>;tag=${toTag}`, 'Call-ID: call-in-1'];
  peer.send([`ACK sip:127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKack1`, ...base, 'CSeq: 1 ACK', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  peer.send([`BYE sip:127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbye1`, ...base, 'CSeq: 2 BYE', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  const byeOk = await peer.next((r) => r.msg.status === 200 && r.msg.method === 'BYE');
  t.equal(byeOk.msg.status, 200);
  await destroyed;
});

t.test('a method nobody routed gets 503', async (t) => {
  const { twin, peer } = await setup(t);
  const sp = twin.sipPort;
  peer.send([`OPTIONS sip:127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKo1`, 'From: <sip:x@127.0.0.1>;tag=1',
    `To: <sip:127.0.0.1:${sp}>`, 'Call-ID: o-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  const r = await peer.next((x) => x.msg.kind === 'response');
  t.equal(r.msg.status, 503);
});

t.test('createUAC: 180, 200, ACK to the Contact, BYE with the dialog', async (t) => {
  const { srf, peer } = await setup(t);
  peer.onMessage = (r) => {
    if (r.msg.method === 'INVITE' && r.msg.kind === 'request') {
      peer.reply(r, 180, 'Ringing', [], 'callee1');
      peer.reply(r, 200, 'OK', [`Contact: <sip:callee@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], 'callee1', 'v=0\r\nm=audio 6000 RTP/AVP 0\r\n');
    }
    if (r.msg.method === 'BYE') peer.reply(r, 200, 'OK', [], 'callee1');
  };
  const dlg = await srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n' });
  t.equal(dlg.sip.remoteTag, 'callee1');
  const ack = await peer.next((r) => r.msg.method === 'ACK');
  t.equal(ack.msg.uri, `sip:callee@127.0.0.1:${peer.port}`);
  t.match(getHeader(ack.msg, 'cseq'), / ACK$/);
  t.equal(getHeader(ack.msg, 'call-id'), dlg.sip.callId);
  await dlg.destroy();
  const bye = await peer.next((r) => r.msg.method === 'BYE');
  t.equal(bye.msg.uri, `sip:callee@127.0.0.1:${peer.port}`, 'placeholder replaced by the remote target');
  t.match(getHeader(bye.msg, 'to'), /tag=callee1/);
});

t.test('createUAC rejected with 486: the twin ACKs it', async (t) => {
  const { srf, peer } = await setup(t);
  peer.onMessage = (r) => { if (r.msg.method === 'INVITE' && r.msg.kind === 'request') peer.reply(r, 486, 'Busy Here', [], 'b1'); };
  const err: any = await srf.createUAC(`sip:busy@127.0.0.1:${peer.port}`, { localSdp: 'v=0\r\n' }).catch((e: unknown) => e);
  t.equal(err.status, 486);
  const ack = await peer.next((r) => r.msg.method === 'ACK');
  t.equal(getHeader(ack.msg, 'via'), getHeader(peer.received[0].msg, 'via'), 'same branch as the INVITE');
});

t.test('CANCEL of an outgoing INVITE', async (t) => {
  const { srf, peer } = await setup(t);
  peer.onMessage = (r) => {
    if (r.msg.method === 'INVITE' && r.msg.kind === 'request') peer.reply(r, 180, 'Ringing', [], 'c9');
    if (r.msg.method === 'CANCEL') {
      peer.reply(r, 200, 'OK', [], 'c9');
      const inv = peer.received.find((x) => x.msg.method === 'INVITE')!;
      peer.reply(inv, 487, 'Request Terminated', [], 'c9');
    }
  };
  let sent: any;
  const p = srf.createUAC(`sip:x@127.0.0.1:${peer.port}`, { localSdp: 'v=0\r\n' }, { cbRequest: (_e: unknown, req: any) => { sent = req; }, cbProvisional: () => sent.cancel() });
  const err: any = await p.catch((e: unknown) => e);
  t.equal(err.status, 487);
  const cancel = await peer.next((r) => r.msg.method === 'CANCEL');
  t.equal(getHeader(cancel.msg, 'via'), getHeader(peer.received[0].msg, 'via'));
});

t.test('CANCEL from the network: 200 + 487 at the peer, cancel at srf', async (t) => {
  const { twin, srf, peer } = await setup(t);
  // The handler does not answer: the INVITE is still pending when the CANCEL comes.
  const cancelled = new Promise<string>((resolve) => {
    srf.invite((req: any) => { req.on('cancel', (msg: any) => resolve(msg.method)); });
  });
  await new Promise((r) => setTimeout(r, 50));
  const sp = twin.sipPort;
  const common = [`Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKcx1`, 'Max-Forwards: 70', 'From: <sip:caller@127.0.0.1>;tag=cx',
    `To: <sip:callee@127.0.0.1:${sp}>`, 'Call-ID: cancel-1'];
  peer.send([`INVITE sip:callee@127.0.0.1:${sp} SIP/2.0`, ...common, 'CSeq: 1 INVITE', `Contact: <sip:caller@127.0.0.1:${peer.port}>`, 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  await peer.next((r) => r.msg.status === 100);
  peer.send([`CANCEL sip:callee@127.0.0.1:${sp} SIP/2.0`, ...common, 'CSeq: 1 CANCEL', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  const ok = await peer.next((r) => r.msg.status === 200 && r.msg.method === 'CANCEL');
  const terminated = await peer.next((r) => r.msg.status === 487);
  t.ok(ok && terminated);
  t.equal(await cancelled, 'CANCEL');
});

t.test('BYE from the callee of an outgoing call reaches the dialog', async (t) => {
  const { twin, srf, peer } = await setup(t);
  peer.onMessage = (r) => {
    if (r.msg.method === 'INVITE' && r.msg.kind === 'request') {
      peer.reply(r, 200, 'OK', [`Contact: <sip:callee@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], 'cb1', 'v=0\r\n');
    }
  };
  const dlg = await srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: 'v=0\r\n' });
  const destroyed = new Promise<void>((resolve) => dlg.on('destroy', () => resolve()));
  const inv = await peer.next((r) => r.msg.method === 'INVITE');
  await peer.next((r) => r.msg.method === 'ACK');
  const from = getHeader(inv.msg, 'from');
  peer.send([`BYE sip:127.0.0.1:${twin.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbb1`, 'Max-Forwards: 70',
    `From: ${getHeader(inv.msg, 'to')};tag=cb1`, `To: ${from}`, `Call-ID: ${getHeader(inv.msg, 'call-id')}`, 'CSeq: 1 BYE', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', twin.sipPort);
  await destroyed;
  const ok = await peer.next((r) => r.msg.kind === 'response' && r.msg.method === 'BYE');
  t.equal(ok.msg.status, 200);
  // a request for a dialog that no longer exists gets 481
  peer.send([`INFO sip:127.0.0.1:${twin.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbb2`, 'Max-Forwards: 70',
    `From: ${getHeader(inv.msg, 'to')};tag=cb1`, `To: ${from}`, `Call-ID: ${getHeader(inv.msg, 'call-id')}`, 'CSeq: 2 INFO', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', twin.sipPort);
  const gone = await peer.next((r) => r.msg.kind === 'response' && r.msg.method === 'INFO');
  t.equal(gone.msg.status, 481);
});

t.test('a request-URI with transport=tcp goes out over TCP', async (t) => {
  const { srf } = await setup(t);
  const { createServer } = await import('node:net');
  const { SipStreamSplitter, parseSip } = await import('../../../src/sim/drachtio/sip-message.js');
  const seen: string[] = [];
  const conns = new Set<import('node:net').Socket>();
  const server = createServer((s) => {
    conns.add(s);
    const split = new SipStreamSplitter();
    s.on('data', (b) => {
      for (const text of split.push(b).messages) {
        const m = parseSip(text)!;
        seen.push(getHeader(m, 'via')!);
        s.write([`SIP/2.0 200 OK`, `Via: ${getHeader(m, 'via')}`, `From: ${getHeader(m, 'from')}`, `To: ${getHeader(m, 'to')};tag=tcp1`,
          `Call-ID: ${getHeader(m, 'call-id')}`, `CSeq: ${getHeader(m, 'cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }));
  const port = (server.address() as { port: number }).port;
  const req = await srf.request(`sip:127.0.0.1:${port};transport=tcp`, { method: 'OPTIONS' });
  const res: any = await new Promise((resolve) => req.on('response', resolve));
  t.equal(res.status, 200);
  t.match(seen[0], /^SIP\/2\.0\/TCP /);
});

t.test('reliable provisional: srf PRACKs inside the early dialog', async (t) => {
  const { srf, peer } = await setup(t);
  peer.onMessage = (r) => {
    if (r.msg.method === 'INVITE' && r.msg.kind === 'request') {
      peer.reply(r, 183, 'Session Progress', ['Require: 100rel', 'RSeq: 1', `Contact: <sip:callee@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], 'pr1', 'v=0\r\n');
    }
    if (r.msg.method === 'PRACK' && r.msg.kind === 'request') {
      peer.reply(r, 200, 'OK', [], 'pr1');
      const inv = peer.received.find((x) => x.msg.method === 'INVITE')!;
      peer.reply(inv, 200, 'OK', [`Contact: <sip:callee@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], 'pr1', 'v=0\r\n');
    }
  };
  const dlg = await srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: 'v=0\r\n' });
  const prack = peer.received.find((r) => r.msg.method === 'PRACK')!;
  t.ok(prack, 'PRACK sent');
  t.equal(prack.msg.uri, `sip:callee@127.0.0.1:${peer.port}`);
  t.match(getHeader(prack.msg, 'rack'), /^1 \d+ INVITE$/);
  t.match(getHeader(prack.msg, 'to'), /tag=pr1/);
  t.equal(dlg.sip.remoteTag, 'pr1');
});
