import t, { type Test } from 'tap';
import { ManualClock, type Clock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { EslControl, type EslControlOptions } from '../../../src/esl/control.js';
import type { FsEvent } from '../../../src/esl/events.js';
import { fixture, ScriptedFs, splitFrames, waitFor } from './scripted-fs.js';

/** A ManualClock that records every delay it is asked for. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, delayMs: number): () => void {
    this.delays.push(delayMs);
    return super.setTimeout(fn, delayMs);
  }
}

function makeControl(t: Test, port: number, over: Partial<EslControlOptions> = {}) {
  const metrics = new MetricsRegistry();
  const clock: Clock = over.clock ?? new ManualClock();
  const c = new EslControl({
    host: '127.0.0.1', port, password: 'ClueCon', logger: silentLogger(), metrics, clock,
    random: () => 0.5, ...over,
  });
  t.teardown(() => c.close());
  return { c, metrics, clock };
}

async function startFs(t: Test, fs: ScriptedFs): Promise<ScriptedFs> {
  await fs.listen();
  t.teardown(() => fs.close());
  return fs;
}

/** What the control connection sends after auth (issue 8: only what the daemon uses, one line). */
const SUBSCRIPTIONS = [
  'event json BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::play mod_audio_stream::json mod_audio_stream::error',
];

const subscribedAll = (cmds: string[] | undefined): boolean => !!cmds && SUBSCRIPTIONS.every((x) => cmds.includes(x));

t.test('authenticates, subscribes to every required event, emits connected', async (t) => {
  const fs = await startFs(t, new ScriptedFs());
  const { c } = makeControl(t, fs.port);
  const connected: boolean[] = [];
  c.on('connected', (e) => connected.push(e.reconnect));
  c.start();
  c.start();
  await waitFor(() => subscribedAll(fs.commands[0]), 'subscriptions');
  t.equal(fs.commands[0][0], 'auth ClueCon');
  for (const s of SUBSCRIPTIONS) t.ok(fs.commands[0].includes(s), s);
  t.same(connected, [false]);
  t.ok(c.connected);
  t.equal(fs.connections, 1, 'start() twice opens one connection');
});

t.test('captured event streams arrive as typed events, whatever the chunking', async (t) => {
  const json = splitFrames(fixture('esl/inbound-event-json-all.raw')).slice(3);
  const plain = splitFrames(fixture('esl/inbound-event-plain.raw')).slice(3);
  const fs = await startFs(t, new ScriptedFs({
    onAuthed: (s) => {
      // Cut every frame between the two LFs of its header terminator (esl-lite's failing split).
      for (const f of [...json, ...plain]) {
        const cut = f.indexOf('\n\n') + 1;
        s.write(f.subarray(0, cut));
        s.write(f.subarray(cut));
      }
    },
  }));
  const { c, metrics } = makeControl(t, fs.port);
  const events: FsEvent[] = [];
  c.on('event', (e) => events.push(e));
  c.start();
  await waitFor(() => events.length >= json.length + plain.length, 'all events');
  t.equal(events.length, 292 + 68);
  t.equal(events.filter((e) => e.subclass === 'mod_audio_stream::play').length, 2 + 2);
  t.equal(events.filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE').length, 20);
  t.equal(metrics.errorCount('ESL_BAD_FRAME'), 0);
  t.equal(fs.connections, 1, 'no reconnect');
});

t.test('bgapi helpers return typed results from the captured reply texts', async (t) => {
  const replies: Record<string, string | null> = {
    'uuid_kill 9e618bfe-e3e8-45c2-b09b-8378acf1019e NORMAL_CLEARING': '+OK\n',
    'uuid_audio_stream 00000000-0000-0000-0000-000000000000 start ws://127.0.0.1:8090/x mono 8k': '-ERR Operation Failed\n',
    'uuid_broadcast u1 /tmp/a.r8 aleg': '+OK Message sent\n',
    'originate loopback/9999/default &park': '+OK 9e618bfe-e3e8-45c2-b09b-8378acf1019e\n',
    'uuid_exists u1': 'true',
    'uuid_getvar u1 channel_name': 'loopback/8084-b',
    'status': null,
  };
  const fs = await startFs(t, new ScriptedFs({ bgapi: (cmd) => (cmd in replies ? replies[cmd] : '-ERR unexpected\n') }));
  const clock = new ManualClock();
  const { c, metrics } = makeControl(t, fs.port, { clock });
  t.match(await c.uuidKill('u1'), { ok: false, code: 'ESL_NOT_CONNECTED' }, 'before start');
  c.start();
  await waitFor(() => c.connected, 'connected');
  t.match(await c.uuidKill('9e618bfe-e3e8-45c2-b09b-8378acf1019e'), { ok: true });
  t.match(await c.audioStreamStart('00000000-0000-0000-0000-000000000000', 'ws://127.0.0.1:8090/x', 'mono', 8000),
    { ok: false, code: 'ESL_COMMAND_FAILED', reply: '-ERR Operation Failed' });
  t.match(await c.uuidBroadcast('u1', '/tmp/a.r8'), { ok: true, value: 'Message sent' });
  t.match(await c.originate('loopback/9999/default', '&park'), { ok: true, value: '9e618bfe-e3e8-45c2-b09b-8378acf1019e' });
  t.match(await c.uuidExists('u1'), { ok: true, value: true });
  t.match(await c.uuidGetvar('u1', 'channel_name'), { ok: true, value: 'loopback/8084-b' });
  t.match(await c.uuidSetvar('u1', 'x', 'a\nb'), { ok: false, code: 'ESL_BAD_ARGUMENT' });
  t.equal(metrics.errorCount('ESL_BAD_ARGUMENT'), 1);
  // A job that never completes: the injected clock decides the timeout; the connection stays.
  const pending = c.bgapi('status', 2000);
  await waitFor(() => fs.commands[0].some((x) => x.startsWith('bgapi status')), 'bgapi sent');
  clock.advance(2000);
  t.match(await pending, { ok: false, code: 'ESL_COMMAND_TIMEOUT' });
  t.equal(metrics.errorCount('ESL_COMMAND_TIMEOUT'), 1);
  t.match(await c.uuidKill('9e618bfe-e3e8-45c2-b09b-8378acf1019e'), { ok: true }, 'still usable after a job timeout');
  t.equal(fs.connections, 1);
});

t.test('wrong password: one fatal ESL_AUTH_FAILED, no second connection', async (t) => {
  const fs = await startFs(t, new ScriptedFs({ password: 'secret' }));
  const clock = new ManualClock();
  const { c, metrics } = makeControl(t, fs.port, { clock });
  const fatals: string[] = [];
  c.on('fatal', (e) => fatals.push(e.code));
  c.start();
  await waitFor(() => fatals.length > 0, 'fatal');
  clock.advance(10 * 60_000);
  await new Promise((r) => setTimeout(r, 50));
  t.same(fatals, ['ESL_AUTH_FAILED']);
  t.equal(fs.connections, 1);
  t.equal(c.connectAttempts, 1);
  t.equal(metrics.errorCount('ESL_AUTH_FAILED'), 1);
  t.notOk(c.connected);
});

t.test('FreeSWITCH down at start: ESL_CONNECT_FAILED with growing, capped delays, then connects', async (t) => {
  const probe = new ScriptedFs();
  const port = await probe.listen();
  await probe.close();
  const clock = new RecordingClock();
  const { c, metrics } = makeControl(t, port, { clock, backoff: { initialDelayMs: 100, maxDelayMs: 1000 }, connectTimeoutMs: 60_000 });
  c.start();
  const retryDelays = (): number[] => clock.delays.filter((d) => d !== 60_000);
  for (let i = 1; i <= 6; i++) {
    await waitFor(() => metrics.errorCount('ESL_CONNECT_FAILED') >= i && retryDelays().length >= i, `failure ${i}`);
    if (i < 6) clock.advance(retryDelays()[i - 1]);
  }
  // random() = 0.5 → 75 % of min(cap, 100·2^n).
  t.same(retryDelays().slice(0, 6), [75, 150, 300, 600, 750, 750]);
  const fs = new ScriptedFs();
  await fs.listen(port);
  t.teardown(() => fs.close());
  clock.advance(750);
  await waitFor(() => c.connected, 'connected');
  t.equal(metrics.errorCount('ESL_CONNECT_FAILED'), 6);
});

t.test('mid-frame drop: disconnected, reconnect, resubscribe, reconcile', async (t) => {
  let dropFirst = true;
  const fs = await startFs(t, new ScriptedFs({
    onAuthed: (s) => {
      if (!dropFirst) return;
      dropFirst = false;
      setImmediate(() => {
        s.write('Content-Length: 500\nContent-Type: text/event-json\n\n{"Event-Name":"CHANN');
        s.destroy();
      });
    },
    bgapi: (cmd) => (cmd === 'show channels as json' ? '{"row_count":1,"rows":[{"uuid":"bcb19f83-9a88-4d76-8ec8-7a67a3146c17","direction":"outbound"}]}' : '+OK\n'),
  }));
  const clock = new RecordingClock();
  const { c, metrics } = makeControl(t, fs.port, { clock });
  const log: string[] = [];
  c.on('connected', (e) => log.push(`connected:${e.reconnect}`));
  c.on('disconnected', (e) => log.push(`disconnected:${e.code}`));
  let reconciled: string[] | null = null;
  c.on('reconciled', (e) => { reconciled = e.uuids; });
  c.start();
  await waitFor(() => log.includes('disconnected:ESL_DISCONNECTED'), 'disconnect');
  t.match(await c.uuidKill('u1'), { ok: false, code: 'ESL_NOT_CONNECTED' }, 'commands fail fast while down');
  clock.advance(clock.delays[clock.delays.length - 1]);
  await waitFor(() => reconciled !== null, 'reconciled');
  t.same(log, ['connected:false', 'disconnected:ESL_DISCONNECTED', 'connected:true']);
  t.same(reconciled, ['bcb19f83-9a88-4d76-8ec8-7a67a3146c17']);
  for (const s of SUBSCRIPTIONS) t.ok(fs.commands[1].includes(s), `resubscribed: ${s}`);
  t.ok(fs.commands[1].some((x) => x.startsWith('bgapi show channels as json')));
  t.equal(metrics.errorCount('ESL_DISCONNECTED'), 1);
});

for (const [name, bytes, code] of [
  ['oversize Content-Length', 'Content-Length: 99999999999\nContent-Type: text/event-json\n\n', 'ESL_FRAME_TOO_LARGE'],
  ['garbage bytes', '\x00\xff\x13GET / HTTP/1.1\n\n', 'ESL_BAD_FRAME'],
] as const) {
  t.test(`${name}: ${code}, connection dropped and reconnected`, async (t) => {
    let n = 0;
    const fs = await startFs(t, new ScriptedFs({ onAuthed: (s) => { if (n++ === 0) setImmediate(() => s.write(Buffer.from(bytes, 'latin1'))); } }));
    const clock = new RecordingClock();
    const { c, metrics } = makeControl(t, fs.port, { clock });
    const log: string[] = [];
    c.on('connected', (e) => log.push(`connected:${e.reconnect}`));
    c.on('disconnected', () => log.push('disconnected'));
    c.start();
    await waitFor(() => log.includes('disconnected'), 'disconnect');
    t.equal(metrics.errorCount(code), 1);
    clock.advance(clock.delays[clock.delays.length - 1]);
    await waitFor(() => log.includes('connected:true'), 'reconnected');
    t.equal(fs.connections, 2);
  });
}

t.test('a second command/reply never comes: connection is dropped as unresponsive', async (t) => {
  const fs = await startFs(t, new ScriptedFs());
  const clock = new ManualClock();
  const { c, metrics } = makeControl(t, fs.port, { clock });
  c.start();
  await waitFor(() => subscribedAll(fs.commands[0]), 'subscribed');
  // From now on the server swallows everything.
  fs.sockets[0].removeAllListeners('data');
  const disconnected: string[] = [];
  c.on('disconnected', (e) => disconnected.push(e.code));
  const p = c.bgapi('status', 1000);
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(1000);
  t.match(await p, { ok: false, code: 'ESL_COMMAND_TIMEOUT' });
  await waitFor(() => disconnected.length > 0, 'dropped');
  t.equal(metrics.errorCount('ESL_COMMAND_TIMEOUT'), 1);
});

t.test('close() is idempotent and fails pending commands', async (t) => {
  const fs = await startFs(t, new ScriptedFs({ bgapi: () => null }));
  const { c } = makeControl(t, fs.port);
  c.start();
  await waitFor(() => c.connected, 'connected');
  const p = c.bgapi('status', 60_000);
  await waitFor(() => fs.commands[0].some((x) => x.startsWith('bgapi status')), 'sent');
  c.close();
  c.close();
  t.match(await p, { ok: false, code: 'ESL_DISCONNECTED' });
  t.notOk(c.connected);
});

t.test('ACL rejection (text/rude-rejection) is fatal ESL_ACL_REJECTED, once', async (t) => {
  const { createServer } = await import('node:net');
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    s.on('error', () => {});
    s.write('Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n');
    s.end('Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const clock = new ManualClock();
  const { c } = makeControl(t, (server.address() as { port: number }).port, { clock });
  const fatals: string[] = [];
  c.on('fatal', (e) => fatals.push(e.code));
  c.start();
  await waitFor(() => fatals.length > 0, 'fatal');
  clock.advance(60_000);
  await new Promise((r) => setTimeout(r, 30));
  t.same(fatals, ['ESL_ACL_REJECTED']);
  t.equal(accepted, 1);
});

t.test('a throwing event listener is counted, other listeners still run', async (t) => {
  const frame = splitFrames(fixture('esl/inbound-event-json-all.raw'))[3];
  const fs = await startFs(t, new ScriptedFs({ onAuthed: (s) => s.write(frame) }));
  const { c, metrics } = makeControl(t, fs.port);
  let seen = 0;
  c.on('event', () => { throw new Error('listener bug'); });
  c.on('event', () => { seen++; });
  c.start();
  await waitFor(() => seen === 1, 'second listener');
  t.equal(metrics.errorCount('ESL_LISTENER_THREW'), 1);
  t.ok(c.connected);
});
