import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { MediaServer, parsePath, type MediaConnection, type MediaSink } from '../../../src/media/server.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const RAW = CAPTURES + '/audio-stream/raw/';
const handshake = readFileSync(RAW + 'handshake-request.bin');
const clientBytes = readFileSync(RAW + 'client-bytes-with-metadata.bin');

type Ev = [string, ...unknown[]];

class RecordingSink implements MediaSink {
  events: Ev[] = [];
  conn: MediaConnection | null = null;
  samples: number[] = [];
  waiters: Array<() => void> = [];
  throwOnAudio = false;
  onOpen(conn: MediaConnection): void { this.conn = conn; this.push(['open']); }
  onAudio(pcm: Int16Array, rate: number): void {
    for (const v of pcm) this.samples.push(v);
    this.push(['audio', pcm.length, rate]);
    if (this.throwOnAudio) throw new Error('sink failure');
  }
  onText(text: string): void { this.push(['text', text]); }
  onClose(code: number, reason: string): void { this.push(['close', code, reason]); }
  private push(e: Ev): void {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves once `pred` holds (checked on every event). */
  until(pred: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => { if (pred()) resolve(); else this.waiters.push(check); };
      check();
    });
  }
}

async function setup(t: Test, maxMessageBytes?: number) {
  const metrics = new MetricsRegistry();
  const server = new MediaServer({ logger: silentLogger(), metrics, host: '127.0.0.1', port: 0, maxMessageBytes });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  return { server, metrics, port };
}

function rawRequest(t: Test, port: number, parts: Buffer[]): Promise<{ head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    t.teardown(() => socket.destroy());
    let got = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', async () => {
      socket.setNoDelay(true);
      for (const p of parts) {
        socket.write(p);
        await new Promise((r) => setImmediate(r));
      }
    });
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.removeAllListeners('data');
        const rest = got.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve({ head: got.subarray(0, end).toString('latin1'), socket });
      }
    });
  });
}

/** The captured request with only the request-line path replaced. */
function capturedWithPath(path: string): Buffer {
  const s = handshake.toString('latin1');
  t.ok(s.startsWith('GET /raw?x=1 HTTP/1.1\r\n'));
  return Buffer.from(s.replace('GET /raw?x=1 ', `GET ${path} `), 'latin1');
}

function wsClient(t: Test, port: number, path: string): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  ws.on('error', () => {});
  t.teardown(() => ws.terminate());
  return ws;
}

function onceOpen(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => { ws.once('open', () => resolve()); ws.once('unexpected-response', (_r, res) => reject(new Error(String(res.statusCode)))); });
}

function refusedStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
}

t.test('parsePath', async (t) => {
  t.same(parsePath('/c1/tok'), { callId: 'c1', token: 'tok' });
  t.same(parsePath('/c1/tok/?x=1'), { callId: 'c1', token: 'tok' });
  t.equal(parsePath('/raw?x=1'), null);
  t.equal(parsePath('/a/b/c'), null);
  t.equal(parsePath('//tok'), null);
  t.equal(parsePath('/a%20b/tok'), null);
  t.equal(parsePath(''), null);
});

t.test('libwsc handshake as captured gets 101, split at every byte offset', async (t) => {
  const { server, port } = await setup(t);
  const req = capturedWithPath('/call-1/s3cr3t-T0ken?x=1');
  for (let cut = 0; cut < req.length; cut++) {
    const sink = new RecordingSink();
    server.expect('call-1', 's3cr3t-T0ken', sink);
    const { head, socket } = await rawRequest(t, port, [req.subarray(0, cut), req.subarray(cut)]);
    if (!/^HTTP\/1\.1 101 /.test(head) || !/\r\nSec-WebSocket-Accept: /i.test(head)) t.fail(`cut ${cut}: ${head}`);
    if (/Sec-WebSocket-(Extensions|Protocol)/i.test(head)) t.fail(`cut ${cut}: no deflate, no subprotocol`);
    if (cut === 0) t.pass(head.split('\r\n')[0]);
    await sink.until(() => sink.events.length > 0);
    socket.destroy();
    await sink.until(() => sink.events.some((e) => e[0] === 'close'));
  }
});

