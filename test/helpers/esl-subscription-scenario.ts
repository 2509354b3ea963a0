// Issue 8 (defect 12): what reaches fsbridge's control connection when the switch carries traffic
// that is not fsbridge's. One scenario, run against the FreeSWITCH twin
// (test/integration/esl/issue-8-esl-subscription.test.ts) and against the real FreeSWITCH 1.10.12
// (test/real/issue-8-esl-subscription.real.test.ts), so the twin is held to the real program.
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Test } from 'tap';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock } from '../../src/clock.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { EslControl } from '../../src/esl/control.js';
import type { FsEvent } from '../../src/esl/events.js';
import { RawEsl } from './real/raw-esl.js';

/** The extension both sides have: answer, park. */
export const PARK_EXTENSION = `<include>
  <extension name="issue-8-park">
    <condition field="destination_number" expression="^issue-8-park$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/** The FreeSWITCH under test. */
export interface ScenarioSide {
  name: 'real' | 'twin';
  eslPort: number;
  password: string;
  /** `api <cmd>` on a connection that is not the control connection (another ESL client). */
  api(cmd: string): Promise<string>;
}

/** The subscription fsbridge used before issue 8 (control.ts + esl-lite's own), for comparison. */
const OLD_SUBSCRIPTION = [
  'event json CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE_COMPLETE DTMF BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::connect mod_audio_stream::disconnect mod_audio_stream::error mod_audio_stream::json mod_audio_stream::play',
  'event json CUSTOM',
];

/** A TCP proxy in front of the ESL port that records the commands the client sends. */
async function recordingProxy(t: Test, port: number): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port });
    sockets.push(client, upstream);
    let buf = '';
    client.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
        commands.push(buf.slice(0, end));
        buf = buf.slice(end + 2);
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    const close = (): void => { client.destroy(); upstream.destroy(); };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return { port: (server.address() as { port: number }).port, commands };
}

/** A mod_audio_stream peer: answers each connection with a JSON text and one streamAudio message. */
async function audioPeer(t: Test): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  t.teardown(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
  wss.on('connection', (ws: WebSocket) => {
    ws.send(JSON.stringify({ event: 'issue-8' }));
    ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: Buffer.alloc(320).toString('base64') } }));
  });
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}/s`;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const key = (e: { name: string; subclass?: string }): string => (e.subclass ? `${e.name} ${e.subclass}` : e.name);
const hkey = (h: Record<string, string>): string => key({ name: h['Event-Name'], subclass: h['Event-Subclass'] });

/**
 * Two loopback calls: `mine` (watched by the control connection, as the daemon watches its calls)
 * and `other` (made by another ESL client, never watched). The same playback and audio-stream
 * commands run on both. Asserts that the control connection gets the daemon's events of `mine`,
 * nothing of `other` and no channel life-cycle events, that bgapi results still arrive, and that
 * after unwatchChannel nothing of `mine` arrives either. A second raw connection with the old
 * subscription shows what used to be sent.
 */
