import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { WebSocketServer, type WebSocket } from 'ws';
import { BotConnection, type BotConnectionOptions } from '../../../src/bots/client.js';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { closedPort, rawServer, record } from './helpers.js';

async function wsServer(t: Test, opts: { server?: http.Server | https.Server } = {}): Promise<{
  wss: WebSocketServer; url: string; peer: Promise<{ ws: WebSocket; req: http.IncomingMessage }>;
}> {
  const wss = opts.server ? new WebSocketServer({ server: opts.server }) : new WebSocketServer({ port: 0, host: '127.0.0.1' });
  if (!opts.server) await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = ((opts.server ?? wss).address() as AddressInfo).port;
  const peer = new Promise<{ ws: WebSocket; req: http.IncomingMessage }>((r) => wss.once('connection', (ws, req) => r({ ws, req })));
  t.teardown(() => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
  return { wss, url: `${opts.server instanceof https.Server ? 'wss' : 'ws'}://127.0.0.1:${port}/bot`, peer };
}

function conn(t: Test, opts: BotConnectionOptions): BotConnection {
  const c = new BotConnection(opts);
  t.teardown(() => c.close());
  return c;
}

t.test('opens, sends headers, exchanges text and binary, bot closes with 1000 = normal', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url, headers: { Authorization: 'Bearer s3cret' } });
  const r = record(c);
  c.connect();
  await r.opened;
  const { ws, req } = await peer;
  t.equal(req.headers.authorization, 'Bearer s3cret');
  t.equal(c.state, 'open');
  const got: { data: string; isBinary: boolean }[] = [];
  const two = new Promise<void>((res) => ws.on('message', (d, isBinary) => {
    got.push({ data: d.toString(), isBinary });
    if (got.length === 2) res();
  }));
  t.equal(c.send('{"event":"connected"}'), true);
  t.equal(c.send(Buffer.from('abc')), true);
  await two;
  t.same(got, [{ data: '{"event":"connected"}', isBinary: false }, { data: 'abc', isBinary: true }]);
  ws.send('hello');
  ws.send(Buffer.from([1, 2, 3]));
  ws.close(1000, 'bye');
  const closed = await r.closed;
  t.equal(closed.code, 1000);
  t.equal(closed.reason, 'bye');
  t.same(closed.info, { normal: true, initiator: 'remote', opened: true });
  t.same(r.errors, []);
  t.same(r.messages.map((m) => [m.data.toString(), m.isBinary]), [['hello', false], ['\u0001\u0002\u0003', true]]);
  t.same(r.events, ['open', 'message', 'message', 'close']);
  t.equal(c.send('late'), false);
});

t.test('bot closes with 1001 = normal', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url });
  const r = record(c);
  c.connect();
  (await peer).ws.close(1001);
  const closed = await r.closed;
  t.equal(closed.code, 1001);
  t.equal(closed.info.normal, true);
  t.same(r.errors, []);
});

t.test('bot closes with 1011 = BOT_CLOSED_ABNORMALLY', async (t) => {
  const { url, peer } = await wsServer(t);
  const metrics = new MetricsRegistry();
  const c = conn(t, { url, metrics });
  const r = record(c);
  c.connect();
  await r.opened;
  (await peer).ws.close(1011, 'oops');
  const closed = await r.closed;
  t.equal(closed.code, 1011);
  t.equal(closed.info.normal, false);
  t.same(r.errors, ['BOT_CLOSED_ABNORMALLY']);
  t.same(r.events, ['open', 'error', 'close']);
  t.equal(metrics.errorCount('BOT_CLOSED_ABNORMALLY'), 1);
});

t.test('bot socket vanishes without close frame = 1006 + BOT_CLOSED_ABNORMALLY', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url });
  const r = record(c);
  c.connect();
  await r.opened;
  (await peer).ws.terminate();
  const closed = await r.closed;
  t.equal(closed.code, 1006);
  t.same(closed.info, { normal: false, initiator: 'remote', opened: true });
  t.same(r.errors, ['BOT_CLOSED_ABNORMALLY']);
});

t.test('refused port = BOT_CONNECT_REFUSED then close', async (t) => {
  const port = await closedPort();
  const metrics = new MetricsRegistry();
  const c = conn(t, { url: `ws://127.0.0.1:${port}/`, metrics });
  const r = record(c);
  c.connect();
  const closed = await r.closed;
  t.same(r.errors, ['BOT_CONNECT_REFUSED']);
  t.same(r.events, ['error', 'close']);
  t.same(closed.info, { normal: false, initiator: 'remote', opened: false });
  t.equal(metrics.errorCount('BOT_CONNECT_REFUSED'), 1);
  t.equal(c.state, 'closed');
});

t.test('server that accepts TCP but never upgrades = BOT_CONNECT_TIMEOUT (manual clock)', async (t) => {
  const srv = await rawServer({ upgrade: false });
  t.teardown(() => srv.close());
  const clock = new ManualClock();
  const c = conn(t, { url: `ws://127.0.0.1:${srv.port}/`, connectTimeoutMs: 3000, clock });
  const r = record(c);
  c.connect();
  await srv.connected;
  clock.advance(2999);
  t.equal(c.state, 'connecting');
  clock.advance(1);
  const closed = await r.closed;
  t.same(r.errors, ['BOT_CONNECT_TIMEOUT']);
  t.equal(closed.info.opened, false);
});