t.test('captured client bytes: metadata text, 11 audio frames, close 1000 "bye"', async (t) => {
  const { server, port, metrics } = await setup(t);
  const sink = new RecordingSink();
  server.expect('c2', 'tok', sink);
  const bytes = Buffer.concat([capturedWithPath('/c2/tok?x=1'), clientBytes.subarray(handshake.length)]);
  t.same(clientBytes.subarray(0, handshake.length), handshake);
  const { head } = await rawRequest(t, port, [bytes]);
  t.match(head, /^HTTP\/1\.1 101 /);
  await sink.until(() => sink.events.some((e) => e[0] === 'close'));
  t.same(sink.events[0], ['open']);
  t.same(sink.events[1], ['text', '{"hello":"raw"}']);
  const audio = sink.events.filter((e) => e[0] === 'audio');
  t.equal(audio.length, 11);
  t.ok(audio.every((e) => e[1] === 160 && e[2] === 8000));
  t.same(sink.events.at(-1), ['close', 1000, 'bye']);
  t.equal(metrics.counter('fsbridge_media_frames_in_total', '').get(), 11);
  t.equal(metrics.counter('fsbridge_media_bytes_in_total', '').get(), 11 * 320);
  t.equal(metrics.counter('fsbridge_media_text_in_total', '').get(), 1);
});

t.test('unknown call → 404, wrong token → 401, second stream → 409; all counted', async (t) => {
  const { server, port, metrics } = await setup(t);
  const sink = new RecordingSink();
  server.expect('c3', 'good', sink);
  t.equal(await refusedStatus(wsClient(t, port, '/nope/good')), 404);
  t.equal(await refusedStatus(wsClient(t, port, '/c3/bad')), 401);
  t.equal(await refusedStatus(wsClient(t, port, '/c3/goo')), 401);
  t.equal(await refusedStatus(wsClient(t, port, '/raw?x=1')), 404);
  const { head } = await rawRequest(t, port, [capturedWithPath('/c3/wrong')]);
  t.match(head, /^HTTP\/1\.1 401 /);
  t.equal(metrics.errorCount('MEDIA_UNKNOWN_TOKEN'), 5);
  const ok = wsClient(t, port, '/c3/good');
  await onceOpen(ok);
  t.equal(await refusedStatus(wsClient(t, port, '/c3/good')), 409);
  t.equal(metrics.errorCount('MEDIA_DUPLICATE_STREAM'), 1);
  const refused = metrics.counter('fsbridge_media_refused_upgrades_total', '');
  t.equal(refused.get({ reason: 'notFound' }) + refused.get({ reason: 'unauthorized' }) + refused.get({ reason: 'conflict' }), 6);
  t.equal(sink.events.filter((e) => e[0] === 'open').length, 1);
});

t.test('audio before metadata, odd byte counts carried, non-20 ms messages', async (t) => {
  const { server, port } = await setup(t);
  const sink = new RecordingSink();
  server.expect('c4', 'tok', sink, { sampleRateHz: 16000 });
  const ws = wsClient(t, port, '/c4/tok');
  await onceOpen(ws);
  const stream = Buffer.alloc(700);
  for (let i = 0; i < 350; i++) stream.writeInt16LE(i * 37 - 6000, 2 * i);
  ws.send(stream.subarray(0, 3));
  ws.send(stream.subarray(3, 333));
  ws.send('{"meta":1}');
  ws.send(stream.subarray(333, 700));
  await sink.until(() => sink.samples.length === 350);
  t.same(sink.samples, Array.from({ length: 350 }, (_, i) => i * 37 - 6000));
  t.same(sink.events.map((e) => e[0]), ['open', 'audio', 'audio', 'text', 'audio']);
  t.ok(sink.events.filter((e) => e[0] === 'audio').every((e) => e[2] === 16000));
});

t.test('oversize message closes 1009 and is counted', async (t) => {
  const { server, port, metrics } = await setup(t, 1000);
  const sink = new RecordingSink();
  server.expect('c5', 'tok', sink);
  const ws = wsClient(t, port, '/c5/tok');
  await onceOpen(ws);
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send(Buffer.alloc(1000));
  ws.send(Buffer.alloc(1001));
  t.equal(await closed, 1009);
  await sink.until(() => sink.events.some((e) => e[0] === 'close'));
  t.equal(sink.events.filter((e) => e[0] === 'audio').length, 1);
  t.equal(metrics.errorCount('MEDIA_OVERSIZE_MESSAGE'), 1);
});

