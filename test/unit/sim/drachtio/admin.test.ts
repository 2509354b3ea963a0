// The twin's admin port spoken to byte by byte.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { DrachtioTwin } from '../../../../src/sim/drachtio/twin.js';
import { encodeFrame, FrameDecoder } from '../../../../src/sim/drachtio/framing.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../../src/observability/metrics.js';

async function setup(t: any) {
  const metrics = new MetricsRegistry();
  const twin = new DrachtioTwin({ adminPort: 0, sipPort: 0, secret: 'cymru', logger: silentLogger(), metrics });
  await twin.start();
  t.teardown(() => twin.close());
  const sock: Socket = connect(twin.adminPort, '127.0.0.1');
  t.teardown(() => sock.destroy());
  const dec = new FrameDecoder();
  const got: string[] = [];
  let closed = false;
  const waiters: (() => void)[] = [];
  sock.on('data', (b) => { got.push(...dec.push(b).payloads); waiters.splice(0).forEach((w) => w()); });
  sock.on('close', () => { closed = true; waiters.splice(0).forEach((w) => w()); });
  const until = async (pred: () => boolean) => { while (!pred()) await new Promise<void>((r) => waiters.push(r)); };
  await new Promise((r) => sock.once('connect', r));
  return { twin, sock, got, metrics, until, isClosed: () => closed };
}

t.test('authenticate, route, ping, remove_route', async (t) => {
  const { twin, sock, got, until } = await setup(t);
  sock.write(encodeFrame('m1|authenticate|cymru|'));
  await until(() => got.length >= 1);
  // drachtio-server v0.9.4-rc1 lists tcp first (test/real/differential-drachtio.real.test.ts)
  const hp = `tcp/127.0.0.1:${twin.sipPort},udp/127.0.0.1:${twin.sipPort}`;
  t.match(got[0], new RegExp(`^[0-9a-f-]{36}\\|response\\|m1\\|OK\\|${hp.replace(/\./g, '\\.')}\\|v0\\.9\\.4-rc1\\|`));
  // frames split mid-digits, duplicate routes accepted
  const w = Buffer.concat([encodeFrame('m2|route|invite'), encodeFrame('m3|route|invite'), encodeFrame('m4|ping'), encodeFrame('m5|remove_route|invite')]);
  sock.write(w.subarray(0, 1));
  sock.write(w.subarray(1, 20));
  sock.write(w.subarray(20));
  await until(() => got.length >= 5);
  t.same(got.slice(1).map((p) => p.split('|').slice(1).join('|')), ['response|m2|OK', 'response|m3|OK', 'response|m4|OK|pong', 'response|m5|OK']);
});

t.test('wrong secret: NO and close', async (t) => {
  const { sock, got, until, isClosed, metrics } = await setup(t);
  sock.write(encodeFrame('m1|authenticate|nope|'));
  await until(() => isClosed());
  t.equal(got[0].split('|').slice(1).join('|'), 'response|m1|NO|incorrect secret');
  t.equal(metrics.errorCount('SIP_SIM_AUTH_FAILED'), 1);
});

t.test('unknown type: NO and close', async (t) => {
  const { sock, got, until, isClosed, metrics } = await setup(t);
  sock.write(encodeFrame('m1|authenticate|cymru|'));
  sock.write(encodeFrame('m2|frobnicate|x'));
  await until(() => isClosed());
  t.equal(got[1].split('|').slice(1).join('|'), 'response|m2|NO|Unknown message type');
  t.equal(metrics.errorCount('SIP_SIM_UNKNOWN_MESSAGE'), 1);
});

t.test('six-digit length prefix: closed', async (t) => {
  const { sock, until, isClosed, metrics } = await setup(t);
  sock.write('100000#');
  await until(() => isClosed());
  t.equal(metrics.errorCount('SIP_SIM_BAD_FRAME'), 1);
});

t.test('non-digit prefix: closed', async (t) => {
  const { sock, until, isClosed, metrics } = await setup(t);
  sock.write('1x#a');
  await until(() => isClosed());
  t.equal(metrics.errorCount('SIP_SIM_BAD_FRAME'), 1);
});

