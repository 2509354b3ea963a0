import t from 'tap';
import { RegistrationMachine, type RegistrationEffect } from '../../../src/sip/registration-machine.js';

const sends = (e: RegistrationEffect[]) => e.filter((x) => x.kind === 'send') as Extract<RegistrationEffect, { kind: 'send' }>[];
const timer = (e: RegistrationEffect[]) => (e.find((x) => x.kind === 'timer') as { delayMs: number } | undefined)?.delayMs;

function machine(random = 0.5, extra = {}) {
  return new RegistrationMachine({ expiresSec: 600, registrarCount: 1, ...extra }, () => random);
}

t.test('register then refresh before expiry, with jitter', async (t) => {
  const m = machine(0.5);
  const e1 = m.start();
  t.same(sends(e1), [{ kind: 'send', attempt: 1, registrar: 0, expiresSec: 600 }]);
  t.equal(m.snapshot().state, 'registering');
  const e2 = m.onOutcome({ attempt: 1, status: 200, grantedSec: 300 }, 1_000_000);
  t.equal(m.snapshot().state, 'registered');
  t.equal(m.snapshot().expiresAtMs, 1_000_000 + 300_000);
  t.equal(timer(e2), Math.floor(300_000 * (0.8 - 0.1 * 0.5)), 'refresh at 75 % with random 0.5');
  t.ok(timer(e2)! < 300_000);
  // jitter spreads refreshes
  const a = machine(0), b = machine(0.99);
  a.start(); b.start();
  t.not(timer(a.onOutcome({ attempt: 1, status: 200 }, 0)), timer(b.onOutcome({ attempt: 1, status: 200 }, 0)));
  const e3 = m.onTimer();
  t.same(sends(e3), [{ kind: 'send', attempt: 2, registrar: 0, expiresSec: 600 }]);
  t.same(m.onOutcome({ attempt: 1, status: 200 }, 0), [], 'stale outcome ignored');
});

t.test('423 retries with Min-Expires', async (t) => {
  const m = machine();
  m.start();
  const e = m.onOutcome({ attempt: 1, status: 423, minExpiresSec: 900 }, 0);
  t.same(sends(e), [{ kind: 'send', attempt: 2, registrar: 0, expiresSec: 900 }]);
  m.onOutcome({ attempt: 2, status: 200 }, 0);
  t.equal(m.snapshot().state, 'registered');
  // a 423 without a usable Min-Expires fails
  const m2 = machine();
  m2.start();
  m2.onOutcome({ attempt: 1, status: 423 }, 0);
  t.equal(m2.snapshot().lastError, 'SIP_REGISTER_FAILED');
  const m3 = machine();
  m3.start();
  m3.onOutcome({ attempt: 1, status: 423, minExpiresSec: 100 }, 0);
  t.equal(m3.snapshot().state, 'failed', 'Min-Expires not above what was asked');
});

t.test('stale nonce is retried, a refused digest fails', async (t) => {
  const m = machine();
  m.start();
  const e = m.onOutcome({ attempt: 1, status: 401, stale: true }, 0);
  t.equal(sends(e).length, 1);
  t.equal(m.snapshot().state, 'registering');
  m.onOutcome({ attempt: 2, status: 401 }, 0);
  t.equal(m.snapshot().state, 'failed');
  t.equal(m.snapshot().lastError, 'SIP_REGISTER_AUTH_FAILED');
  // stale retries are bounded
  const m2 = machine();
  m2.start();
  let n = 1;
  for (let i = 0; i < 5; i++) m2.onOutcome({ attempt: n++, status: 407, stale: true }, 0);
  t.equal(m2.snapshot().state, 'failed');
});

t.test('403/404 fail with capped, jittered backoff', async (t) => {
  const m = machine(1 - Number.EPSILON, { backoffInitialMs: 1000, backoffMaxMs: 8000 });
  m.start();
  const delays: number[] = [];
  let attempt = 1;
  for (let i = 0; i < 6; i++) {
    const e = m.onOutcome({ attempt, status: i % 2 ? 404 : 403 }, 0);
    t.equal(m.snapshot().lastError, 'SIP_REGISTER_REJECTED');
    delays.push(timer(e)!);
    const r = m.onTimer();
    attempt = sends(r)[0].attempt;
  }
  t.same(delays, [999, 1999, 3999, 7999, 7999, 7999]);
  t.equal(m.snapshot().consecutiveFailures, 6);
  const low = machine(0, { backoffInitialMs: 1000 });
  low.start();
  t.equal(timer(low.onOutcome({ attempt: 1, status: 403 }, 0)), 500, 'jitter floor is half');
});

t.test('timeouts and 5xx fail over to the secondary, then back off', async (t) => {
  const m = machine(0.5, { registrarCount: 2 });
  m.start();
  const e = m.onOutcome({ attempt: 1, status: 0 }, 0);
  t.same(sends(e), [{ kind: 'send', attempt: 2, registrar: 1, expiresSec: 600 }]);
  const e2 = m.onOutcome({ attempt: 2, status: 503 }, 0);
  t.equal(sends(e2).length, 0);
  t.equal(m.snapshot().state, 'failed');
  t.equal(m.snapshot().lastError, 'SIP_REGISTER_SERVER_ERROR');
  const e3 = m.onTimer();
  t.equal(sends(e3)[0].registrar, 0, 'new cycle starts at the primary');
  m.onOutcome({ attempt: 3, status: 408 }, 0);
  const snap = m.snapshot();
  t.equal(snap.registrar, 1);
  t.equal(snap.lastError, 'SIP_REGISTER_TIMEOUT');
  m.onOutcome({ attempt: 4, status: 200 }, 0);
  t.equal(m.snapshot().state, 'registered');
  t.equal(m.snapshot().registrar, 1, 'stays on the secondary while it works');
  t.equal(m.snapshot().lastError, undefined);
});

t.test('stop unregisters with expires 0', async (t) => {
  const m = machine();
  m.start();
  m.onOutcome({ attempt: 1, status: 200 }, 0);
  const e = m.stop();
  t.same(sends(e), [{ kind: 'send', attempt: 2, registrar: 0, expiresSec: 0 }]);
  t.equal(m.snapshot().state, 'unregistering');
  t.same(m.stop(), [], 'stop twice is harmless');
  m.onOutcome({ attempt: 2, status: 0 }, 0);
  t.equal(m.snapshot().state, 'unregistered', 'done even when the registrar is silent');
  const f = machine();
  f.start();
  f.onOutcome({ attempt: 1, status: 403 }, 0);
  const e2 = f.stop();
  t.equal(sends(e2).length, 0, 'nothing to remove after a failure');
  t.equal(f.snapshot().state, 'unregistered');
  t.same(f.onTimer(), []);
  const idle = machine();
  idle.stop();
  t.same(idle.start(), []);
});
