import t, { type Test } from 'tap';
import type { FsEvent } from '../../../src/sim/freeswitch/event.js';
import { decodeG711, encodeG711 } from '../../../src/sim/freeswitch/sofia/g711.js';
import { buildRtp, parseRtp } from '../../../src/sim/freeswitch/sofia/rtp.js';
import { parseSdpAudio } from '../../../src/sim/freeswitch/sofia/sdp.js';
import { OutboundListener, sineFrames, sipHeader, startTwin, toneRatio, Udp, within } from './helpers.js';

const UA = 'FreeSWITCH-mod_sofia/1.10.12-release~64bit';
type TapTest = Test;

/** A test UAC on a UDP socket. */
async function setup(t: TapTest, o: { enable3pcc?: boolean } = {}) {
  const ob = new OutboundListener();
  const obPort = await ob.listen();
  const tw = await startTwin(obPort, o);
  const sip = new Udp();
  await sip.bind();
  const rtp = new Udp();
  await rtp.bind();
  const events: FsEvent[] = [];
  const evWaiters: (() => void)[] = [];
  tw.onEvent((ev) => { events.push(ev); for (const w of evWaiters.splice(0)) w(); });
  const waitEvent = async (pred: (e: FsEvent) => boolean): Promise<FsEvent> => {
    for (let i = 0; i < 10000; i++) {
      const e = events.find(pred);
      if (e) return e;
      await new Promise<void>((r) => evWaiters.push(r));
    }
    throw new Error('no event');
  };
  t.teardown(async () => { sip.close(); rtp.close(); await tw.close(); await ob.close(); });
  return { ob, tw, sip, rtp, events, waitEvent };
}