t.test('route and ping before authenticate: answered, as drachtio-server does', async (t) => {
  const { sock, got, until, isClosed } = await setup(t);
  sock.write(encodeFrame('m1|route|invite'));
  sock.write(encodeFrame('m2|ping'));
  await until(() => got.length >= 2);
  t.same(got.map((p) => p.split('|').slice(1).join('|')), ['response|m1|OK', 'response|m2|OK|pong']);
  t.notOk(isClosed());
});

t.test('a message without a type: NO|Invalid message format and close', async (t) => {
  const { sock, got, until, isClosed } = await setup(t);
  sock.write(encodeFrame('lonely'));
  await until(() => isClosed());
  t.equal(got[0].split('|').slice(1).join('|'), 'response|lonely|NO|Invalid message format');
});

t.test('empty length prefix: the connection stays open but is no longer read', async (t) => {
  const { sock, got, until, isClosed, metrics } = await setup(t);
  sock.write(encodeFrame('m1|ping'));
  await until(() => got.length >= 1);
  sock.write(Buffer.concat([Buffer.from('#m2|ping'), encodeFrame('m3|ping')]));
  for (let i = 0; i < 500 && metrics.errorCount('SIP_SIM_BAD_FRAME') === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(metrics.errorCount('SIP_SIM_BAD_FRAME'), 1);
  t.equal(got.length, 1, 'nothing answered after the empty prefix');
  t.notOk(isClosed(), 'not closed either');
});

t.test('a zero-length frame is skipped', async (t) => {
  const { sock, got, until, isClosed } = await setup(t);
  sock.write(Buffer.concat([Buffer.from('0#'), encodeFrame('m1|ping')]));
  await until(() => got.length >= 1);
  t.equal(got[0].split('|').slice(1).join('|'), 'response|m1|OK|pong');
  t.notOk(isClosed());
});

t.test('bad sip from the app: NOK', async (t) => {
  const { sock, got, until, metrics } = await setup(t);
  sock.write(encodeFrame('m1|authenticate|cymru|'));
  sock.write(encodeFrame('m2|sip||\r\nnot sip at all\r\n\r\n'));
  sock.write(encodeFrame('m3|sip||\r\nMESSAGE sip:127.0.0.1:9 SIP/2.0\r\nContent-Length: 5\r\n\r\nhello'));
  sock.write(encodeFrame('m4|sip||no-such-dialog\r\nBYE sip:placeholder SIP/2.0\r\n\r\n'));
  await until(() => got.length >= 4);
  t.match(got[1], /\|response\|m2\|NOK\|/);
  t.match(got[2], /\|response\|m3\|NOK\|missing content-type/);
  t.match(got[3], /\|response\|m4\|NOK\|Server error: unable to find dialog/);
  t.equal(metrics.errorCount('SIP_SIM_BAD_SIP_FROM_APP'), 3);
});

t.test('garbage on the SIP port is counted and dropped; the twin keeps serving', async (t) => {
  const { twin, metrics } = await setup(t);
  const { createSocket } = await import('node:dgram');
  const u = createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => u.close(() => r())));
  const replies: string[] = [];
  u.on('message', (b) => replies.push(b.toString()));
  for (const junk of ['hello', 'INVITE x SIP/2.0\r\nbroken\r\n\r\n', 'SIP/2.0 200 OK\r\n\r\n', '\u0000\u0001\u00ff']) u.send(junk, twin.sipPort, '127.0.0.1');
  const me = u.address().port;
  u.send([`OPTIONS sip:127.0.0.1:${twin.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKg1`, 'From: <sip:g@127.0.0.1>;tag=g',
    `To: <sip:127.0.0.1:${twin.sipPort}>`, 'Call-ID: g-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), twin.sipPort, '127.0.0.1');
  for (let i = 0; i < 500 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.match(replies[0], /^SIP\/2\.0 503 /, 'still answers (nobody routed OPTIONS)');
  t.equal(metrics.errorCount('SIP_SIM_BAD_SIP_FROM_NETWORK'), 4);
});
