// Regression (found by bench/sip.ts): a registrar whose 200 reaches drachtio-srf in the same read
// as drachtio-server's "message sent" echo. srf emits that 200 right after calling the request
// callback, in the same tick; a listener attached later (a Promise continuation) never sees it and
// the REGISTER times out.
import t from 'tap';
import { TrunkRegistration, type SrfRequester, type SrfResponseLike, type SrfRequestLike } from '../../../src/sip/registration.js';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

/** Models srf: echo callback, then the registrar's 200 emitted synchronously right after it. */
class InstantRegistrar implements SrfRequester {
  requests = 0;
  request(_uri: string, opts: { headers: Record<string, string> }, cb: (err: Error | null | undefined, req: SrfRequestLike) => void) {
    this.requests++;
    let listener: ((r: SrfResponseLike) => void) | null = null;
    const req: SrfRequestLike = { on: (_e, fn) => { listener = fn; }, get: () => undefined };
    setImmediate(() => {
      cb(null, req);
      const headers: Record<string, string> = { CSeq: opts.headers.CSeq, Expires: '600' };
      listener?.({ status: 200, get: (n) => headers[n] });
    });
    return undefined;
  }
}

t.test('a 200 emitted in the same tick as the echo still registers the trunk', async (t) => {
  const srf = new InstantRegistrar();
  const reg = new TrunkRegistration(
    { name: 'fast', registrar: 'sip:127.0.0.1:5060', username: 'u', password: 'p', expiresSec: 600 },
    { srf, logger: silentLogger(), metrics: new MetricsRegistry(), clock: new ManualClock(), requestTimeoutMs: 1000 },
  );
  t.teardown(() => reg.stop());
  const registered = new Promise<void>((resolve) => reg.on('state', (s) => { if (s.state === 'registered') resolve(); }));
  reg.start();
  await registered;
  t.equal(reg.status().state, 'registered');
  t.equal(srf.requests, 1, 'no retry was needed');
});
