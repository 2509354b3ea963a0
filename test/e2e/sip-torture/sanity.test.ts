// The pure checks behind the twins' handling of malformed SIP (src/sim/drachtio/sip-sanity.ts):
// well-formed messages the twins meet every day are accepted; each torture message gets the
// verdict sofia-sip gives; a negative Content-Length breaks TCP framing at every split offset.
import t from 'tap';
import { checkSip } from '../../../src/sim/drachtio/sip-sanity.js';
import { SipStreamSplitter } from '../../../src/sim/drachtio/sip-message.js';
import { tortureMessages, validOptions } from './messages.js';

const crlf = (lines: string[], body = ''): string => lines.join('\r\n') + '\r\n\r\n' + body;

t.test('well-formed messages are accepted', async (t) => {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
  const ok: [string, string][] = [
    ['sipp-style INVITE', crlf([
      'INVITE sip:+15551234@127.0.0.1:5060;user=phone SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1-0',
      'From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag001', 'To: <sip:+15551234@127.0.0.1:5060>', 'Call-ID: 1-123@127.0.0.1',
      'CSeq: 1 INVITE', 'Contact: sip:sipp@127.0.0.1:5061', 'Max-Forwards: 70', 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`,
    ], sdp)],
    ['compact headers, quoted display name with an escaped quote, tel URI', crlf([
      'MESSAGE tel:+15551234 SIP/2.0', 'v: SIP/2.0/TCP [::1]:5060;branch=z9hG4bKx;rport', 'f: "Al \\"Bo\\"" <sip:al@example.org>;tag=9',
      't: <tel:+15551234>', 'i: abc@def', 'CSeq: 2 MESSAGE', 'l: 0',
    ])],
    ['REGISTER with Contact params and a quoted +sip.instance', crlf([
      'REGISTER sip:example.org SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr1, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKr0;received=10.0.0.2',
      'From: <sip:u@example.org>;tag=a', 'To: <sip:u@example.org>', 'Call-ID: r1', 'CSeq: 3 REGISTER',
      'Contact: <sip:u@127.0.0.1:5062>;expires=60;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";methods="INVITE, BYE"',
      'Expires: 60', 'Content-Length: 0',
    ])],
    ['unregister-all Contact: *', crlf([
      'REGISTER sip:example.org SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr2', 'From: <sip:u@example.org>;tag=a',
      'To: <sip:u@example.org>', 'Call-ID: r2', 'CSeq: 4 REGISTER', 'Contact: *', 'Expires: 0', 'Content-Length: 0',
    ])],
    ['response without a reason phrase', crlf([
      'SIP/2.0 200', 'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr2;received=127.0.0.1;rport=5062', 'From: <sip:u@example.org>;tag=a',
      'To: <sip:u@example.org>;tag=b', 'Call-ID: r2', 'CSeq: 4 REGISTER', 'Content-Length: 0',
    ])],
  ];
  for (const [name, text] of ok) t.same(checkSip(text, false), { action: 'accept' }, name);
  t.same(checkSip(validOptions({ targetPort: 5060, localPort: 5061, transport: 'UDP' }).text, false), { action: 'accept' }, 'the probe OPTIONS');
});

t.test('each torture message gets its verdict', async (t) => {
  for (const m of tortureMessages({ targetPort: 5060, localPort: 5061, transport: 'UDP' })) {
    const v = checkSip(m.text, false);
    if (m.expect === 'drop') t.equal(v.action, 'drop', m.id);
    else t.equal(v.action === 'reply' ? v.status : v.action, m.expect, m.id);
  }
  const ack = tortureMessages({ targetPort: 5060, localPort: 5061, transport: 'UDP' }).find((m) => m.id === 'cseq-method-mismatch');
  t.equal(checkSip(ack!.text.replace(/^INVITE/, 'ACK').replace('CSeq: 1 OPTIONS', 'CSeq: 1 ACK').replace('Call-ID', 'Call-ID: x\r\nCall-ID'), false).action, 'drop', 'a malformed ACK is never answered');
  t.equal(checkSip('SIP/2.0 4294967301 Huge\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa\r\n\r\n', false).action, 'drop', 'a response with an overlarge code is dropped');
  t.equal(checkSip('hello world\r\n\r\n', false).action, 'drop', 'not SIP at all');
  const cl = tortureMessages({ targetPort: 5060, localPort: 5061, transport: 'TCP' }).find((m) => m.id === 'cl-too-large');
  t.equal(checkSip(cl!.text, true).action, 'accept', 'over TCP a short body is the stream\'s business (the splitter waits for it)');
});

t.test('negative Content-Length over a stream: framing error at every split offset', async (t) => {
  const good = validOptions({ targetPort: 5060, localPort: 5061, transport: 'TCP' }).text;
  const bad = tortureMessages({ targetPort: 5060, localPort: 5061, transport: 'TCP' }).find((m) => m.id === 'cl-negative')!.text;
  const bytes = Buffer.from(good + bad + good);
  for (let i = 0; i <= bytes.length; i++) {
    const s = new SipStreamSplitter();
    const a = s.push(bytes.subarray(0, i));
    const b = s.push(bytes.subarray(i));
    const messages = [...a.messages, ...b.messages];
    if (messages.length !== 2 || messages[0] !== good || !messages[1].startsWith('INVITE') || !(a.framingError || b.framingError)) {
      t.fail(`split at ${i}: ${messages.length} messages, framingError ${a.framingError}/${b.framingError}`);
      return;
    }
    if (s.push(Buffer.from(good)).messages.length !== 0) { t.fail(`split at ${i}: stream usable after a framing error`); return; }
  }
  t.pass(`all ${bytes.length + 1} split offsets`);
});
