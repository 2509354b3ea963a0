import t from 'tap';
import { NativeAdapter } from '../../../src/bots/native/native-adapter.js';
import { ulawDecode, ulawEncode } from '../../../src/media/g711.js';
import { callInfo } from './helpers.js';

function ramp(n: number, start = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = ((start + i) * 977) % 65536 - 32768;
  return a;
}
const text = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

t.test('open: one start message with the format', async (t) => {
  const a = new NativeAdapter();
  const msgs = a.open(callInfo({ direction: 'outbound' }));
  t.equal(msgs.length, 1);
  t.same(JSON.parse(msgs[0] as string), {
    event: 'start', version: 1, callId: 'call-1', from: '+15551230001', to: '+15551230002', direction: 'outbound',
    params: { lang: 'en', tier: 'gold' }, format: { encoding: 'l16', sampleRateHz: 8000, frameMs: 20 },
  });
  t.notMatch(msgs[0] as string, /0b5a7c3e/, 'FreeSWITCH uuid is not disclosed');
  const m = new NativeAdapter({ encoding: 'mulaw' });
  t.same(JSON.parse(m.open(callInfo())[0] as string).format, { encoding: 'mulaw', sampleRateHz: 8000, frameMs: 20 });
  const w = new NativeAdapter({ sampleRateHz: 16000 });
  t.same(JSON.parse(w.open(callInfo())[0] as string).format, { encoding: 'l16', sampleRateHz: 16000, frameMs: 20 });
  t.same(w.open(callInfo()), []);
});

t.test('audio: binary L16 little-endian or μ-law, one frame per frame', async (t) => {
  const l16 = new NativeAdapter();
  l16.open(callInfo());
  const pcm = ramp(160);
  const b = l16.audio(pcm) as Buffer;
  t.ok(Buffer.isBuffer(b));
  t.equal(b.length, 320);
  t.same([...Array(160).keys()].map((i) => b.readInt16LE(i * 2)), [...pcm]);
  const again = l16.audio(ramp(160, 1)) as Buffer;
  t.equal(b.readInt16LE(0), pcm[0], 'an earlier frame is not overwritten');
  t.not(again.readInt16LE(0), pcm[0]);

  const mu = new NativeAdapter({ encoding: 'mulaw' });
  mu.open(callInfo());
  const expected = new Uint8Array(160);
  ulawEncode(pcm, expected);
  t.same([...(mu.audio(pcm) as Buffer)], [...expected]);
  t.equal(mu.audio(new Int16Array(0)), null);
});

t.test('dtmf, mark, stop from fsbridge', async (t) => {
  const a = new NativeAdapter();
  t.equal(a.dtmf('1'), null);
  a.open(callInfo());
  t.same(JSON.parse(a.dtmf('1') as string), { event: 'dtmf', digit: '1' });
  t.same(JSON.parse(a.dtmf('#', 250) as string), { event: 'dtmf', digit: '#', durationMs: 250 });
  t.same(JSON.parse(a.markPlayed('m-3') as string), { event: 'mark', name: 'm-3' });
  t.same(JSON.parse(a.stop('callended') as string), { event: 'stop', reason: 'callended' });
  t.equal(a.stop('stopped'), null);
  t.equal(a.audio(ramp(160)), null);
});

t.test('receive binary audio: L16 round trip, μ-law decode, odd length, empty, oversize', async (t) => {
  const a = new NativeAdapter();
  a.open(callInfo());
  const pcm = ramp(320);
  const cmds = a.receive(a.audio(pcm) as Buffer, true);
  t.equal(cmds[0].kind, 'audio');
  if (cmds[0].kind === 'audio') {
    t.same([...cmds[0].pcm], [...pcm]);
    t.equal(cmds[0].sampleRateHz, 8000);
  }
  t.same(a.receive(Buffer.alloc(3), true), [{ kind: 'error', code: 'BOT_BAD_AUDIO_LENGTH' }]);
  t.same(a.receive(Buffer.alloc(0), true), []);
  const small = new NativeAdapter({ maxMessageBytes: 1000 });
  t.same(small.receive(Buffer.alloc(1002), true), [{ kind: 'error', code: 'BOT_OVERSIZE' }]);

  const mu = new NativeAdapter({ encoding: 'mulaw' });
  const codes = Buffer.from([0, 0x7f, 0x80, 0xff, 0x55]);
  const expected = new Int16Array(5);
  ulawDecode(codes, expected);
  const c = mu.receive(codes, true)[0];
  t.same(c.kind === 'audio' ? [...c.pcm] : null, [...expected]);
  const w = new NativeAdapter({ sampleRateHz: 16000 });
  const c16 = w.receive(Buffer.alloc(640), true)[0];
  t.equal(c16.kind === 'audio' && c16.sampleRateHz, 16000);
});

