// Registrations follow the drachtio link: registered on connect, registered again after a
// drachtio-server restart on the same admin port.
import t from 'tap';
import { DrachtioLink } from '../../../src/sip/drachtio-link.js';
import { LinkedRegistrations } from '../../../src/sip/link-registrations.js';
import { startTwin } from '../sip/srf-helpers.js';
import { UdpPeer, getHeader } from '../sip/udp-peer.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { systemClock } from '../../../src/clock.js';

t.test('REGISTER again after drachtio-server comes back', async (t) => {
  const registrar = new UdpPeer();
  await registrar.start();
  t.teardown(() => registrar.close());
  registrar.onMessage = (r) => {
    if (r.msg.kind === 'request' && r.msg.method === 'REGISTER') registrar.reply(r, 200, 'OK', [`Contact: ${getHeader(r.msg, 'contact')};expires=300`, 'Expires: 300']);
  };
  const registers = (expires: string) => registrar.received.filter((r) => r.msg.method === 'REGISTER' && r.msg.kind === 'request' && getHeader(r.msg, 'expires') === expires).length;
  const twin1 = await startTwin();
  const port = twin1.adminPort;
  const later: { twin2?: Awaited<ReturnType<typeof startTwin>> } = {};
  t.teardown(async () => { await twin1.close(); await later.twin2?.close(); });
  const metrics = new MetricsRegistry();
  const link = new DrachtioLink({ logger: silentLogger(), metrics, retryMaxDelayMs: 100 });
  t.teardown(() => link.close());
  await link.connect({ host: '127.0.0.1', port, secret: 'cymru' });
  const regs = new LinkedRegistrations(link, [{ name: 'op', registrar: `sip:127.0.0.1:${registrar.port}`, username: 'u', password: 'p', expiresSec: 300 }],
    { logger: silentLogger(), metrics, clock: systemClock, staggerMs: 1, requestTimeoutMs: 500 });
  t.teardown(() => regs.stop());
  const registered = () => new Promise<void>((resolve) => {
    let tries = 0;
    const check = () => { if (regs.status()[0]?.state === 'registered' || ++tries > 500) resolve(); else setTimeout(check, 10); };
    check();
  });
  regs.start();
  await registered();
  t.equal(regs.starts, 1);
  t.equal(registers('300'), 1);
  await twin1.close();
  later.twin2 = await startTwin({ adminPort: port });
  await new Promise<void>((r) => link.once('connected', () => r()));
  // the old set is abandoned (no un-REGISTER to wait for), the new set registers at once
  await registrar.next((r) => r.msg.method === 'REGISTER' && getHeader(r.msg, 'expires') === '300', registrar.received.length);
  await registered();
  t.equal(regs.starts, 2);
  t.equal(registers('0'), 0, 'no un-REGISTER: the new REGISTER replaces the binding');
  t.equal(registers('300'), 2, 'registered again');
});