let n = 0;
function invite(sipPort: number, twinPort: number, rtpPort: number, opts: { sdp?: boolean; payloads?: string; xcall?: string; branch?: string; callId?: string } = {}) {
  n++;
  const callId = opts.callId ?? `call-${n}-${Date.now()}@test`;
  const branch = opts.branch ?? `z9hG4bKtest${n}x${Date.now()}`;
  const payloads = opts.payloads ?? '8 0 101';
  const sdp = opts.sdp === false ? '' : [
    'v=0', 'o=test 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${rtpPort} RTP/AVP ${payloads}`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
  const lines = [
    `INVITE sip:+15551234@127.0.0.1:${twinPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sipPort};rport;branch=${branch}`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@127.0.0.1>;tag=from${n}`,
    `To: <sip:+15551234@127.0.0.1:${twinPort}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${sipPort}>`,
    'User-Agent: test-uac',
    ...(opts.xcall !== undefined ? [`X-Fsbridge-Call: ${opts.xcall}`] : []),
    ...(sdp ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(sdp)}`,
  ];
  return { text: lines.join('\r\n') + '\r\n\r\n' + sdp, callId, branch, fromTag: `from${n}` };
}

function ack(inv: { callId: string; fromTag: string }, toHeader: string, sipPort: number, twinPort: number, sdp = ''): string {
  return [
    `ACK sip:+15551234@127.0.0.1:${twinPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sipPort};rport;branch=z9hG4bKack${Date.now()}${Math.random()}`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@127.0.0.1>;tag=${inv.fromTag}`,
    `To: ${toHeader}`,
    `Call-ID: ${inv.callId}`,
    'CSeq: 1 ACK',
    ...(sdp ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(sdp)}`,
  ].join('\r\n') + '\r\n\r\n' + sdp;
}

const isStatus = (code: number, method = 'INVITE') => (d: Buffer): boolean => {
  const s = d.toString();
  return s.startsWith(`SIP/2.0 ${code} `) && new RegExp(`^CSeq: \\d+ ${method}`, 'im').test(s);
};

t.test('OPTIONS gets 200 with the sofia User-Agent; bad requests get 400 / 481; garbage is dropped', async (t) => {
  const { tw, sip } = await setup(t);
  const base = (method: string, extra: string[] = []) => [
    `${method} sip:127.0.0.1:${tw.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sip.port};rport;branch=z9hG4bK${method}${Math.random()}`,
    'From: <sip:probe@127.0.0.1>;tag=p1', `To: <sip:127.0.0.1:${tw.sipPort}>`,
    `Call-ID: ${method}-${Math.random()}`, `CSeq: 7 ${method}`, ...extra, 'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n';
  sip.send('this is not sip\r\n\r\n', tw.sipPort);
  sip.send(base('OPTIONS'), tw.sipPort);
  const ok = (await within(sip.wait(isStatus(200, 'OPTIONS')), 5000, 'OPTIONS 200')).toString();
  t.equal(sipHeader(ok, 'User-Agent'), UA);
  t.match(sipHeader(ok, 'To') ?? '', /;tag=\w+/);
  t.match(sipHeader(ok, 'Via') ?? '', new RegExp(`rport=${sip.port}`));
  t.equal(sip.got.length, 1, 'garbage got no reply');
  sip.send(base('BYE').replace(/To: <[^>]*>/, 'To: <sip:x@127.0.0.1>;tag=nosuch'), tw.sipPort);
  await within(sip.wait(isStatus(481, 'BYE')), 5000, 'BYE 481');
  sip.send(base('CANCEL'), tw.sipPort);
  await within(sip.wait(isStatus(481, 'CANCEL')), 5000, 'CANCEL 481');
  sip.send(base('OPTIONS').replace(/Call-ID: [^\r]*\r\n/, ''), tw.sipPort);
  await within(sip.wait(isStatus(400, 'OPTIONS')), 5000, 'missing Call-ID 400');
});

t.test('INVITE with SDP: socket, answer → 200 (PCMA chosen), RTP both ways, DTMF, hangup → BYE with Reason', async (t) => {
  const { ob, tw, sip, rtp, events, waitEvent } = await setup(t);
  const inv = invite(sip.port, tw.sipPort, rtp.port, { xcall: 'fsb-call-42' });
  sip.send(inv.text, tw.sipPort);
  await within(sip.wait(isStatus(100)), 5000, '100 Trying');
  const conn = await within(ob.accept(), 5000, 'outbound socket');
  const data = await conn.connect();
  t.equal(data['Channel-Name'], 'sofia/fsbridge/alice@127.0.0.1');
  t.equal(data['Caller-Source'], 'mod_sofia');
  t.equal(data['Caller-Context'], 'fsbridge');
  t.equal(data['Caller-Destination-Number'], '+15551234');
  t.equal(data['Caller-Caller-ID-Number'], 'alice');
  t.equal(data['Caller-Caller-ID-Name'], 'Alice');
  t.equal(data['variable_sip_h_X-Fsbridge-Call'], 'fsb-call-42');
  t.equal(data.variable_fsbridge_call_id, 'fsb-call-42');
  t.equal(data.variable_sip_call_id, inv.callId);
  t.equal(data.variable_sip_req_uri, `+15551234@127.0.0.1:${tw.sipPort}`);
  t.equal(data.variable_sip_from_user, 'alice');
  t.equal(data.variable_sofia_profile_name, 'fsbridge');
  t.match(data.variable_switch_r_sdp, /m=audio \d+ RTP\/AVP 8 0 101/);
  t.equal(data['Channel-Read-Codec-Name'], 'PCMA');
  const uuid = data['Unique-ID'];
  conn.execute('answer');
  const ok = (await within(sip.wait(isStatus(200)), 5000, '200 OK')).toString();
  t.equal(sipHeader(ok, 'User-Agent'), UA);
  const sdp = ok.split('\r\n\r\n')[1];
  t.match(sdp, /^v=0\r\no=FreeSWITCH (\d+) (\d+) IN IP4 127\.0\.0\.1\r\n/);
  t.match(sdp, /m=audio \d+ RTP\/AVP 8 101\r\n/);
  const remote = parseSdpAudio(sdp);
  if (!remote) throw new Error('no sdp');
  // 200 is retransmitted until the ACK comes.
  const first200 = sip.got.findIndex((g) => isStatus(200)(g.data));
  await within(sip.wait(isStatus(200), first200 + 1), 5000, '200 retransmission');
  const toHeader = sipHeader(ok, 'To') ?? '';
  sip.send(ack(inv, toHeader, sip.port, tw.sipPort), tw.sipPort);
  const answered = await within(waitEvent((e) => e.name === 'CHANNEL_ANSWER' && e.get('Unique-ID') === uuid), 5000, 'answer event');
  t.equal(answered.get('Channel-Name'), 'sofia/fsbridge/alice@127.0.0.1');

  // Caller audio: 1000 Hz as PCMA RTP → the channel's read frames. Sent paced like a phone (one
  // 20 ms packet per 20 ms); the test waits for the tone to be read, not for a time to pass.
  let gotTone = false;
  const toneRead = new Promise<void>((resolve) => {
    t.teardown(tw.onCallerAudio(uuid, (pcm) => { if (toneRatio(pcm, 1000) > 0.8) { gotTone = true; resolve(); } }));
  });
  const frames = sineFrames(1000, 40);
  for (let i = 0; i < frames.length && !gotTone; i++) {
    rtp.send(buildRtp({ payloadType: 8, marker: i === 0, sequence: i, timestamp: i * 160, ssrc: 1234, payload: encodeG711('PCMA', frames[i]) }), remote.port);
    await new Promise((r) => setTimeout(r, 20));
  }
  await within(toneRead, 10_000, 'the 1000 Hz at the channel');
  t.ok(gotTone, 'the 1000 Hz sent as RTP is the channel\'s caller audio');

  // RFC 4733 DTMF from the caller: one DTMF event per digit (end packets are sent three times).
  const sendDigit = (code: number, ts: number): void => {
    for (const [end, dur] of [[false, 160], [false, 320], [true, 800], [true, 800], [true, 800]] as const) {
      const pl = Buffer.from([code, end ? 0x8a : 0x0a, dur >> 8, dur & 0xff]);
      rtp.send(buildRtp({ payloadType: 101, marker: dur === 160, sequence: ts & 0xffff, timestamp: ts, ssrc: 1234, payload: pl }), remote.port);
    }
  };
  sendDigit(5, 100_000);
  sendDigit(11, 200_000);
  const dtmfHash = await within(waitEvent((e) => e.name === 'DTMF' && e.get('Unique-ID') === uuid && e.get('DTMF-Digit') === '#'), 5000, 'DTMF #');
  t.equal(dtmfHash.get('DTMF-Source'), 'RTP');
  t.equal(dtmfHash.get('DTMF-Duration'), '800');
  t.equal(events.filter((e) => e.name === 'DTMF' && e.get('DTMF-Digit') === '5').length, 1, 'digit 5 reported once');

  // Ear: silence first, then the broadcast tone, as PCMA RTP to the SDP address.
  const before = rtp.got.length;
  t.equal(await tw.api(`uuid_broadcast ${uuid} tone_stream://%(3000,0,440) aleg`), '+OK Message sent\n');
  const toneIdx = (): number => rtp.got.findIndex((g, i) => i >= before && toneRatio(decodeG711('PCMA', parseRtp(g.data)?.payload ?? Buffer.alloc(0)), 440) > 0.8);
  for (let i = 0; i < 200 && toneIdx() < 0; i++) await within(rtp.wait(() => true, rtp.got.length), 5000, 'rtp');
  t.ok(toneIdx() >= 0, '440 Hz arrives as RTP');
  const pkts = rtp.got.map((g) => parseRtp(g.data)).filter((p) => p !== undefined);
  t.ok(pkts.length > 5);
  t.ok(pkts.every((p) => p.payloadType === 8 && p.payload.length === 160 && p.ssrc === pkts[0].ssrc), 'PT 8, 160 bytes, one SSRC');
  let seqOk = true;
  for (let i = 1; i < pkts.length; i++) {
    if (pkts[i].sequence !== ((pkts[i - 1].sequence + 1) & 0xffff) || pkts[i].timestamp !== ((pkts[i - 1].timestamp + 160) >>> 0)) seqOk = false;
  }
  t.ok(seqOk, 'sequence +1, timestamp +160');
  t.ok(pkts[0].payload.every((b) => b === 0xd5), 'idle frames are A-law silence');

  // fsbridge hangs up: BYE with the Q.850 reason; 200 from us.
  const byeFrom = sip.got.length;
  conn.hangup();
  const bye = (await within(sip.wait((d) => d.toString().startsWith('BYE '), byeFrom), 5000, 'BYE')).toString();
  t.equal(sipHeader(bye, 'Reason'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
  t.equal(sipHeader(bye, 'Call-ID'), inv.callId);
  t.match(bye, new RegExp(`^BYE sip:alice@127\\.0\\.0\\.1:${sip.port} SIP/2\\.0`));
  const byeOk = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((h) => `${h}: ${sipHeader(bye, h)}`);
  sip.send(['SIP/2.0 200 OK', ...byeOk, 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', tw.sipPort);
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'NORMAL_CLEARING');
  t.equal(hc.get('variable_sip_hangup_disposition'), 'send_bye');
});

t.test('without enable-3pcc (the shipped profile) an INVITE without SDP gets 480 MANDATORY_IE_MISSING', async (t) => {
  const { tw, sip, rtp } = await setup(t);
  const inv = invite(sip.port, tw.sipPort, rtp.port, { sdp: false, xcall: 'late-0' });
  sip.send(inv.text, tw.sipPort);
  const res = (await within(sip.wait((d) => /^SIP\/2.0 \d\d\d /.test(d.toString())), 5000, 'a response')).toString();
  t.match(res, /^SIP\/2.0 480 /, 'at once, no 100 first: as FreeSWITCH 1.10.12 answers');
  t.match(res, /Reason: Q\.850;cause=96;text="MANDATORY_IE_MISSING"/);
  t.equal((await tw.api('show channels count')).trim(), '0 total.', 'no channel created');
});

t.test('3PCC (enable3pcc): INVITE without SDP gets the offer in the 200, the answer comes in the ACK; BYE from the caller', async (t) => {
  const { ob, tw, sip, rtp, waitEvent } = await setup(t, { enable3pcc: true });
  const inv = invite(sip.port, tw.sipPort, rtp.port, { sdp: false, xcall: 'late-1' });
  sip.send(inv.text, tw.sipPort);
  const conn = await within(ob.accept(), 5000, 'outbound socket');
  const data = await conn.connect();
  t.equal(data.variable_endpoint_disposition, 'DELAYED NEGOTIATION');
  conn.execute('answer');
  const ok = (await within(sip.wait(isStatus(200)), 5000, '200 OK')).toString();
  const offer = ok.split('\r\n\r\n')[1];
  t.match(offer, /m=audio \d+ RTP\/AVP 0 8 101\r\n/);
  t.match(offer, /a=rtpmap:101 telephone-event\/8000/);
  const local = parseSdpAudio(offer);
  if (!local) throw new Error('no offer');
  const answer = ['v=0', 'o=test 2 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${rtp.port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', ''].join('\r\n');
  sip.send(ack(inv, sipHeader(ok, 'To') ?? '', sip.port, tw.sipPort, answer), tw.sipPort);
  const pkt = parseRtp(await within(rtp.wait((d) => parseRtp(d) !== undefined), 5000, 'rtp after ACK'));
  t.equal(pkt?.payloadType, 0);
  t.ok(pkt?.payload.every((b) => b === 0xff), 'idle μ-law silence 0xFF');
  const uuid = data['Unique-ID'];
  // uuid_send_dtmf on a sofia channel: RFC 4733 events to the far end.
  t.equal(await tw.api(`uuid_send_dtmf ${uuid} 7`), `+OK ${uuid} sent DTMF 7.\n`);
  const ev = parseRtp(await within(rtp.wait((d) => parseRtp(d)?.payloadType === 101 && (d[13] & 0x80) !== 0), 5000, 'dtmf end packet'));
  t.equal(ev?.payload[0], 7, 'event 7');
  t.equal(ev?.payload.readUInt16BE(2), 2000, 'duration 2000 samples');
  const toTag = /tag=([^;\s]+)/.exec(sipHeader(ok, 'To') ?? '')?.[1];
  sip.send([
    `BYE sip:+15551234@127.0.0.1:${tw.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sip.port};rport;branch=z9hG4bKbye${Date.now()}`,
    `From: "Alice" <sip:alice@127.0.0.1>;tag=${inv.fromTag}`, `To: <sip:+15551234@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${inv.callId}`, 'CSeq: 2 BYE', 'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n', tw.sipPort);
  await within(sip.wait(isStatus(200, 'BYE')), 5000, 'BYE 200');
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'NORMAL_CLEARING');
  t.equal(hc.get('variable_sip_hangup_disposition'), 'recv_bye');
  t.equal(hc.get('variable_rtp_use_codec_name'), 'PCMU');
});

t.test('pre_answer sends 183 with SDP; CANCEL of the pending INVITE: 200 to CANCEL, 487 to INVITE, ORIGINATOR_CANCEL', async (t) => {
  const { ob, tw, sip, rtp, waitEvent } = await setup(t);
  const inv = invite(sip.port, tw.sipPort, rtp.port, { xcall: 'cancel-me' });
  sip.send(inv.text, tw.sipPort);
  const conn = await within(ob.accept(), 5000, 'outbound socket');
  const data = await conn.connect();
  const uuid = data['Unique-ID'];
  conn.execute('pre_answer');
  const r183 = (await within(sip.wait(isStatus(183)), 5000, '183')).toString();
  t.match(r183.split('\r\n\r\n')[1], /^v=0\r\no=FreeSWITCH /, '183 carries the SDP answer');
  await within(waitEvent((e) => e.name === 'CHANNEL_PROGRESS_MEDIA' && e.get('Unique-ID') === uuid), 5000, 'progress media');
  sip.send([
    `CANCEL sip:+15551234@127.0.0.1:${tw.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sip.port};rport;branch=${inv.branch}`,
    'Max-Forwards: 70', `From: "Alice" <sip:alice@127.0.0.1>;tag=${inv.fromTag}`, `To: <sip:+15551234@127.0.0.1:${tw.sipPort}>`,
    `Call-ID: ${inv.callId}`, 'CSeq: 1 CANCEL', 'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n', tw.sipPort);
  await within(sip.wait(isStatus(200, 'CANCEL')), 5000, 'CANCEL 200');
  const r487 = (await within(sip.wait(isStatus(487)), 5000, '487')).toString();
  sip.send(ack(inv, sipHeader(r487, 'To') ?? '', sip.port, tw.sipPort), tw.sipPort);
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'ORIGINATOR_CANCEL');
  t.equal(hc.get('variable_sip_hangup_disposition'), 'recv_cancel');
});

t.test('no X-Fsbridge-Call: the dialplan rejects (CALL_REJECTED → 603 with Reason); no common codec → 488', async (t) => {
  const { tw, sip, rtp } = await setup(t);
  const inv = invite(sip.port, tw.sipPort, rtp.port);
  sip.send(inv.text, tw.sipPort);
  const r = (await within(sip.wait(isStatus(603)), 5000, '603')).toString();
  t.equal(sipHeader(r, 'Reason'), 'Q.850;cause=21;text="CALL_REJECTED"');
  const g722 = invite(sip.port, tw.sipPort, rtp.port, { payloads: '9', xcall: 'x' });
  sip.send(g722.text, tw.sipPort);
  await within(sip.wait(isStatus(488)), 5000, '488');
});

t.test('originate into the twin\'s own profile: both legs, X- header passed, RTP between them, BYE ends both', async (t) => {
  const { ob, tw, waitEvent } = await setup(t);
  const orig = tw.originate(`{sip_h_X-Fsbridge-Call=loop-7}sofia/fsbridge/8084@127.0.0.1:${tw.sipPort} &playback(tone_stream://%(5000,0,600))`);
  const conn = await within(ob.accept(), 5000, 'outbound socket');
  const data = await conn.connect();
  t.equal(data.variable_fsbridge_call_id, 'loop-7');
  t.equal(data['Caller-Destination-Number'], '8084');
  const inUuid = data['Unique-ID'];
  conn.execute('answer');
  const r = await within(orig, 5000, 'originate');
  t.match(r, /^\+OK /);
  const outUuid = r.slice(4).trim();
  let got = false;
  const toneRead = new Promise<void>((resolve) => {
    t.teardown(tw.onCallerAudio(inUuid, (pcm) => { if (toneRatio(pcm, 600) > 0.8) { got = true; resolve(); } }));
  });
  await within(toneRead, 10_000, 'the 600 Hz at the B leg');
  t.ok(got, 'the A leg\'s 600 Hz playback reaches the B leg as caller audio over RTP');
  conn.hangup();
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === outUuid), 5000, 'A leg ends');
  t.equal(hc.get('Hangup-Cause'), 'NORMAL_CLEARING');
});

t.test('TCP on the same port: OPTIONS split across writes, INVITE → 200 → ACK, BYE back on the connection', async (t) => {
  const { ob, tw, rtp } = await setup(t);
  const { connect } = await import('node:net');
  const c = connect({ host: '127.0.0.1', port: tw.sipPort });
  await new Promise<void>((r) => c.once('connect', () => r()));
  t.teardown(() => { c.destroy(); });
  let buf = '';
  const waiters: (() => void)[] = [];
  c.on('data', (b) => { buf += b.toString(); for (const w of waiters.splice(0)) w(); });
  const waitFor = async (re: RegExp): Promise<string> => {
    for (let i = 0; i < 1000; i++) {
      const m = re.exec(buf);
      if (m) return m[0];
      await new Promise<void>((r) => waiters.push(r));
    }
    throw new Error('no match');
  };
  const lp = c.localPort ?? 0;
  const opt = [`OPTIONS sip:127.0.0.1:${tw.sipPort};transport=tcp SIP/2.0`, `Via: SIP/2.0/TCP 127.0.0.1:${lp};branch=z9hG4bKtcpopt`,
    'From: <sip:p@127.0.0.1>;tag=a', `To: <sip:127.0.0.1:${tw.sipPort}>`, 'Call-ID: tcp-opt', 'CSeq: 1 OPTIONS', 'Content-Length: 0'].join('\r\n') + '\r\n\r\n';
  c.write(opt.slice(0, 37));
  await new Promise((r) => setTimeout(r, 20));
  c.write(opt.slice(37));
  t.match(await within(waitFor(/SIP\/2\.0 200 OK[\s\S]*?CSeq: 1 OPTIONS[\s\S]*?\r\n\r\n/), 5000, 'tcp options'), /User-Agent: FreeSWITCH-mod_sofia/);
  const inv = invite(lp, tw.sipPort, rtp.port, { xcall: 'tcp-1' });
  c.write(inv.text.replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
  const conn = await within(ob.accept(), 5000, 'outbound socket');
  const data = await conn.connect();
  t.equal(data.variable_sip_via_protocol, 'tcp');
  conn.execute('answer');
  const ok = await within(waitFor(/SIP\/2\.0 200 OK[^]*?CSeq: 1 INVITE[^]*?\r\n\r\n/), 5000, '200 over tcp');
  c.write(ack(inv, sipHeader(ok, 'To') ?? '', lp, tw.sipPort).replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
  conn.hangup();
  const bye = await within(waitFor(/BYE sip:[^]*?\r\n\r\n/), 5000, 'BYE over tcp');
  t.match(sipHeader(bye, 'Via') ?? '', /^SIP\/2\.0\/TCP /);
  t.equal(sipHeader(bye, 'Reason'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
});
