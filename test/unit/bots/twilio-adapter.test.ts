import t from 'tap';
import { TwilioAdapter } from '../../../src/bots/twilio/twilio-adapter.js';
import { twilioCallSid, twilioStreamSid } from '../../../src/bots/sids.js';
import { ulawDecode, ulawEncode } from '../../../src/media/g711.js';
import { callInfo } from './helpers.js';

function ramp(n: number, start = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = ((start + i) * 977) % 65536 - 32768;
  return a;
}

t.test('open: connected then start, Twilio field names and values', async (t) => {
  const a = new TwilioAdapter();
  const msgs = a.open(callInfo());
  t.equal(msgs.length, 2);
  t.equal(msgs[0], '{"event":"connected","protocol":"Call","version":"1.0.0"}');
  const start = JSON.parse(msgs[1] as string);
  const sid = twilioStreamSid('call-1');
  t.match(sid, /^MZ[0-9a-f]{32}$/);
  t.match(twilioCallSid('call-1'), /^CA[0-9a-f]{32}$/);
  t.same(start, {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: 'AC' + '0'.repeat(32),
      streamSid: sid,
      callSid: twilioCallSid('call-1'),
      tracks: ['inbound'],
      customParameters: { lang: 'en', tier: 'gold', from_number: '+15551230001', to_number: '+15551230002' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
    streamSid: sid,
  });
  t.equal(a.sid, sid);
  t.same(a.open(callInfo()), [], 'second open sends nothing');
});

t.test('sids are deterministic per call and distinct per call and per attempt', async (t) => {
  t.equal(twilioCallSid('a'), twilioCallSid('a'));
  t.not(twilioCallSid('a'), twilioCallSid('b'));
  t.not(twilioStreamSid('a'), twilioStreamSid('a', 1));
  const again = new TwilioAdapter({ attempt: 1 });
  const start = JSON.parse(again.open(callInfo())[1] as string);
  t.equal(start.start.callSid, twilioCallSid('call-1'), 'reconnect keeps the callSid');
  t.equal(start.streamSid, twilioStreamSid('call-1', 1));
});

t.test('media: exact Twilio JSON, counters as strings, payload is μ-law of the frame', async (t) => {
  const a = new TwilioAdapter();
  a.open(callInfo());
  const sid = a.sid;
  const frames = [ramp(160), ramp(160, 160), ramp(80, 320), ramp(320, 400)];
  const out = frames.map((f) => a.audio(f));
  let ts = 0;
  frames.forEach((f, i) => {
    const ulaw = new Uint8Array(f.length);
    ulawEncode(f, ulaw);
    const expected = JSON.stringify({
      event: 'media', sequenceNumber: String(i + 2),
      media: { track: 'inbound', chunk: String(i + 1), timestamp: String(ts), payload: Buffer.from(ulaw).toString('base64') },
      streamSid: sid,
    });
    t.equal(out[i], expected, `frame ${i}`);
    ts += f.length / 8;
  });
  t.equal(JSON.parse(out[3] as string).media.timestamp, '50', '160+160+80 samples = 50 ms');
});

t.test('sequenceNumber counts every message but connected; chunk counts media only', async (t) => {
  const a = new TwilioAdapter();
  a.open(callInfo());
  const m1 = JSON.parse(a.audio(ramp(160)) as string);
  const d = JSON.parse(a.dtmf('5') as string);
  const mk = JSON.parse(a.markPlayed('greeting-1') as string);
  const m2 = JSON.parse(a.audio(ramp(160)) as string);
  const s = JSON.parse(a.stop('callended') as string);
  t.same([m1.sequenceNumber, d.sequenceNumber, mk.sequenceNumber, m2.sequenceNumber, s.sequenceNumber], ['2', '3', '4', '5', '6']);
  t.same([m1.media.chunk, m2.media.chunk], ['1', '2']);
  t.same(d, { event: 'dtmf', streamSid: a.sid, sequenceNumber: '3', dtmf: { track: 'inbound_track', digit: '5' } });
  t.same(mk, { event: 'mark', sequenceNumber: '4', streamSid: a.sid, mark: { name: 'greeting-1' } });
  t.same(s, { event: 'stop', sequenceNumber: '6', streamSid: a.sid, stop: { accountSid: 'AC' + '0'.repeat(32), callSid: twilioCallSid('call-1') } });
});

t.test('nothing is produced before open, after stop, or for an empty frame', async (t) => {
  const a = new TwilioAdapter();
  t.equal(a.audio(ramp(160)), null);
  t.equal(a.dtmf('1'), null);
  t.equal(a.markPlayed('x'), null);
  t.equal(a.stop('stopped'), null);
  a.open(callInfo());
  t.equal(a.audio(new Int16Array(0)), null);
  t.not(a.stop('stopped'), null);
  t.equal(a.stop('stopped'), null, 'stop once');
  t.equal(a.audio(ramp(160)), null);
  t.equal(a.dtmf('1'), null);
  t.equal(a.markPlayed('x'), null);
});

t.test('a frame longer than the reused buffer is encoded whole; earlier strings are unaffected', async (t) => {
  const a = new TwilioAdapter();
  a.open(callInfo());
  const first = a.audio(ramp(160)) as string;
  const big = a.audio(ramp(4000)) as string;
  t.equal(Buffer.from(JSON.parse(big).media.payload, 'base64').length, 4000);
  const ulaw = new Uint8Array(160);
  ulawEncode(ramp(160), ulaw);
  t.same([...Buffer.from(JSON.parse(first).media.payload, 'base64')], [...ulaw], 'first message unchanged');
});

t.test('receive media: base64 μ-law → pcm; round trip through our own media message', async (t) => {
  const a = new TwilioAdapter();
  a.open(callInfo());
  const pcm = ramp(160);
  const ours = JSON.parse(a.audio(pcm) as string);
  const botMsg = JSON.stringify({ event: 'media', streamSid: ours.streamSid, media: { payload: ours.media.payload } });
  const cmds = a.receive(Buffer.from(botMsg), false);
  t.equal(cmds.length, 1);
  const c = cmds[0];
  if (c.kind !== 'audio') throw new Error('expected audio');
  t.equal(c.sampleRateHz, 8000);
  const ulaw = new Uint8Array(160);
  ulawEncode(pcm, ulaw);
  const expected = new Int16Array(160);
  ulawDecode(ulaw, expected);
  t.same([...c.pcm], [...expected]);
});

t.test('receive media: every μ-law code decodes as G.711 says; any payload length', async (t) => {
  const a = new TwilioAdapter();
  const codes = new Uint8Array(256).map((_, i) => i);
  const expected = new Int16Array(256);
  ulawDecode(codes, expected);
  const cmds = a.receive(Buffer.from(`{"event":"media","media":{"payload":"${Buffer.from(codes).toString('base64')}"}}`), false);
  t.equal(cmds[0].kind, 'audio');
  if (cmds[0].kind === 'audio') t.same([...cmds[0].pcm], [...expected]);
  const one = a.receive(Buffer.from('{"event":"media","media":{"payload":"/w=="}}'), false);
  t.equal(one[0].kind === 'audio' && one[0].pcm.length, 1);
  t.same(a.receive(Buffer.from('{"event":"media","media":{"payload":""}}'), false), [], 'empty payload: nothing to play');
  const unpadded = a.receive(Buffer.from('{"event":"media","media":{"payload":"/w"}}'), false);
  t.equal(unpadded[0].kind === 'audio' && unpadded[0].pcm.length, 1, 'unpadded base64 accepted');
});

t.test('decoded pcm is owned by the command (later messages do not overwrite it)', async (t) => {
  const a = new TwilioAdapter();
  const m = (b: number): Buffer => Buffer.from(`{"event":"media","media":{"payload":"${Buffer.alloc(160, b).toString('base64')}"}}`);
  const c1 = a.receive(m(0x00), false)[0];
  const c2 = a.receive(m(0xff), false)[0];
  if (c1.kind !== 'audio' || c2.kind !== 'audio') throw new Error('expected audio');
  t.not(c1.pcm[0], c2.pcm[0]);
  t.equal(c1.pcm[159], c1.pcm[0]);
});

t.test('receive mark and clear; streamSid is not required', async (t) => {
  const a = new TwilioAdapter();
  t.same(a.receive(Buffer.from('{"event":"mark","streamSid":"MZx","mark":{"name":"m1"}}'), false), [{ kind: 'mark', name: 'm1' }]);
  t.same(a.receive(Buffer.from('{"event":"mark","mark":{"name":""}}'), false), [{ kind: 'mark', name: '' }]);
  t.same(a.receive(Buffer.from('{"event":"clear","streamSid":"MZx"}'), false), [{ kind: 'clear' }]);
  t.same(a.receive(Buffer.from('{"event":"clear"}'), false), [{ kind: 'clear' }]);
});

t.test('receive: what Twilio does not support is ignored with a code', async (t) => {
  const a = new TwilioAdapter();
  t.same(a.receive(Buffer.from([1, 2, 3]), true), [{ kind: 'ignored', code: 'BOT_BINARY_IGNORED' }]);
  t.same(a.receive(Buffer.from('{"event":"media","media":{"payload":"AA=="}}'), true), [{ kind: 'ignored', code: 'BOT_BINARY_IGNORED' }]);
  t.same(a.receive(Buffer.from('{"event":"dtmf","dtmf":{"digit":"1"}}'), false), [{ kind: 'ignored', code: 'BOT_UNSUPPORTED_EVENT' }]);
  t.same(a.receive(Buffer.from('{"event":"hangup"}'), false), [{ kind: 'ignored', code: 'BOT_UNSUPPORTED_EVENT' }]);
  t.same(a.receive(Buffer.from('{"event":"dance"}'), false), [{ kind: 'ignored', code: 'BOT_UNKNOWN_EVENT' }]);
});
