import { Writable } from 'node:stream';
import t from 'tap';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../src/clock.js';
import { MediaServer, type MediaSink } from '../../../src/media/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';

type Line = { level: number; code?: string; callId?: string; suppressed?: number; msg: string };

t.test('a sink that throws on every frame: every throw counted, one line per stream per interval, the rest at close', async (t) => {
  const lines: Line[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Line); cb(); } });
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const server = new MediaServer({ logger: createLogger({ level: 'debug', destination }), metrics, clock, host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  let frames = 0;
  let closed!: () => void;
  const done = new Promise<void>((r) => { closed = r; });
  const sink: MediaSink = {
    onOpen() {},
    onAudio() { frames++; throw new Error('sink failure'); },
    onText() {},
    onClose() { closed(); },
  };
  server.expect('c1', 'tok', sink);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/c1/tok`, { perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
  for (let i = 0; i < 200; i++) ws.send(Buffer.alloc(320));
  ws.send('sync');
  await new Promise<void>((r) => { const check = (): void => { if (frames === 200) r(); else setImmediate(check); }; check(); });
  ws.close(1000);
  await done;
  await new Promise((r) => setImmediate(r));
  t.equal(metrics.errorCount('MEDIA_SINK_THREW'), 200);
  const l = lines.filter((x) => x.code === 'MEDIA_SINK_THREW');
  t.same(l.map((x) => [x.level, x.callId, x.suppressed]), [[50, 'c1', 0], [40, 'c1', 199]]);
});
