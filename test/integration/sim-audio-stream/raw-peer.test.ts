import t from 'tap';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { ManualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { AudioStreamModule } from '../../../src/sim/freeswitch/audio-stream/module.js';
import { API_REPLY } from '../../../src/sim/freeswitch/audio-stream/api-command.js';
import { decodeClientFrames, FakePort, startRawServer, tempDir, until } from './helpers.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const UUID = '18477faa-f1f3-4e9f-b1c2-d9b31a5928e9';
const CAPTURE = readFileSync(CAPTURES + '/audio-stream/raw/handshake-request.bin', 'latin1');
const OK_101 = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: not-checked\r\n\r\n';

async function setup(t: { teardown(fn: () => unknown): void }, onSocket: (s: net.Socket, received: Buffer[]) => void, clock?: ManualClock) {
  const tmp = tempDir();
  const port = new FakePort(UUID, tmp.dir);
  const mod = new AudioStreamModule({ logger: silentLogger(), playback: 'file', clock });
  const received: Buffer[] = [];
  const raw = await startRawServer((s) => { s.on('data', (d) => received.push(d)); s.on('error', () => {}); onSocket(s, received); });
  t.teardown(async () => {
    await mod.close();
    for (const s of raw.sockets) s.destroy();
    await new Promise<void>((r) => raw.server.close(() => r()));
    tmp.remove();
  });
  const api = (args: string) => mod.api(args, (u) => (u === UUID ? port : undefined));
  return { port, mod, raw, api, received };
}

function requestOf(received: Buffer[]): { head: string; after: Buffer } | undefined {
  const all = Buffer.concat(received);
  const end = all.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  return { head: all.subarray(0, end + 4).toString('latin1'), after: all.subarray(end + 4) };
}

t.test('handshake bytes equal the capture apart from key, port and path; any 101 + Accept header is accepted', async (t) => {
  let answered = false;
  const { port, raw, api, received } = await setup(t, (s, rec) => {
    s.on('data', () => { if (!answered && requestOf(rec)) { answered = true; s.write(OK_101); } });
  });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/raw?x=1 mono 8k {"hello":"raw"}`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  const req = requestOf(received)!;
  const key = /Sec-WebSocket-Key:([A-Za-z0-9+/]{22}==)\r\n/.exec(req.head);
  t.ok(key, 'key is base64 of 16 bytes');
  t.equal(Buffer.from(key![1]!, 'base64').length, 16);
  const expected = CAPTURE.replace(/Sec-WebSocket-Key:[^\r]*/, `Sec-WebSocket-Key:${key![1]}`).replaceAll('127.0.0.1:8092', `127.0.0.1:${raw.port}`);
  t.equal(req.head, expected);
  // metadata text frame, then audio; then stop → CLOSE 1000 "Normal closure"
  port.feed(2);
  await until(() => decodeClientFrames(requestOf(received)!.after).frames.length >= 3, 'frames');
  const stopped = api(`${UUID} stop`);
  await until(() => decodeClientFrames(requestOf(received)!.after).frames.some((f) => f.opcode === 8), 'close frame');
  raw.sockets[0]!.destroy(); // peer drops TCP: stop returns
  t.equal(await stopped, API_REPLY.ok);
  const frames = decodeClientFrames(requestOf(received)!.after).frames;
  t.same(frames.map((f) => f.opcode), [1, 2, 2, 8]);
  t.equal(frames[0]!.payload.toString(), '{"hello":"raw"}');
  t.equal(frames[1]!.payload.length, 320);
  t.equal(frames[3]!.payload.readUInt16BE(0), 1000);
  t.equal(frames[3]!.payload.subarray(2).toString(), 'Normal closure');
});

t.test('invalid UTF-8 text from the server → close 1007 and ::error code 11, stream removed', async (t) => {
  let answered = false;
  const { port, raw, api, received } = await setup(t, (s, rec) => {
    s.on('data', () => {
      if (!answered && requestOf(rec)) { answered = true; s.write(OK_101); s.write(Buffer.from([0x81, 0x02, 0xc3, 0x28])); }
    });
  });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/u mono 8k`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::error').length === 1, 'error');
  const body = JSON.parse(port.customsOf('mod_audio_stream::error')[0]!) as { status: string; message: { code: number; error: string } };
  t.equal(body.status, 'error');
  t.equal(body.message.code, 11);
  t.same(port.log.slice(-2), ['custom:mod_audio_stream::error', 'event:MEDIA_BUG_STOP']);
  await until(() => decodeClientFrames(requestOf(received)!.after).frames.some((f) => f.opcode === 8), 'close 1007');
  const close = decodeClientFrames(requestOf(received)!.after).frames.find((f) => f.opcode === 8)!;
  t.equal(close.payload.readUInt16BE(0), 1007);
  t.same(port.customsOf('mod_audio_stream::connect'), ['{"status":"connected"}']);
  raw.sockets[0]!.destroy();
  t.equal(await api(`${UUID} stop`), API_REPLY.fail);
});

t.test('upgrade refused (HTTP 400) → ::error code 6 "WebSocket upgrade failed"', async (t) => {
  const { port, raw, api } = await setup(t, (s, rec) => {
    s.on('data', () => { if (requestOf(rec)) s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'); });
  });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/x mono 8k`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::error').length === 1, 'error');
  t.same(port.customsOf('mod_audio_stream::error'), ['{"status":"error","message":{"code":6,"error":"WebSocket upgrade failed"}}']);
});

t.test('EOF during the handshake → code 6; EOF after the upgrade → code 1', async (t) => {
  let n = 0;
  const { port, raw, api } = await setup(t, (s, rec) => {
    const mine = n++;
    s.on('data', () => {
      if (!requestOf(rec)) return;
      if (mine === 0) s.destroy();
      else { s.write(OK_101); setImmediate(() => s.destroy()); }
    });
  });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/a mono 8k`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::error').length === 1, 'error 1');
  t.same(port.customsOf('mod_audio_stream::error')[0], '{"status":"error","message":{"code":6,"error":"Connection closed during handshake (EOF)"}}');
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/b mono 8k`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::error').length === 2, 'error 2');
  t.same(port.customsOf('mod_audio_stream::error')[1], '{"status":"error","message":{"code":1,"error":"Connection closed without WebSocket CLOSE (abnormal EOF)"}}');
});

t.test('no answer to the upgrade → ::error code 10 when the connect deadline passes (manual clock)', async (t) => {
  const clock = new ManualClock();
  const { port, raw, api, received } = await setup(t, () => {}, clock);
  t.equal(await api(`${UUID} start ws://127.0.0.1:${raw.port}/slow mono 8k`), API_REPLY.ok);
  await until(() => requestOf(received) !== undefined, 'request');
  clock.advance(9_999);
  t.same(port.customsOf('mod_audio_stream::error'), []);
  clock.advance(1);
  t.same(port.customsOf('mod_audio_stream::error'), ['{"status":"error","message":{"code":10,"error":"Connection/handshake timeout"}}']);
});
