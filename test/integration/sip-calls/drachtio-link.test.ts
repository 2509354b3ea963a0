// DrachtioLink against the drachtio-server twin: connect, a wrong secret, and a drachtio-server
// restart on the same admin port (the link reconnects and says so).
import t from 'tap';
import { DrachtioLink } from '../../../src/sip/drachtio-link.js';
import { startTwin } from '../sip/srf-helpers.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

function newLink(): DrachtioLink {
  return new DrachtioLink({ logger: silentLogger(), metrics: new MetricsRegistry(), retryMaxDelayMs: 100 });
}

t.test('connects and reports connected', async (t) => {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const link = newLink();
  t.teardown(() => link.close());
  const ev = new Promise<any>((r) => link.once('connected', r));
  await link.connect({ host: '127.0.0.1', port: twin.adminPort, secret: 'cymru' });
  t.equal(link.connected, true);
  t.equal((await ev).reconnect, false);
  t.ok(link.srf, 'srf available');
});

t.test('a wrong secret rejects connect() with SIP_DRACHTIO_AUTH_FAILED and stops retrying', async (t) => {
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const metrics = new MetricsRegistry();
  const link = new DrachtioLink({ logger: silentLogger(), metrics, retryMaxDelayMs: 100 });
  t.teardown(() => link.close());
  await t.rejects(link.connect({ host: '127.0.0.1', port: twin.adminPort, secret: 'wrong' }), { code: 'SIP_DRACHTIO_AUTH_FAILED' });
  t.equal(link.connected, false);
  t.equal(metrics.errorCount('SIP_DRACHTIO_AUTH_FAILED'), 1);
});

t.test('drachtio-server restarts on the same port: disconnected, then reconnected; routes survive', async (t) => {
  const twin1 = await startTwin();
  const port = twin1.adminPort;
  const later: { twin2?: Awaited<ReturnType<typeof startTwin>> } = {};
  t.teardown(async () => { await twin1.close(); await later.twin2?.close(); });
  const link = newLink();
  t.teardown(() => link.close());
  await link.connect({ host: '127.0.0.1', port, secret: 'cymru' });
  let invites = 0;
  link.srf.invite((_req: any, res: any) => { invites++; res.send(486); });
  const down = new Promise<void>((r) => link.once('disconnected', () => r()));
  const again = new Promise<any>((r) => link.once('connected', r));
  await twin1.close();
  await down;
  t.equal(link.connected, false);
  const twin2 = later.twin2 = await startTwin({ adminPort: port });
  const ev = await again;
  t.equal(ev.reconnect, true);
  t.equal(link.connected, true);
  // the INVITE route was re-sent on the new connection: a request sent to the new twin reaches srf
  const { UdpPeer } = await import('../sip/udp-peer.js');
  const peer = new UdpPeer();
  await peer.start();
  t.teardown(() => peer.close());
  const sp = twin2.sipPort;
  const send = () => peer.send([`INVITE sip:1@127.0.0.1:${sp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKr1`,
    'Max-Forwards: 70', 'From: <sip:a@127.0.0.1>;tag=a', `To: <sip:1@127.0.0.1:${sp}>`, 'Call-ID: reroute-1', 'CSeq: 1 INVITE',
    `Contact: <sip:a@127.0.0.1:${peer.port}>`, 'Content-Length: 0'].join('\r\n') + '\r\n\r\n', sp);
  // the route message races the INVITE; retry (bounded) until it is not the twin's 503
  let status = 0;
  for (let i = 0; i < 20 && status !== 486; i++) {
    const before = peer.received.length;
    send();
    const r = await peer.next((x) => x.msg.kind === 'response' && (x.msg.status ?? 0) >= 300, before);
    status = r.msg.status ?? 0;
    if (status !== 486) await new Promise((res) => setTimeout(res, 50));
  }
  t.equal(status, 486);
  t.ok(invites >= 1);
});

t.test('close() while reconnecting stops the retries', async (t) => {
  const twin = await startTwin();
  const port = twin.adminPort;
  const link = newLink();
  await link.connect({ host: '127.0.0.1', port, secret: 'cymru' });
  const down = new Promise<void>((r) => link.once('disconnected', () => r()));
  await twin.close();
  await down;
  link.close();
  link.close();
  let reconnected = false;
  link.on('connected', () => { reconnected = true; });
  const twin2 = await startTwin({ adminPort: port });
  t.teardown(() => twin2.close());
  await new Promise((r) => setTimeout(r, 400));
  t.equal(reconnected, false, 'no connection after close()');
});
