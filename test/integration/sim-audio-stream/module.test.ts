import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { ManualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { AudioStreamModule, MEDIA_BUG_HEADERS } from '../../../src/sim/freeswitch/audio-stream/module.js';
import { API_REPLY } from '../../../src/sim/freeswitch/audio-stream/api-command.js';
import { FakePort, refusedPort, startWsServer, tempDir, until } from './helpers.js';

const UUID = '9e618bfe-e3e8-45c2-b09b-8378acf1019e';

type TestContext = { teardown(fn: () => unknown): void };

async function setup(t: TestContext, opts: { playback?: 'file' | 'stream'; metadataAfterFrames?: number; vars?: Record<string, string> } = {}) {
  const tmp = tempDir();
  const port = new FakePort(UUID, tmp.dir, opts.vars);
  const mod = new AudioStreamModule({ logger: silentLogger(), playback: opts.playback ?? 'file', metadataAfterFrames: opts.metadataAfterFrames });
  const srv = await startWsServer();
  t.teardown(async () => {
    await mod.close();
    for (const c of srv.conns) c.ws.terminate();
    await new Promise<void>((r) => srv.wss.close(() => r()));
    tmp.remove();
  });
  const lookup = (u: string) => (u === UUID ? port : undefined);
  const api = (args: string) => mod.api(args, lookup);
  return { port, mod, srv, api, tmp };
}

t.test('start: pre-answer, MEDIA_BUG_START, audio queued before the upgrade goes before metadata, then ::connect', async (t) => {
  const { port, srv, api } = await setup(t);
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/play?x=1 mono 8k {"meta":"start", "n":1}`), API_REPLY.ok);
  port.feed(3); // still CONNECTING: queued
  t.same(port.log.slice(0, 2), ['preAnswer', 'event:MEDIA_BUG_START']);
  t.same(port.events[0]!.headers, MEDIA_BUG_HEADERS);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  const c = srv.conns[0]!;
  await until(() => c.msgs.length >= 4, 'messages');
  t.same(c.msgs.map((m) => (m.binary ? m.data.length : m.data.toString())), [320, 320, 320, '{"meta":"start", "n":1}']);
  t.same(port.customsOf('mod_audio_stream::connect'), ['{"status":"connected"}']);
  t.equal(c.url, '/play?x=1');
  t.equal(c.headers['origin'], `http://127.0.0.1:${srv.port}`);
  t.equal(c.headers['sec-websocket-extensions'], undefined, 'no permessage-deflate offer');
  t.equal(c.ws.extensions, '');
  // a second start while attached fails
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/again mono 8k`), API_REPLY.fail);
  port.feed(2);
  await until(() => c.msgs.length >= 6, 'live audio');
  t.ok(c.msgs[4]!.binary && c.msgs[5]!.binary);
  // unknown uuid, usage
  t.equal(await api(`00000000-0000-0000-0000-000000000000 start ws://127.0.0.1:${srv.port}/x mono 8k`), API_REPLY.fail);
  t.equal(await api(UUID), API_REPLY.usage);
});

t.test('metadataAfterFrames holds the metadata back behind N audio messages (issue #121)', async (t) => {
  const { port, srv, api } = await setup(t, { metadataAfterFrames: 5 });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/m mono 16k {"late":true}`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  port.feed(4);
  const c = srv.conns[0]!;
  await until(() => c.msgs.length >= 4, '4 frames');
  t.ok(c.msgs.every((m) => m.binary && m.data.length === 640));
  port.feed(1);
  await until(() => c.msgs.length >= 6, 'frame 5 + metadata');
  t.same(c.msgs.slice(4).map((m) => (m.binary ? m.data.length : m.data.toString())), [640, '{"late":true}']);
});

t.test('server messages: streamAudio → file + ::play, other text → ::json, binary ignored; stop closes 1000 without ::disconnect', async (t) => {
  const { port, srv, api, tmp } = await setup(t);
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/play mono 8k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  const c = srv.conns[0]!;
  const audio = Buffer.alloc(320, 3);
  c.ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: audio.toString('base64') } }));
  c.ws.send('{"type":"hello","n":1}');
  c.ws.send(Buffer.alloc(320), { binary: true });
  c.ws.send('just some text, not json');
  c.ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'wav', audioData: 'UklGRg==' } }));
  await until(() => port.customs.length >= 5, 'events');
  const f0 = `${tmp.dir}/${UUID}_0.tmp.r8`;
  const f1 = `${tmp.dir}/${UUID}_1.tmp.wav`;
  t.same(port.customs.slice(1), [
    { sub: 'mod_audio_stream::play', body: `{"audioDataType":"raw","sampleRate":8000,"file":"${f0}"}` },
    { sub: 'mod_audio_stream::json', body: '{"type":"hello","n":1}' },
    { sub: 'mod_audio_stream::json', body: 'just some text, not json' },
    { sub: 'mod_audio_stream::play', body: `{"audioDataType":"wav","file":"${f1}"}` },
  ]);
  t.ok(readFileSync(f0).equals(audio));
  t.equal(readFileSync(f1).toString(), 'RIFF');
  // send_text, pause (no frames), resume
  t.equal(await api(`${UUID} send_text {"cmd":"hello-from-fs"}`), API_REPLY.ok);
  t.equal(await api(`${UUID} pause`), API_REPLY.ok);
  port.feed(3);
  t.equal(await api(`${UUID} resume`), API_REPLY.ok);
  port.feed(1);
  t.equal(await api(`${UUID} stop {"bye":true}`), API_REPLY.ok);
  await until(() => c.closed !== undefined, 'server sees close');
  t.same(c.closed, { code: 1000, reason: 'Normal closure' });
  t.same(c.msgs.map((m) => (m.binary ? m.data.length : m.data.toString())), ['{"cmd":"hello-from-fs"}', 320, '{"bye":true}']);
  t.same(port.customsOf('mod_audio_stream::disconnect'), [], 'stop fires no ::disconnect');
  t.equal(port.events.at(-1)!.name, 'MEDIA_BUG_STOP');
  t.notOk(existsSync(f0), 'files deleted at stop');
  t.notOk(existsSync(f1));
  t.equal(port.subscribers, 0);
  t.equal(await api(`${UUID} stop`), API_REPLY.fail, 'second stop fails');
  t.equal(await api(`${UUID} send_text x`), API_REPLY.fail);
  t.equal(await api(`${UUID} pause`), API_REPLY.fail);
});

t.test('server close → ::disconnect with its code/reason, bug stays until stop, then start works again', async (t) => {
  const { port, srv, api } = await setup(t);
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/close mono 8k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  srv.conns[0]!.ws.close(4000, 'custom reason');
  await until(() => port.customsOf('mod_audio_stream::disconnect').length === 1, 'disconnect');
  t.same(port.customsOf('mod_audio_stream::disconnect'), ['{"status":"disconnected","message":{"code":4000,"reason":"custom reason"}}']);
  await until(() => srv.conns[0]!.closed !== undefined, 'echoed close');
  t.same(srv.conns[0]!.closed, { code: 4000, reason: 'custom reason' }, 'the module echoes code and reason');
  t.notOk(port.events.some((e) => e.name === 'MEDIA_BUG_STOP'), 'no MEDIA_BUG_STOP at server close');
  port.feed(2); // dropped: not connected
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/close-restart mono 8k`), API_REPLY.fail);
  t.equal(await api(`${UUID} stop`), API_REPLY.ok);
  t.equal(port.events.at(-1)!.name, 'MEDIA_BUG_STOP');
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/close-restart mono 8k`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 2, 'second connect');
  t.equal(srv.conns[0]!.msgs.length, 0);
});

t.test('hangup (channelGone) closes 1000 "Normal closure", MEDIA_BUG_STOP, no ::disconnect', async (t) => {
  const { port, srv, api, mod } = await setup(t);
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/h mono 8k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  mod.channelGone(UUID);
  t.equal(port.events.at(-1)!.name, 'MEDIA_BUG_STOP', 'fired synchronously');
  await until(() => srv.conns[0]!.closed !== undefined, 'close');
  t.same(srv.conns[0]!.closed, { code: 1000, reason: 'Normal closure' });
  t.same(port.customsOf('mod_audio_stream::disconnect'), []);
  t.equal(mod.size, 0);
});

t.test('connection refused → ::error code 6 as captured, MEDIA_BUG_STOP, stream removed', async (t) => {
  const { port, api } = await setup(t);
  const p = await refusedPort();
  t.equal(await api(`${UUID} start ws://127.0.0.1:${p}/ mono 8k`), API_REPLY.ok);
  port.feed(2);
  await until(() => port.customsOf('mod_audio_stream::error').length === 1, 'error');
  t.same(port.customsOf('mod_audio_stream::error'), ['{"status":"error","message":{"code":6,"error":"Connection refused (system error 111)"}}']);
  t.same(port.log.slice(-2), ['custom:mod_audio_stream::error', 'event:MEDIA_BUG_STOP']);
  t.equal(await api(`${UUID} stop`), API_REPLY.fail);
  t.equal(await api(`${UUID} start notaurl mono 8k`), API_REPLY.fail);
  t.equal(await api(`${UUID} start ws://127.0.0.1:8090/x mono 11k`), API_REPLY.fail);
});

