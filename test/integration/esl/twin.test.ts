/** EslControl and OutboundSocketServer against the FreeSWITCH twin (src/sim/freeswitch), loopback only. */
import t, { type Test } from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { EslControl } from '../../../src/esl/control.js';
import { OutboundSocketServer } from '../../../src/esl/outbound-server.js';
import type { OutboundSession } from '../../../src/esl/outbound-session.js';
import type { FsEvent } from '../../../src/esl/events.js';
import { WebSocketServer } from 'ws';

const here = dirname(fileURLToPath(import.meta.url));

async function startTwin(t: Test, opts: Partial<ConstructorParameters<typeof FreeswitchTwin>[0]> = {}): Promise<FreeswitchTwin> {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan'), ...opts });
  await tw.start();
  t.teardown(() => tw.close());
  return tw;
}

function control(t: Test, port: number, password = 'ClueCon'): { c: EslControl; metrics: MetricsRegistry } {
  const metrics = new MetricsRegistry();
  const c = new EslControl({
    host: '127.0.0.1', port, password, logger: silentLogger(), metrics, clock: systemClock,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  t.teardown(() => c.close());
  return { c, metrics };
}

function until<T>(c: { on: (e: any, f: (v: T) => void) => unknown }, name: string, pred: (v: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => c.on(name, (v: T) => { if (pred(v)) resolve(v); }));
}

t.test('control: originate, events, getvar/exists, kill (frames split everywhere by the twin)', async (t) => {
  const tw = await startTwin(t, { splitFrames: { offsets: (f) => [...new Set([1, f.indexOf('\n\n') + 1, f.length - 1])].filter((o) => o > 0 && o < f.length) } });
  const { c } = control(t, tw.port);
  const events: FsEvent[] = [];
  c.on('event', (e) => events.push(e));
  const connected = until(c, 'connected');
  c.start();
  await connected;
  // Subscriptions are queued behind auth; a bgapi queued now runs after them.
  const o = await c.originate('loopback/9999/default', '&park', 10_000);
  t.ok(o.ok, 'originate');
  if (!o.ok) return;
  const uuid = o.value;
  t.match(await c.uuidExists(uuid), { ok: true, value: true });
  t.match(await c.uuidGetvar(uuid, 'channel_name'), { ok: true, value: 'loopback/9999-a' });
  t.match(await c.uuidSetvar(uuid, 'fsbridge_test', 'yes'), { ok: true });
  t.match(await c.uuidGetvar(uuid, 'fsbridge_test'), { ok: true, value: 'yes' });
  t.match(await c.audioStreamStop(uuid), { ok: false, code: 'ESL_COMMAND_FAILED' }, 'no stream attached');
  // Issue 8: the channel's PLAYBACK events come once it is watched; channel life cycle never does.
  t.match(await c.watchChannel(uuid), { ok: true });
  const played = until<FsEvent>(c, 'event', (e) => e.name === 'PLAYBACK_STOP' && e.uuid === uuid);
  t.match(await c.uuidBroadcast(uuid, 'tone_stream://%(100,0,440)'), { ok: true });
  t.equal((await played).headers['Playback-File-Path'], 'tone_stream://%(100,0,440)');
  t.match(await c.uuidKill(uuid), { ok: true });
  t.match(await c.uuidExists(uuid), { ok: true, value: false });
  t.notOk(events.some((e) => e.name.startsWith('CHANNEL_')), 'no channel life-cycle events on the control connection');
});

t.test('control: wrong password is one fatal, no retry', async (t) => {
  const tw = await startTwin(t);
  const { c, metrics } = control(t, tw.port, 'wrong');
  const fatal = until<{ code: string }>(c, 'fatal');
  c.start();
  t.equal((await fatal).code, 'ESL_AUTH_FAILED');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(c.connectAttempts, 1);
  t.equal(metrics.errorCount('ESL_AUTH_FAILED'), 1);
});

t.test('control: twin restart → disconnected, reconnect, reconciled', async (t) => {
  const tw1 = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw1.start();
  const port = tw1.port;
  const { c } = control(t, port);
  const connected = until(c, 'connected');
  c.start();
  await connected;
  const disconnected = until(c, 'disconnected');
  await tw1.close();
  await disconnected;
  const tw2 = await startTwin(t, { port });
  const o = await tw2.originate('loopback/9999/default &park');
  const reconciled = await until<{ uuids: string[] }>(c, 'reconciled');
  t.ok(reconciled.uuids.includes(o.slice(4, 40)), 'live channel listed');
});

t.test('outbound: dialplan socket app → session, answer, playback, hangup', async (t) => {
  const tw = await startTwin(t);
  const metrics = new MetricsRegistry();
  const server = new OutboundSocketServer({ port: 0, logger: silentLogger(), metrics, clock: systemClock });
  await server.listen();
  t.teardown(() => server.close());
  const gotSession = until<OutboundSession>(server, 'session');
  // originate returns when the loopback B-leg (our session) answers, so it is awaited after answer().
  const reply = tw.originate(`{test_socket_port=${server.port}}loopback/8084/default &park`);
  const s = await gotSession;
  t.equal(s.getVar('test_socket_port'), String(server.port));
  t.match(await s.answer(), { ok: true, value: '_none_' });
  t.match(await reply, /^\+OK /);
  t.match(await s.playback('silence_stream://100'), { ok: true });
  const hangup = until<{ cause: string }>(s, 'hangup');
  const closed = until(s, 'close');
  t.match(await s.hangup('NORMAL_CLEARING'), { ok: true });
  t.equal((await hangup).cause, 'NORMAL_CLEARING');
  await closed;
  t.equal(metrics.errorCount('ESL_OUTBOUND_TIMEOUT'), 0);
});

t.test('control: uuid_audio_stream start with metadata containing spaces and quotes reaches the websocket intact', async (t) => {
  const tw = await startTwin(t);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  t.teardown(() => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
  const firstText = new Promise<string>((resolve) => wss.on('connection', (ws) => ws.on('message', (d, isBinary) => { if (!isBinary) resolve(d.toString()); })));
  const { c } = control(t, tw.port);
  const connected = until(c, 'connected');
  c.start();
  await connected;
  const o = await c.originate('loopback/9999/default', '&park', 10_000);
  if (!o.ok) { t.fail('originate'); return; }
  const port = (wss.address() as { port: number }).port;
  const meta = { caller: "Ann O'Neil", note: 'two  spaces', n: 1 };
  t.match(await c.audioStreamStart(o.value, `ws://127.0.0.1:${port}/s`, 'mono', 8000, JSON.stringify(meta)), { ok: true, value: 'Success' });
  t.same(JSON.parse(await firstText), meta);
  t.match(await c.audioStreamStop(o.value), { ok: true });
  t.match(await c.uuidKill(o.value), { ok: true });
});
