// Issue 8 (defect 12): the control connection subscribes to what the daemon uses, filters to the
// channels it watches, and parses each event once. Against ScriptedFs (replays FreeSWITCH's reply
// texts); the real FreeSWITCH's behaviour is test/real/issue-8-esl-subscription.real.test.ts.
import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { EslControl } from '../../../src/esl/control.js';
import { LiteTransport } from '../../../src/esl/lite-transport.js';
import type { FsEvent } from '../../../src/esl/events.js';
import { backgroundJob, fixture, ScriptedFs, splitFrames, waitFor } from './scripted-fs.js';

const SUBSCRIBE = 'event json BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::play mod_audio_stream::json mod_audio_stream::error';
const JOB_FILTER = 'filter Event-Name BACKGROUND_JOB';
const U1 = '9e618bfe-e3e8-45c2-b09b-8378acf1019e';
const U2 = 'bcb19f83-9a88-4d76-8ec8-7a67a3146c17';

async function setup(t: Test, fs = new ScriptedFs()) {
  await fs.listen();
  t.teardown(() => fs.close());
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  const c = new EslControl({ host: '127.0.0.1', port: fs.port, password: 'ClueCon', logger: silentLogger(), metrics, clock, random: () => 0.5 });
  t.teardown(() => c.close());
  return { fs, c, clock, metrics };
}

/** The socket commands (not bgapi) received on connection i. */
const socketCommands = (fs: ScriptedFs, i: number): string[] => (fs.commands[i] ?? []).filter((x) => !x.startsWith('bgapi '));

t.test('after auth: one event line with only what the daemon uses, nothing of esl-lite, no filter until a channel is watched', async (t) => {
  const { fs, c } = await setup(t);
  c.start();
  await waitFor(() => c.connected, 'connected');
  t.match(await c.bgapi('status'), { ok: true }, 'a bgapi result arrives');
  // esl-lite 3.2.0 alone would send `event json CUSTOM`, `event json CHANNEL_EXECUTE_COMPLETE`,
  // `event json BACKGROUND_JOB` and one `event json <NAME>` per name.
  t.same(fs.commands[0].map((x) => x.split('\n')[0]), ['auth ClueCon', SUBSCRIBE, 'bgapi status'], 'exactly these commands, in this order');
  // The first watched channel turns filtering on: the job filter first, then the channel's.
  t.match(await c.watchChannel(U1), { ok: true, value: `+OK filter added. [Unique-ID]=[${U1}]` });
  t.same(socketCommands(fs, 0).slice(2), [JOB_FILTER, `filter Unique-ID ${U1}`]);
  t.match(await c.unwatchChannel(U1), { ok: true });
  t.match(await c.bgapi('status'), { ok: true }, 'with no channel watched, the job filter stays and results still arrive');
  t.same(socketCommands(fs, 0).slice(4), [`filter delete Unique-ID ${U1}`], 'the job filter is never deleted (an empty filter list passes everything)');
});

t.test('watchChannel / unwatchChannel: filters counted per uuid, validated, kept across a reconnect', async (t) => {
  const { fs, c, clock, metrics } = await setup(t, new ScriptedFs({
    bgapi: (cmd) => (cmd === 'show channels as json' ? '{"row_count":0}' : '+OK\n'),
  }));
  // Before any connection: recorded only.
  t.match(await c.watchChannel(U1), { ok: true, value: '' });
  c.start();
  await waitFor(() => socketCommands(fs, 0).includes(SUBSCRIBE), 'subscribed');
  t.same(socketCommands(fs, 0).slice(1), [JOB_FILTER, `filter Unique-ID ${U1}`, SUBSCRIBE], 'a channel watched before connecting is filtered before the subscription');

  t.match(await c.watchChannel(U2), { ok: true, value: `+OK filter added. [Unique-ID]=[${U2}]` });
  t.match(await c.watchChannel(U2), { ok: true, value: '' }, 'a second watch of the same uuid sends nothing');
  t.match(await c.unwatchChannel(U2), { ok: true, value: '' }, 'the first unwatch of two sends nothing');
  t.same(c.watchedChannels, [U1, U2]);
  // The filter is queued before a command issued right after it (one command in flight, FIFO).
  const watched = c.watchChannel('0d6c0c32-0000-4000-8000-000000000001');
  const job = c.uuidBroadcast('0d6c0c32-0000-4000-8000-000000000001', '/tmp/a.r8');
  await Promise.all([watched, job]);
  const cmds = fs.commands[0].map((x) => x.split('\n')[0]);
  t.ok(cmds.indexOf('filter Unique-ID 0d6c0c32-0000-4000-8000-000000000001') < cmds.indexOf('bgapi uuid_broadcast 0d6c0c32-0000-4000-8000-000000000001 /tmp/a.r8 aleg'),
    'filter before the command that makes the channel\'s events');
  t.match(await c.unwatchChannel('0d6c0c32-0000-4000-8000-000000000001'), { ok: true, value: '+OK filter deleted. [Unique-ID][0d6c0c32-0000-4000-8000-000000000001]' });
  t.match(await c.unwatchChannel(U2), { ok: true, value: `+OK filter deleted. [Unique-ID][${U2}]` });
  t.match(await c.unwatchChannel(U2), { ok: true, value: '' }, 'unwatching an unknown uuid is a no-op');
  t.match(await c.watchChannel('not a uuid'), { ok: false, code: 'ESL_BAD_ARGUMENT' });
  t.match(await c.watchChannel(`${U1}\nexit`), { ok: false, code: 'ESL_BAD_ARGUMENT' });
  t.equal(metrics.errorCount('ESL_BAD_ARGUMENT'), 2);
  t.same(c.watchedChannels, [U1]);

  // Reconnect: the filters are FreeSWITCH's per connection; the watched ones are sent again.
  const connected: boolean[] = [];
  c.on('connected', (e) => connected.push(e.reconnect));
  fs.sockets[0].destroy();
  await waitFor(() => !c.connected, 'disconnected');
  clock.advance(1000); // past the first backoff delay (187.5 ms), short of the 5 s connect timeout
  await waitFor(() => socketCommands(fs, 1).includes(SUBSCRIBE), 'resubscribed');
  t.same(connected, [true]);
  t.same(socketCommands(fs, 1), ['auth ClueCon', JOB_FILTER, `filter Unique-ID ${U1}`, SUBSCRIBE], 'only the still-watched channel, before the subscription');
  t.equal(metrics.errorCount('ESL_COMMAND_FAILED'), 0);
});

