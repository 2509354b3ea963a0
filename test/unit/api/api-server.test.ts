import t, { type Test } from 'tap';
import { ApiServer, type ApiBackend } from '../../../src/api/server.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

async function start(t: Test, backend: Partial<ApiBackend> = {}) {
  const metrics = new MetricsRegistry();
  const ended: string[] = [];
  const calls = new Map([['c1', { callId: 'c1', sid: 'CA' + 'a'.repeat(32), accountSid: 'ACtest', from: '+1555', to: '8100', direction: 'inbound' as const, startTime: new Date(0).toISOString() }]]);
  const api = new ApiServer({
    host: '127.0.0.1', port: 0, token: 'tok', twilio: { accountSid: 'ACtest', authToken: 'secret' }, logger: silentLogger(), metrics,
    backend: {
      listCalls: async () => ({ calls: [...calls.values()].map((c) => ({ callId: c.callId })), nextCursor: null }),
      exportCalls: async function* () { for (const c of calls.values()) yield { callId: c.callId }; },
      getCall: async (id) => (calls.has(id) ? { callId: id } : undefined),
      hangup: async (id) => { if (!calls.has(id)) return false; calls.delete(id); ended.push(id); return true; },
      findTwilioCall: (sid) => [...calls.values()].find((c) => c.sid === sid),
      ready: () => ({ ready: true, detail: { esl: 'connected' } }),
      ...backend,
    },
  });
  await api.listen();
  t.teardown(() => api.close());
  const base = `http://127.0.0.1:${api.port}`;
  return { base, metrics, ended };
}

t.test('health, readiness and metrics', async (t) => {
  const { base } = await start(t);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  const r = await fetch(`${base}/readyz`);
  t.equal(r.status, 200);
  const m = await (await fetch(`${base}/metrics`)).text();
  t.match(m, /# TYPE fsbridge_api_requests_total counter/);
});

t.test('readyz says 503 when not ready', async (t) => {
  const { base } = await start(t, { ready: () => ({ ready: false, detail: { esl: 'down' } }) });
  t.equal((await fetch(`${base}/readyz`)).status, 503);
});

t.test('/v1 needs the bearer token', async (t) => {
  const { base, metrics } = await start(t);
  t.equal((await fetch(`${base}/v1/calls`)).status, 401);
  t.equal((await fetch(`${base}/v1/calls`, { headers: { authorization: 'Bearer nope' } })).status, 401);
  t.equal(metrics.errorCount('API_UNAUTHORIZED'), 2);
  const ok = await fetch(`${base}/v1/calls`, { headers: { authorization: 'Bearer tok' } });
  t.same(await ok.json(), { calls: [{ callId: 'c1' }], nextCursor: null });
});

t.test('POST /v1/calls/:id/hangup', async (t) => {
  const { base, ended } = await start(t);
  const h = { authorization: 'Bearer tok' };
  t.equal((await fetch(`${base}/v1/calls/c1/hangup`, { method: 'POST', headers: h })).status, 200);
  t.same(ended, ['c1']);
  t.equal((await fetch(`${base}/v1/calls/c1/hangup`, { method: 'POST', headers: h })).status, 404);
});

t.test('Twilio-compatible hang-up: Basic auth, 200 with resource, then 404/20404', async (t) => {
  const { base, ended } = await start(t);
  const sid = 'CA' + 'a'.repeat(32);
  const url = `${base}/2010-04-01/Accounts/ACtest/Calls/${sid}.json`;
  const auth = 'Basic ' + Buffer.from('ACtest:secret').toString('base64');
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: auth };
  const bad = await fetch(url, { method: 'POST', body: 'Status=completed', headers: { ...form, authorization: 'Basic ' + Buffer.from('ACtest:wrong').toString('base64') } });
  t.equal(bad.status, 401);
  const r = await fetch(url, { method: 'POST', body: 'Status=completed', headers: form });
  t.equal(r.status, 200);
  t.match(await r.json(), { sid, status: 'completed', account_sid: 'ACtest' });
  t.same(ended, ['c1']);
  const again = await fetch(url, { method: 'POST', body: 'Status=completed', headers: form });
  t.equal(again.status, 404);
  t.match(await again.json(), { code: 20404, status: 404 });
});

t.test('unknown route is 404 with a code', async (t) => {
  const { base, metrics } = await start(t);
  t.equal((await fetch(`${base}/nope`)).status, 404);
  t.equal(metrics.errorCount('API_NOT_FOUND'), 1);
});
