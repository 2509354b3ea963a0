// Differential test of the FreeSWITCH twin: the same Event Socket exchanges (the ones fsbridge's
// daemon uses: src/esl/control.ts, commands.ts, events.ts, calls/media-leg.ts) replayed byte for
// byte against the real FreeSWITCH 1.10.12 (+ community mod_audio_stream) and against the twin,
// and what a client sees compared (test/helpers/real/esl-diff.ts says what is compared and what
// is normalised). The real program is right: a difference is a bug of the twin.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { freeTcpPort } from '../helpers/real/ports.js';
import { KEY_HEADERS, diffTranscripts, formatDiff, type DiffOptions, type Difference } from '../helpers/real/esl-diff.js';
import { RawEsl } from '../helpers/real/raw-esl.js';
import { ROOT } from '../helpers/process.js';
import { FreeswitchTwin } from '../../src/sim/freeswitch/index.js';
import { Fifo } from '../../src/media/fifo.js';

const skip = realSkipReason();

// Laid into the real FreeSWITCH as a drop-in and into the twin's dialplan folder alike.
const EXTENSIONS = `<include>
  <extension name="diff-park">
    <condition field="destination_number" expression="^diff-park$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="diff-tone">
    <condition field="destination_number" expression="^diff-tone$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(300,0,440)"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/**
 * The events compared: wider than the daemon's own subscription (src/esl/events.ts, narrowed by
 * issue 8), so that channel life cycle, DTMF and every mod_audio_stream subclass are compared too.
 */
const SUBSCRIBE = 'event json CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE_COMPLETE DTMF '
  + 'BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::connect mod_audio_stream::disconnect '
  + 'mod_audio_stream::error mod_audio_stream::json mod_audio_stream::play';
/** A uuid no channel has. */
const NO_SUCH_UUID = 'd1ff0000-0000-4000-8000-000000000000';

/** One server under test. */
interface Side {
  readonly name: 'real' | 'twin';
  readonly port: number;
  readonly password: string;
  /** An api command on a connection of its own (not recorded): for waiting on state. */
  probe(cmd: string): Promise<string>;
}

/** What the test's WebSocket server saw of one mod_audio_stream connection. */
interface WsSeen { path: string; texts: string[]; binaryFrames: number; close?: { code: number; reason: string } }

type Script = (c: RawEsl, side: Side) => Promise<void>;

const ev = (name: string, more: Record<string, string> = {}) => (h: Record<string, string>): boolean =>
  h['Event-Name'] === name && Object.entries(more).every(([k, v]) => h[k] === v);
const custom = (subclass: string) => ev('CUSTOM', { 'Event-Subclass': subclass });

/** Normalises the parts of `status` that are counters and uptime: only its shape is compared. */
function statusShape(text: string): string {
  if (!text.startsWith('UP ')) return text;
  return text.replace(/\d+ (year|day|hour|minute|second|millisecond|microsecond)s?\b/g, 'N $1').replace(/\d+(\.\d+)?/g, 'N');
}

/**
 * `show channels as json` rows sorted by channel name: FreeSWITCH orders them by created_epoch
 * (seconds), so the two legs of one call come in either order.
 */
function sortedChannelRows(text: string): string {
  if (!text.startsWith('{"row_count":') || !text.includes('"rows":')) return text;
  try {
    const o = JSON.parse(text) as { row_count: number; rows: Array<Record<string, string>> };
    o.rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return JSON.stringify(o);
  } catch {
    return text;
  }
}

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `show channels` lags behind on the real FreeSWITCH (core db written asynchronously). */
async function channelCount(side: Side, n: number): Promise<void> {
  await waitUntil(async () => new RegExp(`"row_count":\\s*${n}[,}]`).test(await side.probe('show channels as json')), `${side.name}: ${n} channels`);
}

/**
 * Waits until both legs of the call to `ext` run `park` (their CHANNEL_EXECUTE reached the core
 * db). Without it, a uuid_kill could race the leg's next application in the real FreeSWITCH, and
 * the events would depend on who won.
 */
async function parked(side: Side, ext: string): Promise<void> {
  await waitUntil(async () => {
    const body = await side.probe('show channels as json');
    let rows: Array<Record<string, string>> = [];
    try { rows = (JSON.parse(body) as { rows?: Array<Record<string, string>> }).rows ?? []; } catch { /* not yet */ }
    return ['a', 'b'].every((leg) => rows.some((r) => r.name === `loopback/${ext}-${leg}` && r.application === 'park'));
  }, `${side.name}: both legs of ${ext} parked`);
}

async function auth(c: RawEsl, side: Side): Promise<void> {
  await c.reply('auth/request');
  await c.cmd(`auth ${side.password}`);
}

/**
 * Waits until `show channels as json` gave the same answer for 500 ms: the real core db applies
 * its updates in batches from two queues, so a row can show a state older than its events.
 */
async function dbSettled(side: Side): Promise<void> {
  let last = '';
  let since = Date.now();
  await waitUntil(async () => {
    const body = await side.probe('show channels as json');
    if (body !== last) { last = body; since = Date.now(); }
    return Date.now() - since >= 500;
  }, `${side.name}: show channels settled`);
}

/** Originates a loopback call to `ext` with A-leg uuid `uuid`; waits until both legs are parked. */
async function call(c: RawEsl, side: Side, uuid: string, ext: string, verb: 'api' | 'bgapi'): Promise<void> {
  const line = `originate {origination_uuid=${uuid}}loopback/${ext}/default &park`;
  if (verb === 'api') await c.cmd(`api ${line}`); else await c.bgapi(line);
  await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'answer', 'Channel-Name': `loopback/${ext}-b` }), 1, 'answer on the B leg');
  await parked(side, ext);
}

/** uuid_kill, then both legs' CHANNEL_HANGUP_COMPLETE. */
async function kill(c: RawEsl, uuid: string, verb: 'api' | 'bgapi'): Promise<void> {
  if (verb === 'api') await c.cmd(`api uuid_kill ${uuid} NORMAL_CLEARING`); else await c.bgapi(`uuid_kill ${uuid} NORMAL_CLEARING`);
  await c.waitEvents(ev('CHANNEL_HANGUP_COMPLETE'), 2, 'both legs hung up');
}

/** The daemon's commands on a channel that does not exist. */
function unknownUuidCommands(wsUrl: string): string[] {
  const u = NO_SUCH_UUID;
  return [
    `uuid_exists ${u}`, `uuid_kill ${u} NORMAL_CLEARING`, `uuid_getvar ${u} fsbridge_call_id`, `uuid_setvar ${u} fsbridge_x 1`,
    `uuid_broadcast ${u} tone_stream://%(100,0,440) aleg`, `uuid_break ${u} all`, `uuid_send_dtmf ${u} 1`,
    `uuid_transfer ${u} diff-park`, `uuid_answer ${u}`, `uuid_audio_stream ${u} start ${wsUrl} mono 8k`, `uuid_audio_stream ${u} stop`,
    'no_such_command', 'show channels as json', 'show channels', 'global_getvar fsbridge_outbound_socket',
    'global_getvar fsbridge_no_such_global', 'uuid_send_dtmf', 'uuid_broadcast', 'uuid_kill',
  ];
}