export async function runSubscriptionScenario(t: Test, side: ScenarioSide): Promise<void> {
  const wsUrl = await audioPeer(t);
  const proxy = await recordingProxy(t, side.eslPort);
  const metrics = new MetricsRegistry();
  const control = new EslControl({
    host: '127.0.0.1', port: proxy.port, password: side.password, logger: silentLogger(), metrics, clock: systemClock,
  });
  t.teardown(() => control.close());
  const got: FsEvent[] = [];
  control.on('event', (e) => got.push(e));
  const old = await RawEsl.open(side.eslPort);
  t.teardown(() => old.close());
  await old.reply('auth/request');
  await old.cmd(`auth ${side.password}`);
  for (const line of OLD_SUBSCRIPTION) await old.cmd(line);

  const connected = new Promise<void>((r) => control.once('connected', () => r()));
  control.start();
  await connected;
  const mine = randomUUID();
  const other = randomUUID();
  try {
    // The daemon watches its channel before its first command on it.
    t.match(await control.watchChannel(mine), { ok: true, value: `+OK filter added. [Unique-ID]=[${mine}]` }, `${side.name}: filter added`);
    t.match(await control.originate(`{origination_uuid=${mine}}loopback/issue-8-park/default`, '&park', 15_000), { ok: true, value: mine },
      `${side.name}: originate through the control connection (its BACKGROUND_JOB passes the filters)`);
    t.match(await side.api(`originate {origination_uuid=${other}}loopback/issue-8-park/default &park`), /^\+OK /, `${side.name}: an unrelated call`);
    // The old subscription sees both calls being set up; the new one none of it.
    await old.waitEvents((h) => h['Event-Name'] === 'CHANNEL_ANSWER' && h['Unique-ID'] === other, 1, 'the unrelated call answered');

    for (const uuid of [mine, other]) t.match(await side.api(`uuid_broadcast ${uuid} tone_stream://%(200,0,440) aleg`), /^\+OK/);
    await until(() => got.some((e) => e.name === 'PLAYBACK_STOP' && e.uuid === mine), `${side.name}: PLAYBACK_STOP of mine`);
    for (const uuid of [mine, other]) t.match(await control.audioStreamStart(uuid, wsUrl, 'mono', 8000), { ok: true });
    await until(() => got.some((e) => e.subclass === 'mod_audio_stream::play' && e.uuid === mine), `${side.name}: ::play of mine`);
    for (const uuid of [mine, other]) {
      t.match(await control.audioStreamStop(uuid), { ok: true });
      t.match(await control.audioStreamStart(uuid, 'ws://127.0.0.1:1/refused', 'mono', 8000), { ok: true });
    }
    await until(() => got.some((e) => e.subclass === 'mod_audio_stream::error' && e.uuid === mine), `${side.name}: ::error of mine`);
    // The other call's events of the same kinds have happened (seen by the old subscription).
    await old.waitEvents((h) => h['Event-Subclass'] === 'mod_audio_stream::error' && h['Unique-ID'] === other, 1, 'the other call\'s ::error');
    await old.settle();

    const names = (list: FsEvent[]): string[] => [...new Set(list.map(key))].sort();
    t.same(names(got.filter((e) => e.uuid === mine)),
      ['CUSTOM mod_audio_stream::error', 'CUSTOM mod_audio_stream::json', 'CUSTOM mod_audio_stream::play', 'PLAYBACK_START', 'PLAYBACK_STOP'],
      `${side.name}: the daemon's events of its own channel arrive`);
    t.same(got.filter((e) => e.uuid !== mine).map(key).filter((k) => k !== 'BACKGROUND_JOB'), [],
      `${side.name}: nothing else but BACKGROUND_JOB (no event of the other call, no channel life cycle)`);
    t.notOk(got.some((e) => e.uuid === other), `${side.name}: no event of the unrelated call`);
    const oldOther = old.events().filter((h) => h['Unique-ID'] === other);
    t.ok(oldOther.some((h) => h['Event-Name'] === 'PLAYBACK_STOP') && oldOther.some((h) => h['Event-Subclass'] === 'mod_audio_stream::play'),
      `${side.name}: the unrelated call did make such events (the old subscription received them)`);
    const oldUnwatched = old.events().filter((h) => h['Unique-ID'] !== undefined && h['Unique-ID'] !== mine);
    t.comment(`${side.name}: the control connection received ${got.length} events (${names(got).join(', ')}); the old subscription `
      + `${old.events().length} for the same traffic, ${oldUnwatched.length} of them of channels not watched (both legs of the other call, `
      + `the B leg of mine): ${[...new Set(oldUnwatched.map(hkey))].sort().join(', ')}`);

    // Unwatched: the channel's events stop; bgapi results still come.
    t.match(await control.unwatchChannel(mine), { ok: true, value: `+OK filter deleted. [Unique-ID][${mine}]` });
    const before = got.length;
    const oldStops = old.events().filter((h) => h['Event-Name'] === 'PLAYBACK_STOP' && h['Unique-ID'] === mine).length;
    t.match(await control.uuidBroadcast(mine, 'tone_stream://%(200,0,440)'), { ok: true });
    await old.waitEvents((h) => h['Event-Name'] === 'PLAYBACK_STOP' && h['Unique-ID'] === mine, oldStops + 1, 'the playback after unwatch');
    t.match(await control.uuidExists(mine), { ok: true, value: true });
    t.same(got.slice(before).map(key), ['BACKGROUND_JOB', 'BACKGROUND_JOB'], `${side.name}: after unwatch only the two jobs' results`);
    t.equal(metrics.errorCount('ESL_COMMAND_FAILED'), 0);
    t.equal(metrics.errorCount('ESL_BAD_EVENT'), 0);

    const sent = proxy.commands.map((c) => c.split('\n')[0]).filter((c) => !c.startsWith('bgapi '));
    t.same(sent, [
      `auth ${side.password}`,
      'event json BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::play mod_audio_stream::json mod_audio_stream::error',
      'filter Event-Name BACKGROUND_JOB',
      `filter Unique-ID ${mine}`,
      `filter delete Unique-ID ${mine}`,
    ], `${side.name}: the socket commands the control connection sent`);
  } finally {
    await side.api(`uuid_kill ${mine}`).catch(() => '');
    await side.api(`uuid_kill ${other}`).catch(() => '');
  }
}
