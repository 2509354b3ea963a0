import t from 'tap';
import { buildRtp, parseRtp, RtpCallerSource } from '../../../src/sim/freeswitch/sofia/rtp.js';
import { buildAnswerSdp, buildOfferSdp, negotiate, parseSdpAudio } from '../../../src/sim/freeswitch/sofia/sdp.js';
import { causeToSipStatus } from '../../../src/sim/freeswitch/sofia/causes.js';

const OFFER = [
  'v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0',
  'm=audio 4000 RTP/AVP 9 8 0 101', 'c=IN IP4 127.0.0.1', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', 'a=sendonly',
  'm=video 5000 RTP/AVP 96', 'c=IN IP4 10.9.9.9', '',
].join('\r\n');

t.test('parseSdpAudio: media-level c= wins, static names filled, later m= lines ignored', async (t) => {
  const a = parseSdpAudio(OFFER);
  t.ok(a);
  t.equal(a?.ip, '127.0.0.1');
  t.equal(a?.port, 4000);
  t.same(a?.payloads, [9, 8, 0, 101]);
  t.equal(a?.names.get(8), 'PCMA');
  t.equal(a?.names.get(101), 'TELEPHONE-EVENT');
  t.equal(a?.direction, 'sendonly');
  t.equal(parseSdpAudio('v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 96\r\n'), undefined, 'no audio');
  t.equal(parseSdpAudio('v=0\r\nm=audio 1 RTP/AVP 0\r\n'), undefined, 'no c=');
  t.equal(parseSdpAudio('garbage'), undefined);
  // Every prefix of the offer parses or is rejected without throwing.
  for (let i = 0; i <= OFFER.length; i++) parseSdpAudio(OFFER.slice(0, i));
});

t.test('negotiate: the remote order decides (generous), telephone-event kept, no common codec → undefined', async (t) => {
  const a = parseSdpAudio(OFFER);
  if (!a) throw new Error('parse');
  t.same(negotiate(a), { codec: 'PCMA', pt: 8, dtmfPt: 101 });
  const g722 = parseSdpAudio('v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 9\r\n');
  t.equal(g722 && negotiate(g722), undefined);
  const sdp = buildAnswerSdp({ sessionId: 100, version: 101, ip: '127.0.0.1' }, 30000, { codec: 'PCMU', pt: 0, dtmfPt: undefined });
  t.equal(sdp, 'v=0\r\no=FreeSWITCH 100 101 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
    + 'm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n');
  const offer = parseSdpAudio(buildOfferSdp({ sessionId: 1, version: 2, ip: '127.0.0.1' }, 31000));
  t.same(offer?.payloads, [0, 8, 101]);
});

t.test('RTP: header fields round trip; CSRC, extension and padding skipped; short or non-v2 rejected', async (t) => {
  const p = { payloadType: 8, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payload: Buffer.alloc(160, 0xd5) };
  const b = buildRtp(p);
  t.equal(b.length, 172);
  t.equal(b[0], 0x80);
  t.same(parseRtp(b), p);
  for (let i = 0; i < 12; i++) t.equal(parseRtp(b.subarray(0, i)), undefined, `truncated at ${i}`);
  const fancy = Buffer.concat([
    Buffer.from([0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]), // V2, padding, extension, 1 CSRC
    Buffer.from([0, 0, 0, 9]), // CSRC
    Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]), // extension, 1 word
    Buffer.from([7, 7, 7]), Buffer.from([0, 2]), // payload + 2 padding bytes
  ]);
  t.same(parseRtp(fancy)?.payload, Buffer.from([7, 7, 7]));
  const v1 = Buffer.from(b);
  v1[0] = 0x40;
  t.equal(parseRtp(v1), undefined);
});

t.test('RtpCallerSource: arrival order, silence when empty, bounded', async (t) => {
  const s = new RtpCallerSource(320);
  t.same([...s.read(4)], [0, 0, 0, 0]);
  s.push(Int16Array.from([1, 2, 3]));
  s.push(Int16Array.from([4, 5]));
  t.same([...s.read(4)], [1, 2, 3, 4]);
  t.same([...s.read(3)], [5, 0, 0]);
  for (let i = 0; i < 5; i++) s.push(new Int16Array(160).fill(i));
  t.equal(s.dropped, 480);
  t.equal(s.read(160)[0], 3);
});

t.test('hang-up causes map to sofia statuses', async (t) => {
  t.equal(causeToSipStatus('CALL_REJECTED'), 603);
  t.equal(causeToSipStatus('USER_BUSY'), 486);
  t.equal(causeToSipStatus('ORIGINATOR_CANCEL'), 487);
  t.equal(causeToSipStatus('NORMAL_CLEARING'), 480);
});
