import t from 'tap';
import { Writable } from 'node:stream';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { createLogger } from '../../../src/observability/logger.js';
import {
  TrunkRegistration, RegistrationManager, grantedExpiresSec, type SrfRequester, type SrfResponseLike, type TrunkRegistrationStatus,
} from '../../../src/sip/registration.js';

const PASSWORD = 'Pa55-never-logged';

class FakeSrf implements SrfRequester {
  sent: { uri: string; headers: Record<string, string>; auth?: { username: string; password: string }; respond: (status: number, h?: Record<string, string>) => void }[] = [];
  failNext = false;
  request(uri: string, opts: { method: string; headers: Record<string, string>; auth?: { username: string; password: string } },
    cb: (err: Error | null | undefined, req: { on: (e: 'response', fn: (r: SrfResponseLike) => void) => void; get: (n: string) => string | undefined }) => void) {
    if (this.failNext) { this.failNext = false; queueMicrotask(() => cb(new Error('socket closed'), undefined as never)); return; }
    let listener: (r: SrfResponseLike) => void = () => {};
    const entry = {
      uri, headers: opts.headers, auth: opts.auth,
      respond: (status: number, h: Record<string, string> = {}) => {
        const all: Record<string, string> = { CSeq: opts.headers.CSeq, ...h };
        listener({ status, get: (n: string) => all[n] });
      },
    };
    this.sent.push(entry);
    const req = { on: (_e: 'response', fn: (r: SrfResponseLike) => void) => { listener = fn; }, get: (n: string) => (n === 'Contact' ? '<sip:alice@127.0.0.1:5060>' : undefined) };
    // As drachtio-srf: the callback runs when the sent request is echoed, asynchronously.
    queueMicrotask(() => cb(null, req));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(t: any, extra: Partial<ConstructorParameters<typeof TrunkRegistration>[0]> = {}) {
  const clock = new ManualClock();
  const srf = new FakeSrf();
  const metrics = new MetricsRegistry();
  let logged = '';
  const destination = new Writable({ write(c, _e, cb) { logged += c.toString(); cb(); } });
  const logger = createLogger({ level: 'debug', destination });
  const states: TrunkRegistrationStatus[] = [];
  const reg = new TrunkRegistration(
    { name: 'op-a', registrar: 'sip:reg.example', username: 'alice', password: PASSWORD, expiresSec: 600, ...extra },
    { srf, logger, metrics, clock, random: () => 0.5, requestTimeoutMs: 5000 },
  );
  reg.on('state', (s) => states.push(s));
  t.teardown(async () => { const p = reg.stop(); clock.advance(10_000); await p; });
  return { clock, srf, metrics, reg, states, logs: () => logged };
}

t.test('registers, refreshes on the same Call-ID with a higher CSeq, unregisters', async (t) => {
  const { clock, srf, reg, logs } = setup(t);
  reg.start();
  await tick();
  t.equal(srf.sent.length, 1);
  const first = srf.sent[0];
  t.equal(first.uri, 'sip:reg.example');
  t.equal(first.headers.From, '<sip:alice@reg.example>');
  t.equal(first.headers.Contact, '<sip:alice@localhost>');
  t.equal(first.headers.Expires, '600');
  t.same(first.auth, { username: 'alice', password: PASSWORD });
  // the digest retry happened inside srf: CSeq came back one higher
  first.respond(200, { CSeq: '2 REGISTER', Contact: '<sip:alice@127.0.0.1:5060>;expires=300, <sip:other@x>;expires=9' });
  const s = reg.status();
  t.equal(s.state, 'registered');
  t.equal(s.expiresAtMs, clock.wallMs() + 300_000, 'our Contact\'s expires is used');
  clock.advance(300_000 * 0.75 - 1);
  t.equal(srf.sent.length, 1);
  clock.advance(1);
  await tick();
  t.equal(srf.sent.length, 2, 'refreshed before expiry');
  t.equal(srf.sent[1].headers['Call-ID'], first.headers['Call-ID']);
  t.equal(srf.sent[1].headers.CSeq, '3 REGISTER');
  srf.sent[1].respond(200, { Expires: '600' });
  const stopped = reg.stop();
  await tick();
  t.equal(srf.sent[2].headers.Expires, '0');
  srf.sent[2].respond(200);
  await stopped;
  t.equal(reg.status().state, 'unregistered');
  t.notOk(logs().includes(PASSWORD), 'password not logged');
  t.ok(logs().includes('trunk registration state'));
});

t.test('timeout fails over to the secondary registrar', async (t) => {
  const { clock, srf, reg, metrics } = setup(t, { secondaryRegistrar: 'sip:backup.example' });
  reg.start();
  await tick();
  clock.advance(5000);
  await tick();
  t.equal(srf.sent.length, 2);
  t.equal(srf.sent[1].uri, 'sip:backup.example');
  t.not(srf.sent[1].headers['Call-ID'], srf.sent[0].headers['Call-ID'], 'own Call-ID per registrar');
  srf.sent[0].respond(200); // too late: ignored
  t.equal(reg.status().state, 'registering');
  srf.sent[1].respond(200);
  t.equal(reg.status().state, 'registered');
  t.equal(reg.status().registrar, 'sip:backup.example');
  t.equal(metrics.errorCount('SIP_REGISTER_TIMEOUT'), 0, 'failover alone is not a failure');
});

t.test('403 → failed with backoff, password never in the logs; 423 → Min-Expires; stale → retry', async (t) => {
  const { clock, srf, reg, metrics, logs, states } = setup(t);
  reg.start();
  await tick();
  srf.sent[0].respond(403);
  t.equal(reg.status().state, 'failed');
  t.equal(reg.status().lastError, 'SIP_REGISTER_REJECTED');
  t.equal(metrics.errorCount('SIP_REGISTER_REJECTED'), 1);
  t.ok(states.some((s) => s.state === 'failed'));
  clock.advance(2000 * 0.75);
  await tick();
  t.equal(srf.sent.length, 2, 'retried after backoff');
  srf.sent[1].respond(423, { 'Min-Expires': '1200' });
  await tick();
  t.equal(srf.sent[2].headers.Expires, '1200');
  srf.sent[2].respond(401, { 'WWW-Authenticate': 'Digest realm="r", nonce="new", stale=true' });
  await tick();
  t.equal(srf.sent.length, 4, 'stale nonce retried at once');
  srf.sent[3].respond(401, { 'WWW-Authenticate': 'Digest realm="r", nonce="n2"' });
  t.equal(reg.status().lastError, 'SIP_REGISTER_AUTH_FAILED');
  t.notOk(logs().includes(PASSWORD));
  t.notOk(JSON.stringify(reg.status()).includes(PASSWORD));
});

t.test('a send failure counts and backs off', async (t) => {
  const { srf, reg, metrics } = setup(t);
  srf.failNext = true;
  reg.start();
  await tick(); await tick();
  t.equal(metrics.errorCount('SIP_REGISTER_FAILED'), 1);
  t.equal(reg.status().state, 'failed');
});

t.test('grantedExpiresSec', async (t) => {
  t.equal(grantedExpiresSec('<sip:a@h>;expires=30', undefined, '<sip:a@h>'), 30);
  t.equal(grantedExpiresSec('<sip:b@h>;expires=30, <sip:a@h>;expires=40', '99', '<sip:a@h>'), 40);
  t.equal(grantedExpiresSec('<sip:b@h>;expires=30, <sip:c@h>;expires=40', '99', '<sip:a@h>'), 99);
  t.equal(grantedExpiresSec(undefined, undefined, undefined), undefined);
});

t.test('manager staggers starts and reports every trunk', async (t) => {
  const clock = new ManualClock();
  const srf = new FakeSrf();
  const mk = (name: string) => ({ name, registrar: `sip:${name}.example`, username: 'u', password: PASSWORD, expiresSec: 600 });
  const m = new RegistrationManager([mk('a'), mk('b'), mk('c')], {
    srf, logger: createLogger({ level: 'silent' }), metrics: new MetricsRegistry(), clock, random: () => 0.5, staggerMs: 1000,
  });
  t.teardown(async () => { const p = m.stop(); clock.advance(10_000); await p; });
  m.start();
  clock.advance(499);
  await tick();
  t.equal(srf.sent.length, 0);
  clock.advance(1);
  await tick();
  t.equal(srf.sent.length, 1);
  clock.advance(1000);
  await tick();
  t.equal(srf.sent.length, 2);
  clock.advance(1000);
  await tick();
  t.same(srf.sent.map((s) => s.uri), ['sip:a.example', 'sip:b.example', 'sip:c.example']);
  t.same(m.status().map((s) => s.state), ['registering', 'registering', 'registering']);
  for (const s of srf.sent) s.respond(200);
  const stopping = m.stop();
  await tick();
  for (const s of srf.sent.slice(3)) s.respond(200);
  await stopping;
  t.same(m.status().map((s) => s.state), ['unregistered', 'unregistered', 'unregistered']);
});

t.test('stop() waits at most unregisterTimeoutMs (2 s) for a registrar that does not answer the un-REGISTER', async (t) => {
  const { clock, srf, reg } = setup(t);
  reg.start();
  await tick();
  srf.sent[0].respond(200, { Expires: '600' });
  await tick();
  let stopped = false;
  void reg.stop().then(() => { stopped = true; });
  await tick();
  t.equal(srf.sent.at(-1)?.headers.Expires, '0', 'un-REGISTER sent');
  clock.advance(1999);
  await tick();
  t.notOk(stopped);
  clock.advance(1);
  await tick();
  t.ok(stopped, 'resolved without an answer after 2 s');
  const n = srf.sent.length;
  clock.advance(60_000);
  await tick();
  t.equal(srf.sent.length, n, 'nothing sent after being given up');
});

t.test('abandon() forgets a registration without un-REGISTER; late answers are ignored', async (t) => {
  const { clock, srf, reg, states } = setup(t);
  reg.start();
  await tick();
  srf.sent[0].respond(200, { Expires: '600' });
  await tick();
  const n = states.length;
  reg.abandon();
  clock.advance(3_600_000);
  await tick();
  t.equal(srf.sent.length, 1, 'no refresh, no un-REGISTER');
  t.equal(states.length, n, 'no state change after abandon');
});
