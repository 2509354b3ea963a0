// fsbridge's trunk registration against a real kamailio registrar (digest, 423, refresh,
// unregister), with the drachtio twin in between and drachtio-srf as the client library. Time is a
// ManualClock: the refresh happens when the test moves the clock, never after a real wait, and
// the jitter is fixed (random 0), so the refresh instant is exact.
import t from 'tap';
import { startTwin, connectSrf } from '../integration/sip/srf-helpers.js';
import { freeUdpPort, haveBinary } from './sipp-runner.js';
import { startKamailio } from './kamailio-runner.js';
import { TrunkRegistration, type TrunkRegistrationStatus } from '../../src/sip/registration.js';
import { ManualClock } from '../../src/clock.js';
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

/** Rejects after `ms` of real time: a safety net for a registrar that never answers, never the thing asserted. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

function trunk(t: any, srf: any, port: number, password: string, expiresSec: number) {
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const reg = new TrunkRegistration(
    { name: 'kam', registrar: `sip:127.0.0.1:${port}`, username: 'alice', password, expiresSec },
    { srf, logger: silentLogger(), metrics, clock, random: () => 0, requestTimeoutMs: 5000, policy: { minRefreshMs: 200, backoffInitialMs: 60_000 } },
  );
  const states: TrunkRegistrationStatus[] = [];
  const waiters: (() => void)[] = [];
  reg.on('state', (s) => { states.push(s); waiters.splice(0).forEach((w) => w()); });
  const until = async (pred: () => boolean, what = 'a registration state') => {
    const wait = async () => { while (!pred()) await new Promise<void>((r) => waiters.push(r)); };
    await within(wait(), 30_000, what);
  };
  /** REGISTER requests sent so far (each send, the digest answer included, counts once). */
  const sent = () => metrics.counter('fsbridge_sip_register_requests_total', '').get({ trunk: 'kam' });
  t.teardown(() => reg.stop());
  return { reg, states, until, metrics, clock, sent };
}

/** Resolves when kamailio's output matches `re` (its log comes through a pipe, after the SIP answer may). */
async function logged(kam: { output(): string }, re: RegExp): Promise<string> {
  const wait = async () => { while (!re.test(kam.output())) await new Promise((r) => setTimeout(r, 20)); };
  await within(wait(), 30_000, `kamailio to log ${re}`);
  return kam.output();
}

if (!haveBinary('kamailio')) {
  t.test('kamailio is not installed', { skip: true }, async () => {});
} else {
  t.test('registers with digest after a 423, refreshes, unregisters', async (t) => {
    const { kam, srf } = await setup(t, ['MIN_EXPIRES=3']);
    const { reg, states, until, clock, sent } = trunk(t, srf, kam.port, 's3cret', 2);
    const registered = () => states.filter((s) => s.state === 'registered');
    reg.start();
    await until(() => registered().length >= 1, 'registered');
    t.equal(sent(), 2, 'two REGISTERs: 2 s asked, then the Min-Expires of the 423');
    t.equal(registered()[0].expiresAtMs, clock.wallMs() + 3000, 'expiresAt: now + the granted 3 s');
    // Refresh at 80 % of the granted 3 s (jitter 0): not a millisecond earlier, then at once.
    clock.advance(2399);
    t.equal(sent(), 2, 'no refresh before 2.4 s');
    clock.advance(1);
    t.equal(sent(), 3, 'the refresh REGISTER at 2.4 s');
    await until(() => registered().length >= 2, 'registered again');
    t.equal(registered()[1].expiresAtMs, clock.wallMs() + 3000, 'the refresh moved expiresAt on');
    await within(reg.stop(), 30_000, 'the un-REGISTER');
    t.equal(reg.status().state, 'unregistered');
    const log = await logged(kam, /REGISTER ok alice expires=0/);
    t.match(log, /REGISTER ok alice expires=2/, 'first try asked 2 s (answered 423 by kamailio)');
    t.match(log, /REGISTER ok alice expires=3/, 'retried with Min-Expires');
    t.ok((log.match(/REGISTER ok alice expires=3/g) ?? []).length >= 2, 'refreshed');
    t.match(log, /REGISTER ok alice expires=0/, 'unregistered');
  });

  t.test('a wrong password ends in SIP_REGISTER_AUTH_FAILED', async (t) => {
    const { kam, srf } = await setup(t, ['MIN_EXPIRES=3']);
    const { reg, states, until, metrics } = trunk(t, srf, kam.port, 'wrong', 60);
    reg.start();
    await until(() => states.some((s) => s.state === 'failed'), 'failed');
    t.equal(reg.status().lastError, 'SIP_REGISTER_AUTH_FAILED');
    t.equal(reg.status().lastStatus, 401);
    t.equal(metrics.errorCount('SIP_REGISTER_AUTH_FAILED'), 1);
  });

  t.test('a registrar answering 403 ends in SIP_REGISTER_REJECTED', async (t) => {
    const { kam, srf } = await setup(t, ['REJECT_ALL']);
    const { reg, states, until } = trunk(t, srf, kam.port, 's3cret', 60);
    reg.start();
    await until(() => states.some((s) => s.state === 'failed'), 'failed');
    t.equal(reg.status().lastError, 'SIP_REGISTER_REJECTED');
  });
}
