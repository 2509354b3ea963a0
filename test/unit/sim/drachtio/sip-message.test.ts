import t from 'tap';
import { parseSip, serializeSip, getHeader, tagOf, uriOf, uriTarget, viaBranch, SipStreamSplitter, capitalizeAfterDash, stampVia, viaSentBy } from '../../../../src/sim/drachtio/sip-message.js';

const INVITE = 'INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKabc;rport\r\nf: <sip:alice@x>;tag=123\r\nTo: <sip:bob@y>\r\ni: cid-1\r\nCSeq: 1 INVITE\r\nl: 3\r\n\r\nv=0';

t.test('parse and serialise', async (t) => {
  const m = parseSip(INVITE)!;
  t.equal(m.kind, 'request');
  t.equal(m.method, 'INVITE');
  t.equal(getHeader(m, 'via'), 'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKabc;rport');
  t.equal(getHeader(m, 'call-id'), 'cid-1');
  t.equal(tagOf(getHeader(m, 'from')), '123');
  t.equal(tagOf(getHeader(m, 'to')), undefined);
  t.equal(viaBranch(getHeader(m, 'v')), 'z9hG4bKabc');
  t.equal(m.body, 'v=0');
  t.equal(parseSip(serializeSip(m))!.body, 'v=0');
  const r = parseSip('SIP/2.0 180 Ringing\r\nCSeq: 7 INVITE\r\n\r\n')!;
  t.equal(r.status, 180);
  t.equal(r.method, 'INVITE');
  t.equal(parseSip('garbage\r\n\r\n'), undefined);
  t.equal(parseSip('OPTIONS sip:a SIP/2.0\r\nno colon\r\n\r\n'), undefined);
});

t.test('uri helpers', async (t) => {
  t.equal(uriOf('"A" <sip:a@b:5>;tag=1'), 'sip:a@b:5');
  t.same(uriTarget('sip:bob@127.0.0.1:5070;transport=TCP'), { host: '127.0.0.1', port: 5070, transport: 'tcp' });
  t.same(uriTarget('sip:[::1]'), { host: '::1', port: undefined, transport: undefined });
  t.equal(uriTarget('mailto:x'), undefined);
  t.equal(capitalizeAfterDash('x-my-header'), 'X-My-Header');
});

t.test('stream splitter at every offset', async (t) => {
  const wire = Buffer.from('\r\n\r\n' + INVITE + 'OPTIONS sip:a SIP/2.0\r\nCall-ID: 2\r\n\r\n');
  for (let cut = 0; cut <= wire.length; cut++) {
    const s = new SipStreamSplitter();
    const out = [...s.push(wire.subarray(0, cut)).messages, ...s.push(wire.subarray(cut)).messages];
    t.equal(out.length, 2);
    t.equal(out[0], INVITE);
  }
  t.equal(new SipStreamSplitter(10).push(Buffer.from('x'.repeat(20))).overflow, true);
});

t.test('stampVia: rport and received as sofia-sip sets them on a received request', async (t) => {
  // each case as drachtio-server v0.9.4-rc1 echoed it for a request sent from 127.0.0.1:60466
  const cases: Array<[string, string]> = [
    ['SIP/2.0/UDP 127.0.0.1:60466;rport;branch=z9hG4bKa1', 'SIP/2.0/UDP 127.0.0.1:60466;rport=60466;branch=z9hG4bKa1'],
    ['SIP/2.0/UDP 192.0.2.1:60466;branch=z9hG4bKa2', 'SIP/2.0/UDP 192.0.2.1:60466;branch=z9hG4bKa2;received=127.0.0.1;rport=60466'],
    ['SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKa3', 'SIP/2.0/UDP 192.0.2.1:5060;rport=60466;branch=z9hG4bKa3;received=127.0.0.1'],
    ['SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa5', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa5;rport=60466'],
    ['SIP/2.0/UDP 127.0.0.1:60466;rport=1234;branch=z9hG4bKa6', 'SIP/2.0/UDP 127.0.0.1:60466;rport=60466;branch=z9hG4bKa6'],
    ['SIP/2.0/UDP 127.0.0.1:60466;branch=z9hG4bKa7;received=1.2.3.4', 'SIP/2.0/UDP 127.0.0.1:60466;branch=z9hG4bKa7;rport=60466'],
    ['SIP/2.0/UDP 127.0.0.1:60466;branch=z9hG4bKa4, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx', 'SIP/2.0/UDP 127.0.0.1:60466;branch=z9hG4bKa4;rport=60466, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx'],
  ];
  for (const [via, want] of cases) t.equal(stampVia(via, '127.0.0.1', 60466), want);
  t.equal(viaSentBy('SIP/2.0/UDP 127.0.0.1:5060;branch=x'), '127.0.0.1:5060');
  t.equal(viaSentBy('SIP / 2.0 / TCP [::1];branch=x'), '[::1]');
  t.equal(viaSentBy(undefined), '');
});