t.test('a refused socket command is logged and counted as ESL_COMMAND_FAILED; the connection stays', async (t) => {
  // A FreeSWITCH that refuses `filter` (as one older than filters would).
  const fs = new ScriptedFs({ replyText: (line) => (line.startsWith('filter ') ? '-ERR command not found' : undefined) });
  const { c, metrics } = await setup(t, fs);
  c.start();
  await waitFor(() => c.connected, 'connected');
  t.match(await c.watchChannel(U1), { ok: false, code: 'ESL_COMMAND_FAILED', reply: '-ERR command not found' });
  t.equal(metrics.errorCount('ESL_COMMAND_FAILED'), 2, 'the job filter and the channel filter');
  t.match(await c.bgapi('status'), { ok: true });
  t.equal(fs.connections, 1);
});

t.test('each event frame is parsed once; esl-lite is handed only BACKGROUND_JOB', async (t) => {
  const events = splitFrames(fixture('esl/inbound-event-json-all.raw')).slice(3);
  const jobs = [1, 2, 3].map((n) => Buffer.from(backgroundJob(`job-${n}`, 'status', '+OK\n')));
  const frames = [...events.slice(0, 100), jobs[0], ...events.slice(100, 200), jobs[1], ...events.slice(200), jobs[2]];

  // LiteTransport alone, on a stand-in socket: what reaches the owner and what reaches esl-lite.
  class FakeSocket extends EventEmitter {
    destroyed = false;
    write(_b: Buffer, cb?: (err?: Error) => void): boolean { cb?.(); return true; }
    destroy(): this { if (!this.destroyed) { this.destroyed = true; this.emit('close'); } return this; }
  }
  const sock = new FakeSocket();
  const seen: FsEvent[] = [];
  const transport = new LiteTransport(sock as unknown as Socket, {
    onFrame: () => true, onEvent: (ev) => seen.push(ev), onInputError: () => {}, onClosed: () => {},
  }, () => 0);
  transport.attach();
  const parse = JSON.parse;
  let eventParses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    if (typeof text === 'string' && text.includes('"Event-Name"')) eventParses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  t.teardown(() => { JSON.parse = parse; });
  for (const f of frames) sock.emit('data', f);
  JSON.parse = parse;
  transport.end();
  const toLite: string[] = [];
  for await (const ev of transport.connect()) toLite.push(ev.event);
  t.equal(seen.length, frames.length, 'every event reaches the owner');
  t.equal(eventParses, frames.length, 'one JSON.parse per event frame');
  t.same(toLite, ['BACKGROUND_JOB', 'BACKGROUND_JOB', 'BACKGROUND_JOB'], 'esl-lite gets the three jobs and nothing else');
});

t.test('through EslControl: events still arrive, bgapi still completes, one parse per event', async (t) => {
  const events = splitFrames(fixture('esl/inbound-event-json-all.raw')).slice(3);
  const { c } = await setup(t, new ScriptedFs({ onAuthed: (s) => { for (const f of events) s.write(f); } }));
  const parse = JSON.parse;
  let eventParses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    if (typeof text === 'string' && text.includes('"Event-Name"')) eventParses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  t.teardown(() => { JSON.parse = parse; });
  let n = 0;
  c.on('event', () => { n++; });
  c.start();
  await waitFor(() => n >= events.length, 'events');
  t.match(await c.bgapi('status'), { ok: true, value: '+OK\n' });
  JSON.parse = parse;
  t.equal(n, events.length + 1, 'every event and the job reach the listeners');
  t.equal(eventParses, events.length + 1, 'each parsed once');
});
