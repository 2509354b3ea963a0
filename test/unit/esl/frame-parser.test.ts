import t from 'tap';
import { readdirSync } from 'node:fs';
import { EslFrameParser, type EslFrame } from '../../../src/esl/frame-parser.js';
import { fixture, splitFrames } from './scripted-fs.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const canon = (frames: EslFrame[]): string =>
  JSON.stringify(frames.map((f) => [f.headerList, f.body.toString('base64')]));

function feedAll(parts: Buffer[]): { frames: EslFrame[]; error?: string; boundary: boolean } {
  const p = new EslFrameParser();
  const frames: EslFrame[] = [];
  let error: string | undefined;
  for (const part of parts) {
    const r = p.feed(part);
    frames.push(...r.frames);
    if (r.error) { error = r.error.code; break; }
  }
  return { frames, error, boundary: p.atFrameBoundary };
}

/** Frame-aligned prefix of at most `max` bytes. */
function prefix(buf: Buffer, max: number): Buffer {
  let len = 0;
  for (const f of splitFrames(buf)) { if (len + f.length > max) break; len += f.length; }
  return buf.subarray(0, len);
}

const STREAMS = [
  'esl/inbound-api-connection.raw', 'esl/inbound-event-plain.raw', 'esl/inbound-event-json-all.raw',
  'outbound-socket/loopback-plain-all-received.raw', 'outbound-socket/sofia-json-all-received.raw',
];

t.test('whole captured streams parse into exactly the captured frames', async (t) => {
  for (const name of STREAMS) {
    const buf = fixture(name);
    const expected = splitFrames(buf);
    const r = feedAll([buf]);
    t.equal(r.error, undefined, name);
    t.equal(r.frames.length, expected.length, `${name}: frame count`);
    t.ok(r.boundary, `${name}: ends at a frame boundary`);
    // Each frame's body is the bytes after its header block.
    r.frames.forEach((f, i) => {
      const raw = expected[i];
      if (!raw.subarray(raw.length - f.body.length).equals(f.body)) t.fail(`${name} #${i} body`);
    });
  }
  const counts = Object.fromEntries(STREAMS.map((n) => [n, splitFrames(fixture(n)).length]));
  t.same(counts, {
    'esl/inbound-api-connection.raw': 54, 'esl/inbound-event-plain.raw': 71, 'esl/inbound-event-json-all.raw': 295,
    'outbound-socket/loopback-plain-all-received.raw': 21, 'outbound-socket/sofia-json-all-received.raw': 22,
  }, 'frame counts match the fixture README');
});

t.test('split at every byte offset gives the same frames (frame-aligned prefixes, 12 KB)', async (t) => {
  for (const name of STREAMS) {
    const buf = prefix(fixture(name), 12_000);
    const want = canon(feedAll([buf]).frames);
    let bad = 0;
    for (let k = 0; k <= buf.length; k++) {
      if (canon(feedAll([buf.subarray(0, k), buf.subarray(k)]).frames) !== want) bad++;
    }
    t.equal(bad, 0, `${name}: ${buf.length + 1} two-chunk splits`);
  }
});

t.test('every single-event fixture, split at every byte offset', async (t) => {
  for (const dir of ['esl/events-json', 'esl/events-plain']) {
    for (const file of readdirSync(`${CAPTURES}/${dir}`)) {
      const buf = fixture(`${dir}/${file}`);
      const want = canon(feedAll([buf]).frames);
      let bad = 0;
      for (let k = 0; k <= buf.length; k++) if (canon(feedAll([buf.subarray(0, k), buf.subarray(k)]).frames) !== want) bad++;
      t.equal(bad, 0, `${dir}/${file}`);
    }
  }
});

t.test('whole streams in 1-byte and 3-byte chunks', async (t) => {
  for (const name of STREAMS) {
    const buf = fixture(name);
    const want = canon(feedAll([buf]).frames);
    for (const size of [1, 3]) {
      const parts: Buffer[] = [];
      for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
      t.equal(canon(feedAll(parts).frames), want, `${name} in ${size}-byte chunks`);
    }
  }
});

t.test('Content-Length over the limit is ESL_FRAME_TOO_LARGE, at any split', async (t) => {
  const bad = Buffer.from('Content-Length: 16777217\nContent-Type: text/event-json\n\n{');
  let n = 0;
  for (let k = 0; k <= bad.length; k++) if (feedAll([bad.subarray(0, k), bad.subarray(k)]).error === 'ESL_FRAME_TOO_LARGE') n++;
  t.equal(n, bad.length + 1, 'every split');
  t.equal(feedAll([Buffer.from('Content-Length: 16777216\nContent-Type: text/event-json\n\n')]).error, undefined, '16 MiB itself is allowed');
  const p = new EslFrameParser({ maxHeaderBytes: 100 });
  t.equal(p.feed(Buffer.from('Content-Type: x\n' + 'A: b\n'.repeat(40))).error?.code, 'ESL_FRAME_TOO_LARGE', 'endless header block');
  t.equal(p.feed(Buffer.from('Content-Type: auth/request\n\n')).error?.code, 'ESL_FRAME_TOO_LARGE', 'dead after an error');
});

t.test('garbage is ESL_BAD_FRAME', async (t) => {
  const cases = [
    '\x00\x01\x02garbage\n\n', 'HTTP/1.1 200 OK\nServer: x\n\n', 'Reply-Text: +OK\n\n',
    'Content-Type: command/reply\nContent-Length: -5\n\n', 'Content-Type: command/reply\nContent-Length: 12abc\n\n',
  ];
  for (const c of cases) {
    const buf = Buffer.from(c, 'latin1');
    let n = 0;
    for (let k = 0; k <= buf.length; k++) if (feedAll([buf.subarray(0, k), buf.subarray(k)]).error === 'ESL_BAD_FRAME') n++;
    t.equal(n, buf.length + 1, JSON.stringify(c));
  }
  const ok = feedAll([Buffer.from('Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\nContent-Disposition: linger\nChannel-Name: loopback/8084-b\nLinger-Time: -1\nContent-Length: 0\n\nContent-Type: auth/request\n\n')]);
  t.equal(ok.frames.length, 2, 'a Content-Length: 0 frame is kept (esl-lite drops it)');
});
