import fc from 'fast-check';
import t from 'tap';
import { ExotelAdapter } from '../../../src/bots/exotel/exotel-adapter.js';
import { exotelCallSid, exotelStreamSid } from '../../../src/bots/sids.js';
import { callInfo } from './helpers.js';

function ramp(n: number, start = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = ((start + i) * 977) % 65536 - 32768;
  return a;
}
function le(pcm: Int16Array): Buffer {
  const b = Buffer.alloc(pcm.length * 2);
  pcm.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return b;
}

t.test('open: connected (event only) then snake_case start', async (t) => {
  const a = new ExotelAdapter();
  const [connected, start] = a.open(callInfo());
  t.equal(connected, '{"event":"connected"}');
  const sid = exotelStreamSid('call-1');
  t.match(sid, /^[0-9a-f]{32}$/);
  t.same(JSON.parse(start as string), {
    event: 'start',
    sequence_number: '1',
    stream_sid: sid,
    start: {
      stream_sid: sid,
      call_sid: exotelCallSid('call-1'),
      account_sid: 'AC' + '0'.repeat(32),
      from: '+15551230001',
      to: '+15551230002',
      custom_parameters: { lang: 'en', tier: 'gold' },
      media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' },
    },
  });
  t.same(a.open(callInfo()), []);
  const a16 = new ExotelAdapter({ sampleRateHz: 16000 });
  t.equal(JSON.parse(a16.open(callInfo())[1] as string).start.media_format.sample_rate, '16000');
  t.equal(a16.sampleRateHz, 16000);
});

t.test('media: 20 ms frames aggregate into 3200-byte payloads, exact snake_case JSON', async (t) => {
  const a = new ExotelAdapter();
  a.open(callInfo());
  const sent: Int16Array[] = [];
  const out: string[] = [];
  for (let i = 0; i < 20; i++) {
    const f = ramp(160, i * 160);
    sent.push(f);
    const m = a.audio(f);
    if (i % 10 !== 9) t.equal(m, null, `frame ${i} pending`);
    else out.push(m as string);
  }
  t.equal(out.length, 2);
  const all = le(Int16Array.from(sent.flatMap((f) => [...f])));
  t.equal(out[0], JSON.stringify({
    event: 'media', sequence_number: '2', stream_sid: a.sid,
    media: { chunk: '1', timestamp: '0', payload: all.subarray(0, 3200).toString('base64') },
  }));
  const m2 = JSON.parse(out[1]);
  t.same(m2.media, { chunk: '2', timestamp: '200', payload: all.subarray(3200, 6400).toString('base64') });
  t.equal(m2.sequence_number, '3');
});

t.test('16 kHz: 3200 bytes = 100 ms; timestamps follow', async (t) => {
  const a = new ExotelAdapter({ sampleRateHz: 16000 });
  a.open(callInfo());
  const msgs: string[] = [];
  for (let i = 0; i < 10; i++) {
    const m = a.audio(ramp(320, i * 320));
    if (m) msgs.push(m);
  }
  t.same(msgs.map((m) => JSON.parse(m).media.timestamp), ['0', '100']);
  t.same(msgs.map((m) => Buffer.from(JSON.parse(m).media.payload, 'base64').length), [3200, 3200]);
});

t.test('chunk rules hold for any frame sizes (fast-check): multiples of 320, ≥ chunkBytes, bytes in order', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 60 }),
    fc.constantFrom(3200, 3520, 6400),
    (sizes, chunkBytes) => {
      const a = new ExotelAdapter({ chunkBytes });
      a.open(callInfo());
      const input: Buffer[] = [];
      const emitted: Buffer[] = [];
      let pos = 0;
      for (const n of sizes) {
        const f = ramp(n, pos);
        pos += n;
        input.push(le(f));
        const m = a.audio(f);
        if (m !== null) {
          const p = Buffer.from(JSON.parse(m).media.payload, 'base64');
          if (p.length % 320 !== 0 || p.length < chunkBytes || p.length > 102400) return false;
          emitted.push(p);
        }
        const inBytes = input.reduce((s, b) => s + b.length, 0);
        const outBytes = emitted.reduce((s, b) => s + b.length, 0);
        if (inBytes - outBytes >= chunkBytes) return false;
      }
      const inAll = Buffer.concat(input);
      const outAll = Buffer.concat(emitted);
      return inAll.subarray(0, outAll.length).equals(outAll);
    },
  ), { numRuns: 200 });
  t.pass('property held');
});