/** The daemon's commands on a live loopback channel (A leg `uuid`), with the events they cause. */
async function liveChannelCommands(c: RawEsl, side: Side, uuid: string, verb: 'api' | 'bgapi'): Promise<void> {
  const run = (line: string): Promise<unknown> => (verb === 'api' ? c.cmd(`api ${line}`) : c.bgapi(line));
  await run(`uuid_exists ${uuid}`);
  await run(`uuid_getvar ${uuid} loopback_leg`);
  await run(`uuid_getvar ${uuid} fsbridge_unset`);
  await run(`uuid_setvar ${uuid} fsbridge_x two words`);
  await run(`uuid_getvar ${uuid} fsbridge_x`);
  await run(`uuid_answer ${uuid}`);
  await run(`uuid_send_dtmf ${uuid} 12`);
  await c.waitEvents(ev('DTMF'), 2, 'two DTMF events');
  await dbSettled(side);
  await run('show channels as json');
  await run(`uuid_break ${uuid}`);
  await run(`uuid_break ${uuid} all`);
  await run(`uuid_transfer ${uuid} diff-park`);
  await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'answer', 'Unique-ID': uuid }), 1, 'the A leg answered after the transfer');
  await parked(side, 'diff-park');
  await kill(c, uuid, verb);
}