t.test('receive control: mark, clear, dtmf, hangup, transfer', async (t) => {
  const a = new NativeAdapter();
  t.same(a.receive(text({ event: 'mark', name: 'x' }), false), [{ kind: 'mark', name: 'x' }]);
  t.same(a.receive(text({ event: 'clear' }), false), [{ kind: 'clear' }]);
  t.same(a.receive(text({ event: 'dtmf', digits: '12#*ad' }), false), [{ kind: 'dtmf', digits: '12#*AD' }]);
  t.same(a.receive(text({ event: 'hangup' }), false), [{ kind: 'hangup' }]);
  t.same(a.receive(text({ event: 'hangup', reason: 'done' }), false), [{ kind: 'hangup', reason: 'done' }]);
  t.same(a.receive(text({ event: 'transfer', target: '+15551230003' }), false), [{ kind: 'transfer', target: '+15551230003' }]);
  t.same(a.receive(text({ event: 'transfer', target: 'sip:agent@10.0.0.5:5060;transport=tcp' }), false),
    [{ kind: 'transfer', target: 'sip:agent@10.0.0.5:5060;transport=tcp' }]);
});

t.test('receive control: invalid values are refused with a field-level code', async (t) => {
  const a = new NativeAdapter();
  const cases: [unknown, string, string][] = [
    [{ event: 'mark' }, 'BOT_MISSING_FIELD', 'name'],
    [{ event: 'mark', name: 5 }, 'BOT_BAD_FIELD', 'name'],
    [{ event: 'mark', name: 'x'.repeat(1025) }, 'BOT_BAD_FIELD', 'name'],
    [{ event: 'dtmf' }, 'BOT_MISSING_FIELD', 'digits'],
    [{ event: 'dtmf', digits: '' }, 'BOT_BAD_FIELD', 'digits'],
    [{ event: 'dtmf', digits: '12x' }, 'BOT_BAD_FIELD', 'digits'],
    [{ event: 'dtmf', digits: ['1'] }, 'BOT_BAD_FIELD', 'digits'],
    [{ event: 'dtmf', digits: '1'.repeat(33) }, 'BOT_BAD_FIELD', 'digits'],
    [{ event: 'hangup', reason: 7 }, 'BOT_BAD_FIELD', 'reason'],
    [{ event: 'transfer' }, 'BOT_MISSING_FIELD', 'target'],
    [{ event: 'transfer', target: '1000 -bleg' }, 'BOT_BAD_FIELD', 'target'],
    [{ event: 'transfer', target: '-bleg' }, 'BOT_BAD_FIELD', 'target'],
    [{ event: 'transfer', target: '1000\nbgapi originate' }, 'BOT_BAD_FIELD', 'target'],
    [{ event: 'transfer', target: "x'y" }, 'BOT_BAD_FIELD', 'target'],
    [{ event: 'transfer', target: '' }, 'BOT_BAD_FIELD', 'target'],
  ];
  for (const [msg, code, detail] of cases) {
    t.same(a.receive(text(msg), false), [{ kind: 'error', code, detail }], JSON.stringify(msg));
  }
  t.same(a.receive(text({ event: 'media' }), false), [{ kind: 'ignored', code: 'BOT_UNKNOWN_EVENT' }]);
});

t.test('options are validated', async (t) => {
  t.throws(() => new NativeAdapter({ encoding: 'mulaw', sampleRateHz: 16000 }), RangeError);
  t.throws(() => new NativeAdapter({ sampleRateHz: 44100 as 8000 }), RangeError);
  t.throws(() => new NativeAdapter({ encoding: 'opus' as 'l16' }), RangeError);
});
