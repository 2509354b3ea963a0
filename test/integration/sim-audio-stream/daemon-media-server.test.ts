// The twin against the daemon's own media websocket server: the two sides written independently
// must agree on the wire (handshake without spaces, audio before metadata, streamAudio → ::play).
import t from 'tap';
import { silentLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { MediaServer, type MediaConnection } from '../../../src/media/server.js';
import { AudioStreamModule } from '../../../src/sim/freeswitch/audio-stream/module.js';
import { API_REPLY } from '../../../src/sim/freeswitch/audio-stream/api-command.js';
import { FakePort, tempDir, until } from './helpers.js';

const UUID = 'bcb19f83-9a88-4d76-8ec8-7a67a3146c17';

t.test('twin ↔ MediaServer: audio, metadata, streamAudio back, stop', async (t) => {
  const tmp = tempDir();
  const port = new FakePort(UUID, tmp.dir);
  const mod = new AudioStreamModule({ logger: silentLogger(), playback: 'file', metadataAfterFrames: 2 });
  const server = new MediaServer({ logger: silentLogger(), metrics: new MetricsRegistry(), port: 0 });
  const addr = await server.listen();
  t.teardown(async () => { await mod.close(); await server.close(); tmp.remove(); });
  const got = { samples: 0, texts: [] as string[], order: [] as string[], conn: undefined as MediaConnection | undefined, closed: undefined as number | undefined };
  server.expect('call-1', 'tok', {
    onOpen: (c) => { got.conn = c; },
    onAudio: (pcm) => { got.samples += pcm.length; got.order.push('audio'); },
    onText: (s) => { got.texts.push(s); got.order.push('text'); },
    onClose: (code) => { got.closed = code; },
  });
  const api = (a: string) => mod.api(a, (u) => (u === UUID ? port : undefined));
  t.equal(await api(`${UUID} start ws://127.0.0.1:${addr.port}/call-1/tok mono 8k {"callId":"call-1"}`), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::connect').length === 1, 'connect');
  port.feed(3);
  await until(() => got.texts.length === 1 && got.samples >= 480, 'audio + metadata');
  t.same(got.texts, ['{"callId":"call-1"}']);
  t.equal(got.order.indexOf('text'), 2, 'metadata after the first two audio messages');
  got.conn!.sendText(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: Buffer.alloc(320).toString('base64') } }));
  await until(() => port.customsOf('mod_audio_stream::play').length === 1, 'play');
  t.equal(port.customsOf('mod_audio_stream::play')[0], `{"audioDataType":"raw","sampleRate":8000,"file":"${tmp.dir}/${UUID}_0.tmp.r8"}`);
  t.equal(await api(`${UUID} stop`), API_REPLY.ok);
  await until(() => got.closed !== undefined, 'server onClose');
  t.equal(got.closed, 1000);
});

t.test('twin ↔ MediaServer: an unknown token is refused before the upgrade → ::error code 6', async (t) => {
  const tmp = tempDir();
  const port = new FakePort(UUID, tmp.dir);
  const mod = new AudioStreamModule({ logger: silentLogger(), playback: 'file' });
  const server = new MediaServer({ logger: silentLogger(), metrics: new MetricsRegistry(), port: 0 });
  const addr = await server.listen();
  t.teardown(async () => { await mod.close(); await server.close(); tmp.remove(); });
  t.equal(await mod.api(`${UUID} start ws://127.0.0.1:${addr.port}/nope/bad mono 8k`, () => port), API_REPLY.ok);
  await until(() => port.customsOf('mod_audio_stream::error').length === 1, 'error');
  const body = JSON.parse(port.customsOf('mod_audio_stream::error')[0]!) as { message: { code: number } };
  t.equal(body.message.code, 6);
  t.equal(port.events.at(-1)!.name, 'MEDIA_BUG_STOP');
});
