import t from 'tap';
import { readFileSync } from 'node:fs';
import { encodeClientFrame, encodeClosePayload, ServerFrameParser, type ServerFrame } from '../../../../src/sim/freeswitch/audio-stream/ws-frame.js';
import { CAPTURES } from '../../../helpers/fixtures.js';

const FIX = CAPTURES + '/audio-stream/raw';

// Minimal decoder of the captured client frames (masked), used only to re-encode them.
function splitClientFrames(b: Buffer): Array<{ opcode: number; mask: Buffer; payload: Buffer; raw: Buffer }> {
  const out = [];
  let o = 0;
  while (o < b.length) {
    const start = o;
    const opcode = b[o]! & 0x0f;
    let len = b[o + 1]! & 0x7f;
    o += 2;
    if (len === 126) { len = b.readUInt16BE(o); o += 2; } else if (len === 127) { len = Number(b.readBigUInt64BE(o)); o += 8; }
    const mask = b.subarray(o, o + 4); o += 4;
    const payload = Buffer.from(b.subarray(o, o + len)); o += len;
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
    out.push({ opcode, mask: Buffer.from(mask), payload, raw: b.subarray(start, o) });
  }
  return out;
}

for (const [file, hs] of [['client-bytes-with-metadata.bin', 185], ['client-bytes-noclose.bin', 189]] as const) {
  t.test(`re-encoding ${file} with the captured masks gives the same bytes`, async (t) => {
    const b = readFileSync(`${FIX}/${file}`);
    const frames = splitClientFrames(b.subarray(hs));
    t.ok(frames.length >= 12);
    for (const f of frames) t.ok(encodeClientFrame(f.opcode, f.payload, f.mask).equals(f.raw));
    const last = frames[frames.length - 1]!;
    t.equal(last.opcode, 8);
    if (file === 'client-bytes-with-metadata.bin') {
      t.equal(frames[0]!.payload.toString(), '{"hello":"raw"}');
      t.ok(last.payload.equals(encodeClosePayload(1000, 'bye'))); // the module echoes the server's close
      t.equal(frames.filter((f) => f.opcode === 2 && f.payload.length === 320).length, 11);
    }
  });
}

t.test('binary 320-byte frame header is 82 fe 01 40 + mask', async (t) => {
  const f = encodeClientFrame(2, new Uint8Array(320), Buffer.from([1, 2, 3, 4]));
  t.same([...f.subarray(0, 8)], [0x82, 0xfe, 0x01, 0x40, 1, 2, 3, 4]);
  t.equal(f.length, 328);
  const big = encodeClientFrame(2, new Uint8Array(70000), Buffer.from([0, 0, 0, 0]));
  t.equal(big[1], 0xff);
  t.equal(Number(big.readBigUInt64BE(2)), 70000);
});

function serverFrame(first: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([first, len]) : Buffer.from([first, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

t.test('server frame parser: same result at every split offset', async (t) => {
  const stream = Buffer.concat([
    serverFrame(0x81, Buffer.from('{"type":"hello"}')),
    serverFrame(0x01, Buffer.from('frag-')),        // text, not final
    serverFrame(0x89, Buffer.from('p')),            // ping between fragments
    serverFrame(0x80, Buffer.from('mented é')),     // continuation, final
    serverFrame(0x82, Buffer.alloc(300, 7)),         // binary with 16-bit length
    serverFrame(0x8a, Buffer.alloc(0)),              // pong
    serverFrame(0x88, encodeClosePayload(4000, 'custom reason')),
  ]);
  const expected: ServerFrame[] = [
    { type: 'text', data: Buffer.from('{"type":"hello"}') },
    { type: 'ping', data: Buffer.from('p') },
    { type: 'text', data: Buffer.from('frag-mented é') },
    { type: 'binary', data: Buffer.alloc(300, 7) },
    { type: 'pong', data: Buffer.alloc(0) },
    { type: 'close', code: 4000, reason: 'custom reason' },
  ];
  for (let i = 0; i <= stream.length; i++) {
    const p = new ServerFrameParser();
    const a = p.push(stream.subarray(0, i));
    const b = p.push(stream.subarray(i));
    t.notOk(a.error); t.notOk(b.error);
    t.same([...a.frames, ...b.frames], expected, `split at ${i}`);
  }
  // byte by byte
  const p = new ServerFrameParser();
  const got: ServerFrame[] = [];
  for (const byte of stream) got.push(...p.push(Buffer.from([byte])).frames);
  t.same(got, expected);
});

t.test('server frame parser errors', async (t) => {
  t.equal(new ServerFrameParser().push(Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x41])).error?.errorCode, 3); // masked
  t.equal(new ServerFrameParser().push(Buffer.from([0xc1, 0x00])).error?.closeCode, 1002); // RSV1
  t.equal(new ServerFrameParser().push(Buffer.from([0x80, 0x00])).error?.closeCode, 1002); // stray continuation
  t.equal(new ServerFrameParser(10).push(Buffer.from([0x82, 0x0b])).error?.closeCode, 1009);
  t.same(new ServerFrameParser().push(Buffer.from([0x88, 0x00])).frames, [{ type: 'close', code: 1005, reason: '' }]);
  const p = new ServerFrameParser();
  t.ok(p.push(Buffer.from([0x83, 0x00])).error);
  t.ok(p.push(Buffer.from([0x81, 0x00])).error, 'stays failed');
});
