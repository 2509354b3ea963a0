import t from 'tap';
import { encodeFrame, FrameDecoder } from '../../../../src/sim/drachtio/framing.js';

t.test('frames split at every byte offset decode the same', async (t) => {
  const payloads = ['abc|authenticate|cymru|', 'x|sip||\r\nOPTIONS sip:a SIP/2.0\r\n\r\n', 'emoji 😀 ü|route|invite'];
  const wire = Buffer.concat(payloads.map(encodeFrame));
  t.equal(encodeFrame('😀').toString('latin1').split('#')[0], '4', 'length counts UTF-8 bytes');
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder();
    const a = d.push(wire.subarray(0, cut));
    const b = d.push(wire.subarray(cut));
    t.same([...a.payloads, ...b.payloads], payloads);
    t.equal(a.error ?? b.error, undefined);
  }
  // one byte at a time
  const d = new FrameDecoder();
  const out: string[] = [];
  for (const byte of wire) out.push(...d.push(Buffer.from([byte])).payloads);
  t.same(out, payloads);
});

t.test('bad prefixes fail', async (t) => {
  t.equal(new FrameDecoder().push(Buffer.from('123456#x')).error, 'SIP_SIM_BAD_FRAME');
  t.equal(new FrameDecoder().push(Buffer.from('123456')).error, 'SIP_SIM_BAD_FRAME');
  t.equal(new FrameDecoder().push(Buffer.from('12a#x')).error, 'SIP_SIM_BAD_FRAME');
  t.equal(new FrameDecoder().push(Buffer.from('#x')).error, 'SIP_SIM_BAD_FRAME');
  t.equal(new FrameDecoder().push(Buffer.from('#x')).stall, true, 'an empty prefix stalls the connection (drachtio-server stops reading)');
  t.equal(new FrameDecoder().push(Buffer.from('1x#a')).stall, undefined, 'other bad prefixes close it');
  const d = new FrameDecoder();
  const r = d.push(Buffer.from('1#a2x#'));
  t.same(r.payloads, ['a']);
  t.equal(r.error, 'SIP_SIM_BAD_FRAME');
  t.same(d.push(Buffer.from('1#b')).payloads, [], 'nothing after an error');
  t.equal(new FrameDecoder().push(Buffer.from('12345')).error, undefined, '5 digits still pending');
});

t.test('zero-length frames are skipped, split anywhere', async (t) => {
  const wire = Buffer.from('0#2#ab0#1#c');
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder();
    const a = d.push(wire.subarray(0, cut));
    const b = d.push(wire.subarray(cut));
    t.same([...a.payloads, ...b.payloads], ['ab', 'c']);
    t.equal(a.error ?? b.error, undefined);
  }
});