t.test('playback stream: raw streamAudio goes to the ear without an event; wav still makes a file', async (t) => {
  const { port, srv, api } = await setup(t, { playback: 'stream' });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/s mono 16k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  const pcm = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) pcm.writeInt16LE(i - 160, i * 2);
  srv.conns[0]!.ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 16000, audioData: pcm.toString('base64') } }));
  srv.conns[0]!.ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'wav', audioData: 'UklGRg==' } }));
  await until(() => port.ear.length === 1 && port.customs.length === 2, 'ear + play');
  t.equal(port.ear[0]!.rateHz, 16000);
  t.equal(port.ear[0]!.pcm.length, 320);
  t.equal(port.ear[0]!.pcm[0], -160);
  t.equal(port.customs[1]!.sub, 'mod_audio_stream::play');
  t.match(port.customs[1]!.body, /_0\.tmp\.wav"\}$/);
});

t.test('server ping is answered; STREAM_EXTRA_HEADERS reach the handshake', async (t) => {
  const { port, srv, api } = await setup(t, { vars: { STREAM_EXTRA_HEADERS: '{"X-Call":"abc"}' } });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/p mono 8k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  t.equal(srv.conns[0]!.headers['x-call'], 'abc');
  srv.conns[0]!.ws.ping('x');
  await until(() => srv.conns[0]!.pongs === 1, 'pong');
  t.pass('pong received');
});