t.test('differential ESL: the twin answers as the real FreeSWITCH does', { skip }, async (t) => {
  const obPort = await freeTcpPort();
  const fs = await RealFreeswitch.start(t, { outboundSocketPort: obPort, dropIns: { 'dialplan/default/diff.xml': EXTENSIONS } });

  const work = mkdtempSync(join(tmpdir(), 'fsbridge-diff-esl-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dialplanDir = join(work, 'dialplan');
  mkdirSync(join(dialplanDir, 'default'), { recursive: true });
  copyFileSync(join(ROOT, 'dialplans', 'fsbridge.xml'), join(dialplanDir, 'fsbridge.xml'));
  copyFileSync(join(ROOT, 'dialplans', 'default', 'fsbridge-bots.xml'), join(dialplanDir, 'default', 'fsbridge-bots.xml'));
  writeFileSync(join(dialplanDir, 'default', 'diff.xml'), EXTENSIONS);
  const twin = new FreeswitchTwin({
    host: '127.0.0.1', port: 0, password: fs.password, dialplanDir, tempDir: join(work, 'twin-tmp'),
    globals: { fsbridge_outbound_socket: `127.0.0.1:${obPort}` },
  });
  await twin.start();
  t.teardown(() => twin.close());

  // One WebSocket server for mod_audio_stream: /talk answers with a JSON text and a streamAudio
  // message, /close closes right after the upgrade. The sides run one after the other.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  t.teardown(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
  const wsPort = (wss.address() as { port: number }).port;
  let wsSeen: WsSeen[] = [];
  wss.on('connection', (ws: WebSocket, req) => {
    const seen: WsSeen = { path: req.url ?? '', texts: [], binaryFrames: 0 };
    wsSeen.push(seen);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) seen.binaryFrames++; else seen.texts.push(data.toString('utf8'));
    });
    ws.on('close', (code, reason) => { seen.close = { code, reason: reason.toString() }; });
    if (seen.path === '/close') ws.close(1000, 'bye');
    if (seen.path === '/talk') {
      ws.send(JSON.stringify({ event: 'diff', n: 1 }));
      ws.send(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: Buffer.alloc(320).toString('base64') } }));
    }
  });
  const deadPort = await freeTcpPort();

  const sides: Side[] = [
    { name: 'real', port: fs.eslPort, password: fs.password, probe: (cmd) => fs.api(cmd) },
    { name: 'twin', port: twin.port, password: fs.password, probe: (cmd) => twin.api(cmd) },
  ];

  /** Runs `script` against each side in turn, records, and compares. */
  const scenario = (name: string, script: Script, o: DiffOptions & { ws?: boolean } = {}): Promise<unknown> => t.test(name, async (t) => {
    const transcripts = [];
    const ws: WsSeen[][] = [];
    const outcome: string[] = [];
    for (const side of sides) {
      wsSeen = [];
      const c = await RawEsl.open(side.port);
      t.teardown(() => c.close());
      try {
        await script(c, side);
        await c.settle();
        outcome.push('completed');
      } catch (err) {
        // A side that never sends what the script waits for: still compare what it did send.
        outcome.push(`stopped: ${(err as Error).message}`);
      } finally {
        c.close();
        // Leave no channel behind for the next scenario.
        await side.probe('hupall MANAGER_REQUEST');
        await channelCount(side, 0);
      }
      transcripts.push(c.transcript());
      ws.push(wsSeen);
    }
    // FSBRIDGE_DIFF_ALL_HEADERS=1 compares the value of every event header (a survey: timestamps
    // and counters then differ as well).
    const diffs: Difference[] = diffTranscripts(transcripts[0], transcripts[1], process.env.FSBRIDGE_DIFF_ALL_HEADERS ? { ...o, keyHeaders: 'all' } : o);
    if (outcome[0] !== outcome[1]) diffs.unshift({ where: 'script', real: outcome[0], twin: outcome[1] });
    if (o.ws) {
      // What the WebSocket server saw: paths, text messages (start metadata first), close code.
      // Whether audio arrived is compared on /talk only, where the script waits for it: on /close
      // it depends on how soon the server's close beats the first audio frame.
      const shape = (list: WsSeen[]): string => JSON.stringify(list.map((s) => ({
        path: s.path, texts: s.texts, audio: s.path === '/talk' ? s.binaryFrames > 0 : undefined, close: s.close,
      })));
      if (shape(ws[0]) !== shape(ws[1])) diffs.push({ where: 'WebSocket server', real: shape(ws[0]), twin: shape(ws[1]) });
    }
    if (diffs.length > 0) t.comment(formatDiff(name, diffs));
    t.equal(diffs.length, 0, `${name}: no difference (see the comment above for any)`);
  });

  await scenario('auth accepted, then exit', async (c, side) => {
    await auth(c, side);
    await c.cmd('exit');
    await c.closed();
  });

  await scenario('auth with a wrong password', async (c) => {
    await c.reply('auth/request');
    await c.cmd('auth not-the-password');
    await c.closed();
  });

  await scenario('a command before auth', async (c, side) => {
    await c.reply('auth/request');
    await c.cmd('api status');
    await c.cmd(`auth ${side.password}`);
  });

  await scenario('api status (shape only: uptime and counters differ)', async (c, side) => {
    await auth(c, side);
    await c.cmd('api status');
  }, { body: statusShape });

  await scenario('api without a channel', async (c, side) => {
    await auth(c, side);
    for (const cmd of unknownUuidCommands(`ws://127.0.0.1:${wsPort}/talk`)) await c.cmd(`api ${cmd}`);
  });

  await scenario('bgapi without a channel', async (c, side) => {
    await auth(c, side);
    await c.cmd('event json BACKGROUND_JOB');
    for (const cmd of unknownUuidCommands(`ws://127.0.0.1:${wsPort}/talk`)) await c.bgapi(cmd);
  });

  const uuidA = randomUUID();
  await scenario('loopback call: the events of both legs (bgapi originate, uuid_kill)', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidA, 'diff-park', 'bgapi');
    await kill(c, uuidA, 'bgapi');
  });

  const uuidH = randomUUID();
  await scenario('originate to an extension that does not exist', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await c.bgapi(`originate {origination_uuid=${uuidH}}loopback/diff-nowhere/default &park`);
    await c.waitEvents(ev('CHANNEL_HANGUP_COMPLETE'), 2, 'both legs gone');
  });

  const uuidB = randomUUID();
  await scenario('api on a live loopback channel', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidB, 'diff-park', 'api');
    await liveChannelCommands(c, side, uuidB, 'api');
  }, { body: sortedChannelRows });

  const uuidC = randomUUID();
  await scenario('bgapi on a live loopback channel', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidC, 'diff-park', 'bgapi');
    await liveChannelCommands(c, side, uuidC, 'bgapi');
  }, { body: sortedChannelRows });

  const uuidD = randomUUID();
  await scenario('uuid_broadcast of a tone_stream, played out and broken off', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidD, 'diff-park', 'bgapi');
    await c.bgapi(`uuid_broadcast ${uuidD} tone_stream://%(200,0,440) aleg`);
    await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback', 'Unique-ID': uuidD }), 1, 'the first playback done');
    await c.bgapi(`uuid_broadcast ${uuidD} tone_stream://%(10000,0,440) aleg`);
    await c.waitEvents(ev('PLAYBACK_START'), 2, 'the second playback started');
    await c.bgapi(`uuid_break ${uuidD} all`);
    await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback', 'Unique-ID': uuidD }), 2, 'the second playback broken off');
    await kill(c, uuidD, 'bgapi');
  });

  const uuidP = randomUUID();
  const pipeDir = mkdtempSync(join(tmpdir(), 'fsbridge-diff-pipe-'));
  t.teardown(() => rmSync(pipeDir, { recursive: true, force: true }));
  await scenario('uuid_broadcast of a named pipe (.L16, as pipe playback): played while written, ended by its writer', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidP, 'diff-park', 'bgapi');
    const frame = Buffer.alloc(320);
    const fifo = await Fifo.create(join(pipeDir, `${uuidP}.L16`));
    try {
      for (let i = 0; i < 2; i++) fifo.write(frame);
      await c.bgapi(`uuid_broadcast ${uuidP} ${fifo.path} aleg`);
      await c.waitEvents(ev('PLAYBACK_START'), 1, 'the pipe playing');
      for (let i = 0; i < 10; i++) fifo.write(frame);
    } finally {
      fifo.close(); // the end of the file once what is in it is read
    }
    await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback', 'Unique-ID': uuidP }), 1, 'the pipe played out');
    await kill(c, uuidP, 'bgapi');
  });

  const uuidQ = randomUUID();
  await scenario('uuid_broadcast of a named pipe fed every 20 ms, broken off', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidQ, 'diff-park', 'bgapi');
    const frame = Buffer.alloc(320);
    // Fed every 20 ms, as fsbridge feeds it: a real FreeSWITCH reading an empty pipe blocks in
    // read(), and a uuid_break then waits for the next frame (seen on 1.10.12: never, with no writes).
    const fifo = await Fifo.create(join(pipeDir, `${uuidQ}.L16`));
    fifo.write(frame);
    const feed = setInterval(() => fifo.write(frame), 20);
    try {
      await c.bgapi(`uuid_broadcast ${uuidQ} ${fifo.path} aleg`);
      await c.waitEvents(ev('PLAYBACK_START'), 1, 'the pipe playing');
      await c.bgapi(`uuid_break ${uuidQ} all`);
      await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback', 'Unique-ID': uuidQ }), 1, 'the pipe broken off');
    } finally {
      clearInterval(feed);
      fifo.close();
    }
    await kill(c, uuidQ, 'bgapi');
    // how much of a fed pipe was read before the break depends on timing (counted in the scenario above)
  }, { keyHeaders: KEY_HEADERS.filter((h) => h !== 'variable_playback_samples' && h !== 'variable_playback_seconds') });

  const uuidE = randomUUID();
  await scenario('playback of a tone_stream from the dialplan (B leg)', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidE, 'diff-tone', 'bgapi');
    await c.waitEvents(ev('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback' }), 1, 'playback complete');
    await kill(c, uuidE, 'bgapi');
  });

  const uuidF = randomUUID();
  await scenario('uuid_audio_stream: start, server text and streamAudio, stop', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidF, 'diff-park', 'bgapi');
    await c.bgapi(`uuid_audio_stream ${uuidF} start ws://127.0.0.1:${wsPort}/talk mono 8k {"fsbridge":"diff"}`);
    await c.waitEvents(custom('mod_audio_stream::connect'), 1, '::connect');
    await c.waitEvents(custom('mod_audio_stream::json'), 1, '::json');
    await c.waitEvents(custom('mod_audio_stream::play'), 1, '::play');
    await waitUntil(async () => wsSeen.some((w) => w.binaryFrames > 0), 'audio at the WebSocket server');
    await c.bgapi(`uuid_audio_stream ${uuidF} start ws://127.0.0.1:${wsPort}/talk mono 8k`);
    await c.bgapi(`uuid_audio_stream ${uuidF} stop`);
    await c.bgapi(`uuid_audio_stream ${uuidF} stop`);
    await kill(c, uuidF, 'bgapi');
  }, { ws: true });

  const uuidG = randomUUID();
  await scenario('uuid_audio_stream: the server closes, then refused', async (c, side) => {
    await auth(c, side);
    await c.cmd(SUBSCRIBE);
    await call(c, side, uuidG, 'diff-park', 'bgapi');
    await c.bgapi(`uuid_audio_stream ${uuidG} start ws://127.0.0.1:${wsPort}/close mono 16k`);
    await c.waitEvents(custom('mod_audio_stream::disconnect'), 1, '::disconnect');
    await c.bgapi(`uuid_audio_stream ${uuidG} stop`);
    await c.bgapi(`uuid_audio_stream ${uuidG} start ws://127.0.0.1:${deadPort}/refused mono 8k`);
    await c.waitEvents(custom('mod_audio_stream::error'), 1, '::error');
    await c.bgapi(`uuid_audio_stream ${uuidG} stop`);
    await kill(c, uuidG, 'bgapi');
  }, { ws: true });
});
