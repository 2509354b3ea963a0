// Per-connection limits of the frame parser: small until the outbound handshake is validated,
// the normal ones afterwards (issue 8).
import t from 'tap';
import { EslFrameParser } from '../../../src/esl/frame-parser.js';

const SMALL = { maxContentLengthBytes: 64 * 1024, maxHeaderBytes: 64 * 1024 };

function feedSplit(p: EslFrameParser, buf: Buffer, k: number) {
  const a = p.feed(buf.subarray(0, k));
  if (a.error) return { frames: a.frames.length, error: a.error.code, pending: p.pendingBytes };
  const b = p.feed(buf.subarray(k));
  return { frames: a.frames.length + b.frames.length, error: b.error?.code, pending: p.pendingBytes };
}

t.test('a Content-Length over the limit is refused with its header, before any body byte, at every split', async (t) => {
  const head = Buffer.from('Content-Type: command/reply\nContent-Length: 65537\n\n');
  const buf = Buffer.concat([head, Buffer.alloc(100, 0x61)]);
  for (let k = 0; k <= buf.length; k++) {
    const r = feedSplit(new EslFrameParser(SMALL), buf, k);
    if (r.error !== 'ESL_FRAME_TOO_LARGE' || r.frames !== 0 || r.pending !== 0) { t.fail(`split at ${k}: ${JSON.stringify(r)}`); return; }
  }
  t.pass('refused at every split, nothing held');
  const exact = Buffer.concat([Buffer.from('Content-Type: command/reply\nContent-Length: 65536\n\n'), Buffer.alloc(65536, 0x61)]);
  t.same(feedSplit(new EslFrameParser(SMALL), exact, 1000), { frames: 1, error: undefined, pending: 0 }, 'the limit itself is allowed');
});

t.test('setLimits applies to what is parsed afterwards', async (t) => {
  const big = Buffer.concat([Buffer.from('Content-Type: text/event-json\nContent-Length: 200000\n\n'), Buffer.alloc(200_000, 0x61)]);
  const reply = Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n');
  const p = new EslFrameParser(SMALL);
  t.equal(p.feed(reply).frames.length, 1);
  p.setLimits({});
  const r = p.feed(big);
  t.equal(r.error, undefined, 'the default limit (16 MiB) after the switch');
  t.equal(r.frames[0].body.length, 200_000);
  const q = new EslFrameParser(SMALL);
  t.equal(q.feed(big).error?.code, 'ESL_FRAME_TOO_LARGE', 'the same frame before the switch');
});

t.test('a header block over the small limit fails once the limit is passed, without waiting for its end', async (t) => {
  const p = new EslFrameParser(SMALL);
  let r = p.feed(Buffer.from('Content-Type: command/reply\n'));
  for (let i = 0; i < 100 && !r.error; i++) r = p.feed(Buffer.alloc(1024, 0x62));
  t.equal(r.error?.code, 'ESL_FRAME_TOO_LARGE');
  t.ok(p.pendingBytes === 0, 'nothing held after the error');
});