t.test('STREAM_BUFFER_SIZE=100 gives 1600-byte messages; stereo 8k gives 640', async (t) => {
  const { port, srv, api } = await setup(t, { vars: { STREAM_BUFFER_SIZE: '100' } });
  t.equal(await api(`${UUID} start ws://127.0.0.1:${srv.port}/b mono 8k`), API_REPLY.ok);
  await until(() => srv.conns.length === 1 && port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  port.feed(9);
  await until(() => srv.conns[0]!.msgs.length === 1, 'one message');
  t.equal(srv.conns[0]!.msgs[0]!.data.length, 1600);
  port.feed(1);
  await until(() => srv.conns[0]!.msgs.length === 2, 'second message');
  t.equal(await api(`${UUID} stop`), API_REPLY.ok);

  const other = new FakePort('ddc0bde1-0000-4000-8000-000000000000', port.tempDir);
  const mod2 = new AudioStreamModule({ logger: silentLogger(), playback: 'file' });
  t.teardown(() => mod2.close());
  t.equal(await mod2.api(`${other.uuid} start ws://127.0.0.1:${srv.port}/st stereo 8k`, () => other), API_REPLY.ok);
  await until(() => other.customsOf('mod_audio_stream::connect').length === 1, 'connect 2');
  other.feed(1);
  await until(() => srv.conns.length === 2 && srv.conns[1]!.msgs.length === 1, 'stereo frame');
  t.equal(srv.conns[1]!.msgs[0]!.data.length, 640);
});

t.test('STREAM_HEART_BEAT sends pings on the (manual) clock', async (t) => {
  const tmp = tempDir();
  const clock = new ManualClock();
  const port = new FakePort(UUID, tmp.dir, { STREAM_HEART_BEAT: '5' });
  const mod = new AudioStreamModule({ logger: silentLogger(), playback: 'file', clock });
  const srv = await startWsServer();
  let pings = 0;
  srv.wss.on('connection', (ws) => ws.on('ping', () => { pings++; }));
  t.teardown(async () => {
    for (const c of srv.conns) c.ws.terminate();
    await mod.close();
    await new Promise<void>((r) => srv.wss.close(() => r()));
    tmp.remove();
  });
  t.equal(await mod.api(`${UUID} start ws://127.0.0.1:${srv.port}/hb mono 8k`, () => port), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  clock.advance(4_999);
  clock.advance(1);
  await until(() => pings === 1, 'first ping');
  clock.advance(5_000);
  await until(() => pings === 2, 'second ping');
  t.equal(pings, 2);
});
