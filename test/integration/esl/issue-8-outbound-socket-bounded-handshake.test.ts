// Issue 8: any local client could connect to the outbound-socket port and make the daemon buffer
// a 16 MiB frame before the handshake (10 connections: +200 MB RSS). Until the channel data is
// validated, at most 64 KiB is accepted; a Content-Length above that is refused when its header
// arrives. Real FreeSWITCH channel data (about 6 KB) still sets up a session, and after that the
// normal frame limit applies again.
import t, { type Test } from 'tap';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { OutboundSocketServer, DEFAULT_HANDSHAKE_MAX_BYTES } from '../../../src/esl/outbound-server.js';
import type { OutboundSession } from '../../../src/esl/outbound-session.js';
import type { FsEvent } from '../../../src/esl/events.js';
import { fixture, waitFor } from '../../unit/esl/scripted-fs.js';
import { defaultScript, OutboundPeer, sofiaFrames, SOFIA_UUID } from '../../unit/esl/outbound-peer.js';

const KIB = 1024;
const BOUND_BYTES = 64 * KIB;
// Node reads a TCP socket 64 KiB at a time: the server may hold one read beyond the bound.
const READ_SLACK_BYTES = 64 * KIB;

async function makeServer(t: Test) {
  const metrics = new MetricsRegistry();
  let logged = '';
  const destination = new Writable({ write(c, _e, cb) { logged += c.toString(); cb(); } });
  // a manual clock: the handshake deadline never fires, only the size bound can end a socket
  const server = new OutboundSocketServer({ port: 0, logger: createLogger({ destination }), metrics, clock: new ManualClock() });
  await server.listen();
  t.teardown(() => server.close());
  const sessions: OutboundSession[] = [];
  server.on('session', (s) => sessions.push(s));
  const lines = (code: string) => logged.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.code === code);
  return { server, metrics, sessions, lines };
}

/** A raw client that is not FreeSWITCH: waits for `connect`, then writes `head` and streams `bodyBytes` of filler. */
async function flood(t: Test, port: number, head: string, bodyBytes: number, filler = 'a') {
  const sock: Socket = connect({ host: '127.0.0.1', port });
  t.teardown(() => sock.destroy());
  let closed = false;
  sock.on('error', () => {});
  sock.on('close', () => { closed = true; });
  await new Promise<void>((resolve) => sock.on('data', (d) => { if (d.toString().includes('connect\n\n')) resolve(); }));
  sock.write(head);
  const chunk = Buffer.alloc(64 * KIB, filler);
  let written = 0;
  while (written < bodyBytes && !closed) {
    const ok = sock.write(chunk.subarray(0, Math.min(chunk.length, bodyBytes - written)));
    written += Math.min(chunk.length, bodyBytes - written);
    if (!ok) await new Promise<void>((resolve) => { sock.once('drain', resolve); sock.once('close', resolve); });
  }
  await waitFor(() => closed, 'the server to close the socket');
  return { written };
}

t.test('a huge Content-Length before the handshake: refused at header time, socket closed, counted once', async (t) => {
  const { server, metrics, sessions, lines } = await makeServer(t);
  const total = 16 * 1024 * KIB;
  const { written } = await flood(t, server.port, `Content-Type: command/reply\nContent-Length: ${total}\n\n`, total);
  t.ok(written < total, `closed before the body was sent (${written} of ${total} bytes written)`);
  t.equal(metrics.errorCount('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'), 1);
  t.equal(metrics.errorCount('ESL_OUTBOUND_CLOSED_EARLY'), 0, 'counted once, under its own code');
  const logged = lines('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE');
  t.equal(logged.length, 1, 'one log line');
  t.equal(logged[0].limitBytes, BOUND_BYTES);
  t.ok(logged[0].bytesRead <= READ_SLACK_BYTES, `the server read ${logged[0].bytesRead} bytes, not the body`);
  t.equal(server.connectionCount, 0);
  t.equal(sessions.length, 0);
});

t.test('an endless header block before the handshake: closed after the bound', async (t) => {
  const { server, metrics, lines } = await makeServer(t);
  const { written } = await flood(t, server.port, 'Content-Type: command/reply\nX-Pad: ', 16 * 1024 * KIB);
  t.ok(written < 16 * 1024 * KIB);
  t.equal(metrics.errorCount('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'), 1);
  const [line] = lines('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE');
  t.ok(line.bytesRead <= BOUND_BYTES + READ_SLACK_BYTES, `the server read ${line.bytesRead} bytes`);
});

t.test('many small frames before the handshake: the bound is on all bytes before the channel data', async (t) => {
  const { server, metrics, lines } = await makeServer(t);
  const frame = `Content-Type: text/event-plain\nContent-Length: 1000\n\n${'x'.repeat(1000)}`;
  const { written } = await flood(t, server.port, frame.repeat(200), 16 * 1024 * KIB, '\n');
  t.ok(written < 16 * 1024 * KIB);
  t.equal(metrics.errorCount('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'), 1);
  const [line] = lines('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE');
  t.ok(line.bytesRead <= BOUND_BYTES + READ_SLACK_BYTES, `the server read ${line.bytesRead} bytes`);
});

t.test('real FreeSWITCH channel data is far below the bound and sets up a session; then big frames are fine', async (t) => {
  t.equal(DEFAULT_HANDSHAKE_MAX_BYTES, BOUND_BYTES);
  for (const name of ['sofia-json-connect-reply.raw', 'loopback-plain-connect-reply.raw']) {
    const size = fixture(`outbound-socket/${name}`).length;
    t.ok(size * 8 < BOUND_BYTES, `${name}: ${size} bytes, 8 times of it still under the bound`);
  }
  const { server, metrics, sessions } = await makeServer(t);
  const p = new OutboundPeer(server.port, defaultScript);
  t.teardown(() => p.close());
  await waitFor(() => sessions.length === 1, 'session');
  const s = sessions[0];
  t.equal(s.uuid, SOFIA_UUID);
  // an event of 256 KiB (a channel with huge variables) after the handshake: the normal limit applies
  const events: FsEvent[] = [];
  s.on('event', (e) => events.push(e));
  const frame = sofiaFrames().find((f) => f.includes('"Event-Name":"CHANNEL_EXECUTE"'))!;
  const cut = frame.indexOf('\n\n') + 2;
  const body = JSON.parse(frame.subarray(cut).toString('utf8'));
  body.variable_big = 'y'.repeat(256 * KIB);
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  p.write(Buffer.concat([Buffer.from(`Content-Length: ${json.length}\nContent-Type: text/event-json\n\n`), json]));
  await waitFor(() => events.length === 1, 'the big event');
  t.equal(events[0].name, 'CHANNEL_EXECUTE');
  t.equal(metrics.errorCount('ESL_OUTBOUND_HANDSHAKE_TOO_LARGE'), 0);
  t.equal(metrics.errorCount('ESL_FRAME_TOO_LARGE'), 0);
  t.equal(server.connectionCount, 1);
});
