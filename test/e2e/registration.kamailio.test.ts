// fsbridge's trunk registration against a real kamailio registrar (digest, 423, refresh,
// unregister), with the drachtio twin in between and drachtio-srf as the client library.
import t from 'tap';
import { startTwin, connectSrf } from '../integration/sip/srf-helpers.js';
import { freeUdpPort, haveBinary } from './sipp-runner.js';
import { startKamailio } from './kamailio-runner.js';
import { TrunkRegistration, type TrunkRegistrationStatus } from '../../src/sip/registration.js';
import { systemClock } from '../../src/clock.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';

async function setup(t: any, defines: string[]) {
  const port = await freeUdpPort();
  const kam = await startKamailio(port, defines);
  t.teardown(() => kam.stop());
  const twin = await startTwin();
  t.teardown(() => twin.close());
  const { srf, err } = await connectSrf(twin);
  t.teardown(() => srf.disconnect());
  t.equal(err, undefined);
  return { kam, srf };
}

function trunk(t: any, srf: any, port: number, password: string, expiresSec: number) {
  const metrics = new MetricsRegistry();
  const reg = new TrunkRegistration(
    { name: 'kam', registrar: `sip:127.0.0.1:${port}`, username: 'alice', password, expiresSec },
    { srf, logger: silentLogger(), metrics, clock: systemClock, requestTimeoutMs: 5000, policy: { minRefreshMs: 200, backoffInitialMs: 60_000 } },
  );
  const states: TrunkRegistrationStatus[] = [];
  const waiters: (() => void)[] = [];
  reg.on('state', (s) => { states.push(s); waiters.splice(0).forEach((w) => w()); });
  const until = async (pred: () => boolean) => { while (!pred()) await new Promise<void>((r) => waiters.push(r)); };
  t.teardown(() => reg.stop());
  return { reg, states, until, metrics };
}

if (!haveBinary('kamailio')) {
  t.test('kamailio is not installed', { skip: true }, async () => {});
} else {
  t.test('registers with digest after a 423, refreshes, unregisters', async (t) => {
    const { kam, srf } = await setup(t, ['MIN_EXPIRES=3']);
    const { reg, states, until } = trunk(t, srf, kam.port, 's3cret', 2);
    reg.start();
    await until(() => states.filter((s) => s.state === 'registered').length >= 2);
    const first = states.find((s) => s.state === 'registered')!;
    t.ok(first.expiresAtMs! > Date.now() - 10_000, 'expiresAt reported');
    await reg.stop();
    t.equal(reg.status().state, 'unregistered');
    const log = kam.output();
    t.match(log, /REGISTER ok alice expires=2/, 'first try asked 2 s (answered 423 by kamailio)');
    t.match(log, /REGISTER ok alice expires=3/, 'retried with Min-Expires');
    t.ok((log.match(/REGISTER ok alice expires=3/g) ?? []).length >= 2, 'refreshed');
    t.match(log, /REGISTER ok alice expires=0/, 'unregistered');
  });

  t.test('a wrong password ends in SIP_REGISTER_AUTH_FAILED', async (t) => {
    const { kam, srf } = await setup(t, ['MIN_EXPIRES=3']);
    const { reg, states, until, metrics } = trunk(t, srf, kam.port, 'wrong', 60);
    reg.start();
    await until(() => states.some((s) => s.state === 'failed'));
    t.equal(reg.status().lastError, 'SIP_REGISTER_AUTH_FAILED');
    t.equal(reg.status().lastStatus, 401);
    t.equal(metrics.errorCount('SIP_REGISTER_AUTH_FAILED'), 1);
  });

  t.test('a registrar answering 403 ends in SIP_REGISTER_REJECTED', async (t) => {
    const { kam, srf } = await setup(t, ['REJECT_ALL']);
    const { reg, states, until } = trunk(t, srf, kam.port, 's3cret', 60);
    reg.start();
    await until(() => states.some((s) => s.state === 'failed'));
    t.equal(reg.status().lastError, 'SIP_REGISTER_REJECTED');
  });
}