t.test('chunkBytes and sampleRateHz are validated', async (t) => {
  t.throws(() => new ExotelAdapter({ chunkBytes: 3000 }), RangeError);
  t.throws(() => new ExotelAdapter({ chunkBytes: 2880 }), RangeError, 'below 3.2 KB');
  t.throws(() => new ExotelAdapter({ chunkBytes: 102400 + 320 }), RangeError);
  t.throws(() => new ExotelAdapter({ sampleRateHz: 24000 as 8000 }), RangeError);
  t.doesNotThrow(() => new ExotelAdapter({ chunkBytes: 3520 }));
});

t.test('dtmf, mark, stop in snake_case; sequence numbers shared', async (t) => {
  const a = new ExotelAdapter();
  a.open(callInfo());
  t.same(JSON.parse(a.dtmf('7') as string), { event: 'dtmf', sequence_number: '2', stream_sid: a.sid, dtmf: { digit: '7', duration: '250' } });
  t.same(JSON.parse(a.dtmf('#', 120) as string).dtmf, { digit: '#', duration: '120' });
  t.same(JSON.parse(a.markPlayed('m') as string), { event: 'mark', sequence_number: '4', stream_sid: a.sid, mark: { name: 'm' } });
  t.same(JSON.parse(a.stop('callended') as string), {
    event: 'stop', sequence_number: '5', stream_sid: a.sid,
    stop: { call_sid: exotelCallSid('call-1'), account_sid: 'AC' + '0'.repeat(32), reason: 'callended' },
  });
  t.equal(a.stop('stopped'), null);
  t.equal(a.audio(ramp(1600)), null);
});

t.test('receive media: base64 L16 → pcm, both casings of ids accepted', async (t) => {
  const a = new ExotelAdapter();
  const pcm = ramp(1600);
  const payload = le(pcm).toString('base64');
  for (const msg of [
    { event: 'media', stream_sid: 'abc', sequence_number: '3', media: { payload } },
    { event: 'media', streamSid: 'abc', sequenceNumber: '3', media: { payload, chunk: '1', timestamp: '0', sequenceNumber: '1' } },
    { event: 'media', media: { payload } },
  ]) {
    const cmds = a.receive(Buffer.from(JSON.stringify(msg)), false);
    t.equal(cmds.length, 1);
    const c = cmds[0];
    if (c.kind !== 'audio') throw new Error(`expected audio, got ${JSON.stringify(c)}`);
    t.equal(c.sampleRateHz, 8000);
    t.same([...c.pcm], [...pcm]);
  }
  const a16 = new ExotelAdapter({ sampleRateHz: 16000 });
  const c16 = a16.receive(Buffer.from(JSON.stringify({ event: 'media', media: { payload } })), false)[0];
  t.equal(c16.kind === 'audio' && c16.sampleRateHz, 16000);
});

t.test('receive: mark (both casings), clear, odd L16 length, unsupported and binary', async (t) => {
  const a = new ExotelAdapter();
  t.same(a.receive(Buffer.from('{"event":"mark","stream_sid":"x","mark":{"name":"a"}}'), false), [{ kind: 'mark', name: 'a' }]);
  t.same(a.receive(Buffer.from('{"event":"mark","streamSid":"x","mark":{"name":"b"}}'), false), [{ kind: 'mark', name: 'b' }]);
  t.same(a.receive(Buffer.from('{"event":"clear","stream_sid":"x"}'), false), [{ kind: 'clear' }]);
  t.same(a.receive(Buffer.from('{"event":"clear","streamSid":"x"}'), false), [{ kind: 'clear' }]);
  t.same(a.receive(Buffer.from('{"event":"media","media":{"payload":"AAAA"}}'), false), [{ kind: 'error', code: 'BOT_BAD_AUDIO_LENGTH', detail: 'media.payload' }]);
  t.same(a.receive(Buffer.from('{"event":"dtmf","dtmf":{"digit":"1"}}'), false), [{ kind: 'ignored', code: 'BOT_UNSUPPORTED_EVENT' }]);
  t.same(a.receive(Buffer.from([0, 0]), true), [{ kind: 'ignored', code: 'BOT_BINARY_IGNORED' }]);
});
