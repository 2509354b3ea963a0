import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawClient } from './raw-client.js';

const here = dirname(fileURLToPath(import.meta.url));

t.test('uuid_audio_stream through the twin: frames, MEDIA_BUG_START, ::connect, close 1000 on hang-up', async (t) => {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  t.teardown(() => tw.close());
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  t.teardown(() => new Promise((r) => wss.close(r)));
  const port = (wss.address() as { port: number }).port;
  const sizes: number[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => { if (isBinary) sizes.push(data.length); });
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  });
  const watch = await RawClient.open(tw.port);
  t.teardown(() => watch.close());
  await watch.waitFrames(1);
  watch.send('auth ClueCon\n\nevent json MEDIA_BUG_START MEDIA_BUG_STOP CUSTOM mod_audio_stream::connect\n\n');
  await watch.waitFrames(3);

  const res = await tw.originate('{sim_caller_tone=440}loopback/9999/default &park');
  const uuid = res.slice(4, 40);
  t.equal(await tw.api(`uuid_audio_stream ${uuid} start ws://127.0.0.1:${port}/x mono 8k`), '+OK Success\n');
  const bug = await watch.waitFor((f) => f.body.includes('"MEDIA_BUG_START"'));
  const o = JSON.parse(bug.body) as Record<string, string>;
  t.equal(o['Media-Bug-Function'], 'audio_stream');
  t.equal(o['Unique-ID'], uuid);
  const conn = await watch.waitFor((f) => f.body.includes('mod_audio_stream::connect'));
  const c = JSON.parse(conn.body) as Record<string, string>;
  t.equal(c._body, '{"status":"connected"}');
  t.equal(c['Event-Subclass'], 'mod_audio_stream::connect');
  t.ok(Object.keys(c).some((k) => k.startsWith('variable_')), 'channel variables on the custom event');
  for (let i = 0; i < 100 && sizes.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(sizes.length >= 5, 'audio frames arrive');
  t.same([...new Set(sizes)], [320]);
  t.equal(await tw.api(`uuid_kill ${uuid}`), '+OK\n');
  t.same(await closed, { code: 1000, reason: 'Normal closure' });
  await watch.waitFor((f) => f.body.includes('"MEDIA_BUG_STOP"'));
});
