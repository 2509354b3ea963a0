import t, { type Test } from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { OutboundSocketServer, type OutboundSocketServerOptions } from '../../../src/esl/outbound-server.js';
import type { OutboundSession } from '../../../src/esl/outbound-session.js';
import type { FsEvent } from '../../../src/esl/events.js';
import { waitFor } from './scripted-fs.js';
import {
  CONNECT_REPLY, defaultScript, executeComplete, OutboundPeer, reply, SOFIA_UUID, sofiaFrames, type Handler,
} from './outbound-peer.js';

async function makeServer(t: Test, over: Partial<OutboundSocketServerOptions> = {}) {
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const server = new OutboundSocketServer({ port: 0, logger: silentLogger(), metrics, clock, ...over });
  await server.listen();
  t.teardown(() => server.close());
  const sessions: OutboundSession[] = [];
  server.on('session', (s) => sessions.push(s));
  return { server, metrics, clock, sessions };
}

function peer(t: Test, port: number, handler?: Handler): OutboundPeer {
  const p = new OutboundPeer(port, handler);
  t.teardown(() => p.close());
  return p;
}

const eventUuidOf = (cmd: string): string => /\nevent-uuid: (\S+)/.exec(cmd)![1];

t.test('connect, channel data, myevents json, linger; answer/playback/hangup on captured bytes', async (t) => {
  const { server, sessions } = await makeServer(t);
  const frames = sofiaFrames();
  const p = peer(t, server.port, (cmd, peer) => {
    defaultScript(cmd, peer);
    if (cmd.includes('execute-app-name: answer')) {
      peer.write(frames[7]); peer.write(frames[8]); peer.write(frames[9]);
      peer.write(executeComplete(10, eventUuidOf(cmd)));
    }
    if (cmd.includes('execute-app-name: playback')) {
      peer.write(executeComplete(12, eventUuidOf(cmd)));
    }
    if (cmd.includes('call-command: hangup')) {
      for (const f of frames.slice(14, 21)) peer.write(f);
    }
  });
  await waitFor(() => sessions.length === 1, 'session');
  const s = sessions[0];
  t.equal(s.uuid, SOFIA_UUID);
  t.equal(s.getVar('channel_name'), 'sofia/external/0000000000@127.0.0.1', 'URL-decoded variable');
  t.equal(s.getVar('direction'), 'inbound');
  t.equal(s.getVar('nope'), undefined);
  t.equal(s.channelData.headers['Reply-Text'], '+OK\n');
  t.same(p.commands.map((c) => c.split('\n')[0]), ['connect', 'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE', 'myevents json', 'linger']);
  const events: FsEvent[] = [];
  const hangups: unknown[] = [];
  let closed = 0;
  s.on('event', (e) => events.push(e));
  s.on('hangup', (h) => hangups.push(h));
  s.on('close', () => closed++);
  t.match(await s.answer(), { ok: true, value: '_none_' });
  t.match(p.commands[4], /^sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-uuid: [0-9a-f-]{36}\nevent-lock: true$/);
  t.match(await s.playback('tone_stream://%(600,0,440)'), { ok: true, value: 'FILE PLAYED' });
  t.match(await s.hangup('NORMAL_CLEARING'), { ok: true });
  await waitFor(() => closed === 1 && p.closed, 'closed after CHANNEL_HANGUP_COMPLETE');
  t.same(hangups, [{ cause: 'NORMAL_CLEARING', causeCode: 16 }]);
  t.same(events.map((e) => e.name), [
    'CHANNEL_EXECUTE', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_ANSWER', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_EXECUTE_COMPLETE',
    'CHANNEL_HANGUP', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  t.match(await s.answer(), { ok: false, code: 'ESL_DISCONNECTED' }, 'after close');
  s.close();
  t.equal(closed, 1, 'close is emitted once');
  t.equal(server.connectionCount, 0);
});

t.test('peer never answers connect: ESL_OUTBOUND_TIMEOUT, socket closed', async (t) => {
  const { server, metrics, clock, sessions } = await makeServer(t, { handshakeTimeoutMs: 3000 });
  const p = peer(t, server.port, () => {});
  await waitFor(() => p.commands.length === 1, 'connect sent');
  t.equal(p.commands[0], 'connect');
  clock.advance(3000);
  await waitFor(() => p.closed, 'closed');
  t.equal(metrics.errorCount('ESL_OUTBOUND_TIMEOUT'), 1);
  t.equal(sessions.length, 0);
});

t.test('peer closes early: ESL_OUTBOUND_CLOSED_EARLY, no session', async (t) => {
  const { server, metrics, sessions } = await makeServer(t);
  peer(t, server.port, (_cmd, p) => p.close());
  await waitFor(() => metrics.errorCount('ESL_OUTBOUND_CLOSED_EARLY') === 1, 'counted');
  t.equal(sessions.length, 0);
  t.equal(server.connectionCount, 0);
});

t.test('channel hangs up while connecting: no session, counted, server keeps working', async (t) => {
  const { server, metrics, sessions } = await makeServer(t);
  const notice = 'Content-Type: text/disconnect-notice\nControlled-Session-UUID: ' + SOFIA_UUID +
    '\nContent-Disposition: disconnect\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
  peer(t, server.port, (cmd, p) => {
    if (cmd === 'linger') { p.write(sofiaFrames()[14]); p.write(notice); p.socket.end(); return; }
    defaultScript(cmd, p);
  });
  await waitFor(() => metrics.errorCount('ESL_OUTBOUND_CLOSED_EARLY') === 1, 'counted');
  t.equal(sessions.length, 0);
  peer(t, server.port);
  await waitFor(() => sessions.length === 1, 'next call still works');
});

t.test('a hang-up that races the handshake is delivered after the session event', async (t) => {
  const { server, sessions } = await makeServer(t);
  peer(t, server.port, (cmd, p) => {
    if (cmd === 'myevents json') { p.write(reply('+OK Events Enabled')); p.write(sofiaFrames()[14]); return; }
    defaultScript(cmd, p);
  });
  const hangups: unknown[] = [];
  server.on('session', (s) => s.on('hangup', (h) => hangups.push(h)));
  await waitFor(() => sessions.length === 1 && hangups.length === 1, 'hangup replayed');
  t.same(hangups, [{ cause: 'NORMAL_CLEARING', causeCode: 16 }]);
});

for (const [name, bytes, code] of [
  ['garbage', '\x00\x01\xffnot an esl frame\n\n', 'ESL_BAD_FRAME'],
  // before the channel data only a few KB are accepted (issue 8)
  ['oversize Content-Length before the channel data', 'Content-Type: api/response\nContent-Length: 65537\n\n', 'ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'],
] as const) {
  t.test(`${name}: ${code}, only that socket ends`, async (t) => {
    const { server, metrics, sessions } = await makeServer(t);
    const p = peer(t, server.port, (cmd, p) => { if (cmd === 'connect') p.write(bytes); });
    await waitFor(() => p.closed, 'closed');
    t.equal(metrics.errorCount(code), 1);
    peer(t, server.port);
    await waitFor(() => sessions.length === 1, 'server still accepts');
  });
}

t.test('oversize Content-Length in a session: ESL_FRAME_TOO_LARGE, the session closes', async (t) => {
  const { server, metrics, sessions } = await makeServer(t);
  const p = peer(t, server.port);
  await waitFor(() => sessions.length === 1, 'session');
  let closed = 0;
  sessions[0].on('close', () => closed++);
  p.write('Content-Type: api/response\nContent-Length: 16777217\n\n');
  await waitFor(() => p.closed && closed === 1, 'closed');
  t.equal(metrics.errorCount('ESL_FRAME_TOO_LARGE'), 1);
  t.equal(metrics.errorCount('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'), 0);
});

t.test('percent sequences that make decodeURIComponent throw do not crash the daemon', async (t) => {
  const { server, sessions } = await makeServer(t);
  const patched = Buffer.from(CONNECT_REPLY().toString('latin1').replace('variable_direction: inbound', 'variable_direction: inbound\nvariable_x_name: caf%E9 100%'), 'latin1');
  peer(t, server.port, (cmd, p) => {
    if (cmd === 'connect') { p.write(patched); return; }
    if (cmd === 'myevents json') { p.write(reply('+OK Events Enabled 100%')); return; }
    defaultScript(cmd, p);
  });
  await waitFor(() => sessions.length === 1, 'session');
  t.equal(sessions[0].getVar('x_name'), 'caf\ufffd 100%');
});

t.test('connect reply naming no channel: ESL_OUTBOUND_BAD_CHANNEL_DATA', async (t) => {
  const { server, metrics, sessions } = await makeServer(t);
  const noUuid = Buffer.from(CONNECT_REPLY().toString('latin1').split('\n').filter((l) => !/^(Unique-ID|Channel-Unique-ID):/.test(l)).join('\n'), 'latin1');
  const p = peer(t, server.port, (cmd, p) => { if (cmd === 'connect') p.write(noUuid); else defaultScript(cmd, p); });
  await waitFor(() => p.closed, 'closed');
  t.equal(metrics.errorCount('ESL_OUTBOUND_BAD_CHANNEL_DATA'), 1);
  t.equal(metrics.errorCount('ESL_OUTBOUND_CLOSED_EARLY'), 0, 'counted once, under its own code');
  t.equal(sessions.length, 0);
});

t.test('dialplan without `full`: myevents/linger refused → ESL_OUTBOUND_NOT_FULL', async (t) => {
  const { server, metrics, sessions } = await makeServer(t);
  const p = peer(t, server.port, (cmd, p) => { if (cmd === 'linger') p.write(reply('-ERR command not found')); else defaultScript(cmd, p); });
  await waitFor(() => p.closed, 'closed');
  t.equal(metrics.errorCount('ESL_OUTBOUND_NOT_FULL'), 1);
  t.equal(sessions.length, 0);
});

t.test('execute: refused sendmsg and timeout are typed results', async (t) => {
  const { server, sessions, clock, metrics } = await makeServer(t);
  peer(t, server.port, (cmd, p) => {
    if (cmd.includes('execute-app-name: bad_app')) { p.write(reply('-ERR invalid session id [x]')); return; }
    defaultScript(cmd, p);
  });
  await waitFor(() => sessions.length === 1, 'session');
  const s = sessions[0];
  t.match(await s.execute('bad_app', 'x'), { ok: false, code: 'ESL_COMMAND_FAILED', reply: '-ERR invalid session id [x]' });
  t.match(await s.execute('play back', ''), { ok: false, code: 'ESL_BAD_ARGUMENT' });
  t.match(await s.execute('playback', 'a\nb'), { ok: false, code: 'ESL_BAD_ARGUMENT' });
  const pending = s.execute('sleep', '1000', { timeoutMs: 500 });
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(500);
  t.match(await pending, { ok: false, code: 'ESL_COMMAND_TIMEOUT' });
  t.equal(metrics.errorCount('ESL_COMMAND_TIMEOUT'), 1);
  // The reply FIFO is still aligned: a later command gets its own reply.
  t.match(await s.hangup(), { ok: true });
});

t.test('close() ends every session and is idempotent', async (t) => {
  const { server, sessions } = await makeServer(t);
  const p = peer(t, server.port);
  await waitFor(() => sessions.length === 1, 'session');
  let closed = 0;
  sessions[0].on('close', () => closed++);
  await server.close();
  await server.close();
  await waitFor(() => p.closed, 'peer closed');
  t.equal(closed, 1);
});