t.test('HTTP 401 on upgrade = BOT_HANDSHAKE_REJECTED', async (t) => {
  const server = http.createServer((_req, res) => { res.writeHead(401); res.end('no'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const c = conn(t, { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` });
  const r = record(c);
  c.connect();
  await r.closed;
  t.same(r.errors, ['BOT_HANDSHAKE_REJECTED']);
});

t.test('invalid URLs = BOT_BAD_URL then close', async (t) => {
  for (const url of ['not a url', 'http://127.0.0.1/', 'ftp://x/', 'ws://127.0.0.1:1/#frag']) {
    const c = conn(t, { url });
    const r = record(c);
    c.connect();
    await r.closed;
    t.same(r.errors, ['BOT_BAD_URL'], url);
    t.same(r.events, ['error', 'close'], url);
  }
});

t.test('message over maxPayloadBytes = BOT_OVERSIZE, connection closed', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url, maxPayloadBytes: 1000 });
  const r = record(c);
  c.connect();
  await r.opened;
  (await peer).ws.send(Buffer.alloc(1001));
  const closed = await r.closed;
  t.same(r.errors, ['BOT_OVERSIZE']);
  t.equal(closed.info.normal, false);
  t.equal(r.messages.length, 0);
});

t.test('invalid UTF-8 in a text frame reaches the adapter instead of closing the call', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url });
  const r = record(c);
  c.connect();
  await r.opened;
  const { ws } = await peer;
  const got = new Promise<void>((res) => c.on('message', () => res()));
  ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  await got;
  t.equal(r.messages[0].isBinary, false);
  t.same([...r.messages[0].data], [0x7b, 0xff, 0xfe, 0x7d]);
  t.equal(c.state, 'open');
});

t.test('close() sends 1000, is idempotent, close fires once', async (t) => {
  const { url, peer } = await wsServer(t);
  const c = conn(t, { url });
  const r = record(c);
  c.connect();
  await r.opened;
  const { ws } = await peer;
  const serverSaw = new Promise<number>((res) => ws.on('close', (code) => res(code)));
  c.close();
  c.close();
  c.close(4000);
  t.equal(c.state, 'closing');
  t.equal(await serverSaw, 1000);
  const closed = await r.closed;
  t.equal(closed.code, 1000);
  t.same(closed.info, { normal: true, initiator: 'local', opened: true });
  c.close();
  c.connect();
  await new Promise((res) => setImmediate(res));
  t.equal(r.closes.length, 1);
  t.same(r.errors, []);
});

t.test('close() while connecting abandons the handshake without an error', async (t) => {
  const srv = await rawServer({ upgrade: false });
  t.teardown(() => srv.close());
  const c = conn(t, { url: `ws://127.0.0.1:${srv.port}/` });
  const r = record(c);
  c.connect();
  await srv.connected;
  c.close();
  const closed = await r.closed;
  t.same(r.errors, []);
  t.same(closed.info, { normal: false, initiator: 'local', opened: false });
});

t.test('close() before connect() emits nothing and connect() is then a no-op', async (t) => {
  const c = conn(t, { url: 'ws://127.0.0.1:1/' });
  const r = record(c);
  c.close();
  c.connect();
  await new Promise((res) => setImmediate(res));
  t.same(r.events, []);
  t.equal(c.state, 'closed');
});

t.test('a bot that never answers our close frame is cut after closeTimeoutMs', async (t) => {
  const srv = await rawServer({ upgrade: true });
  t.teardown(() => srv.close());
  const clock = new ManualClock();
  const c = conn(t, { url: `ws://127.0.0.1:${srv.port}/`, clock, closeTimeoutMs: 500 });
  const r = record(c);
  c.connect();
  await r.opened;
  c.close();
  clock.advance(500);
  const closed = await r.closed;
  t.equal(closed.code, 1006);
  t.same(closed.info, { normal: false, initiator: 'local', opened: true });
  t.same(r.errors, []);
});

t.test('send() drops and counts once more than maxBufferedBytes wait', async (t) => {
  const srv = await rawServer({ upgrade: true, pause: true });
  t.teardown(() => srv.close());
  const metrics = new MetricsRegistry();
  const c = conn(t, { url: `ws://127.0.0.1:${srv.port}/`, maxBufferedBytes: 1024, metrics });
  const r = record(c);
  c.connect();
  await r.opened;
  await srv.upgraded;
  // 64 MiB cannot fit in loopback socket buffers while the peer does not read.
  t.equal(c.send(Buffer.alloc(64 * 1024 * 1024)), true);
  t.ok(c.bufferedAmount > 1024);
  t.equal(c.send('next'), false);
  t.equal(metrics.errorCount('BOT_SEND_DROPPED'), 1);
  c.close();
  for (const s of srv.sockets) s.destroy();
  await r.closed;
});

t.test('wss: untrusted certificate = BOT_TLS_FAILED; with ca it opens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    t.comment('openssl not available: TLS case not run');
    return;
  }
  const cert = readFileSync(join(dir, 'cert.pem'));
  const server = https.createServer({ cert, key: readFileSync(join(dir, 'key.pem')) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const { url } = await wsServer(t, { server });
  t.match(url, /^wss:/);

  const bad = conn(t, { url });
  const rb = record(bad);
  bad.connect();
  await rb.closed;
  t.same(rb.errors, ['BOT_TLS_FAILED']);

  const good = conn(t, { url, ca: cert });
  const rg = record(good);
  good.connect();
  await rg.opened;
  good.close();
  const closed = await rg.closed;
  t.equal(closed.info.normal, true);
  t.same(rg.errors, []);
});

t.test('close() right after connect() to a bad URL closes quietly', async (t) => {
  const c = conn(t, { url: 'nope' });
  const r = record(c);
  c.connect();
  c.close();
  const closed = await r.closed;
  t.same(r.errors, []);
  t.equal(closed.info.initiator, 'local');
  t.equal(r.closes.length, 1);
});