t.test('conn.sendText reaches FreeSWITCH; conn.close sends the code', async (t) => {
  const { server, port } = await setup(t);
  const sink = new RecordingSink();
  server.expect('c6', 'tok', sink);
  const ws = wsClient(t, port, '/c6/tok');
  const got = new Promise<string>((r) => ws.once('message', (d, bin) => r(bin ? 'binary' : d.toString())));
  await onceOpen(ws);
  await sink.until(() => sink.conn !== null);
  sink.conn!.sendText('{"type":"streamAudio"}');
  t.equal(await got, '{"type":"streamAudio"}');
  const closed = new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, why.toString()])));
  sink.conn!.close(4000, 'done');
  sink.conn!.close(4000, 'done');
  t.same(await closed, [4000, 'done']);
  await sink.until(() => sink.events.some((e) => e[0] === 'close'));
  t.same(sink.events.at(-1), ['close', 4000, 'done']);
  t.equal(server.openStreams, 0);
});

t.test('forget closes the stream without callbacks and refuses later upgrades', async (t) => {
  const { server, port } = await setup(t);
  const sink = new RecordingSink();
  server.expect('c7', 'tok', sink);
  const ws = wsClient(t, port, '/c7/tok');
  await onceOpen(ws);
  await sink.until(() => sink.conn !== null);
  t.equal(server.openStreams, 1);
  const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
  server.forget('c7');
  server.forget('c7');
  t.equal(await closed, 1000);
  t.same(sink.events, [['open']]);
  t.equal(await refusedStatus(wsClient(t, port, '/c7/tok')), 404);
});

t.test('a throwing sink is counted and the stream continues', async (t) => {
  const { server, port, metrics } = await setup(t);
  const sink = new RecordingSink();
  sink.throwOnAudio = true;
  server.expect('c8', 'tok', sink);
  const ws = wsClient(t, port, '/c8/tok');
  await onceOpen(ws);
  ws.send(Buffer.alloc(320));
  ws.send(Buffer.alloc(320));
  ws.send('after');
  await sink.until(() => sink.events.some((e) => e[0] === 'text'));
  t.equal(metrics.errorCount('MEDIA_SINK_THREW'), 2);
});

t.test('a plain HTTP request gets 426; close() terminates streams and is idempotent', async (t) => {
  const { server, port } = await setup(t);
  const res = await fetch(`http://127.0.0.1:${port}/c9/tok`);
  t.equal(res.status, 426);
  await res.text();
  const sink = new RecordingSink();
  server.expect('c9', 'tok', sink);
  const ws = wsClient(t, port, '/c9/tok');
  await onceOpen(ws);
  const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
  await Promise.all([server.close(), server.close()]);
  t.equal(await closed, 1006);
  await sink.until(() => sink.events.some((e) => e[0] === 'close'));
  t.equal(server.openStreams, 0);
});

t.test('re-expect moves an open stream to the new sink; after a close the call can connect again', async (t) => {
  const { server, port } = await setup(t);
  const first = new RecordingSink();
  server.expect('c10', 'tok', first);
  const ws1 = wsClient(t, port, '/c10/tok');
  await onceOpen(ws1);
  await first.until(() => first.conn !== null);
  const second = new RecordingSink();
  server.expect('c10', 'tok2', second, { sampleRateHz: 16000 });
  ws1.send(Buffer.alloc(640));
  await second.until(() => second.events.some((e) => e[0] === 'audio'));
  t.same(second.events[0], ['audio', 320, 16000]);
  ws1.close(1000, 'restart');
  await second.until(() => second.events.some((e) => e[0] === 'close'));
  t.equal(await refusedStatus(wsClient(t, port, '/c10/tok')), 401, 'the old token no longer works');
  const ws2 = wsClient(t, port, '/c10/tok2');
  await onceOpen(ws2);
  await second.until(() => second.events.filter((e) => e[0] === 'open').length === 1);
  t.equal(server.openStreams, 1);
});
