// Call records in the store, through the real daemon (FreeSWITCH twin, echo bot on loopback), on
// SQLite and on a real PostgreSQL: a call is in the store from its offer on, its record is
// completed at its end, and GET /v1/calls serves history (filters, pages, CSV), live calls
// (?state=live) and one call (/v1/calls/{id}). PostgreSQL also goes away mid-run: calls go on,
// /readyz says so, history answers 503, and the records are written once it is back.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, until, type Harness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import type { CallRecord } from '../../../src/calls/call-record.js';
import { eachBackend } from '../../helpers/store-backends.js';

async function get(h: Harness, path: string): Promise<{ status: number; body: any; text: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${h.daemon.ports.api}${path}`, { headers: { authorization: 'Bearer test-token' } });
  const text = await r.text();
  let body: unknown = null;
  try { body = JSON.parse(text); } catch { /* CSV */ }
  return { status: r.status, body, text, type: r.headers.get('content-type') };
}

const jsonl = (h: Harness): CallRecord[] => readFileSync(join(h.dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CallRecord);

t.test('call history through the daemon', (t) => eachBackend(t, async (t, b) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }\n  other: { url: "${bot.url}twilio", protocol: twilio }`, {
    storeUrl: db.url, ...(db.password ? { storeYaml: 'password: env:PGPW', env: { PGPW: db.password } } : {}),
  });
  t.teardown(() => h.close());

  const c1 = await h.call('echo');
  await until(() => c1.call.state === 'connected', 5000, 'call 1 connected');
  // live: in memory, and in the store from its offer on
  const live = await get(h, '/v1/calls?state=live');
  t.same(live.body.calls.map((c: { callId: string }) => c.callId), [c1.call.callId], '?state=live lists the live call');
  t.equal(live.body.calls[0].state, 'connected', 'with its state now');
  let stored: { state?: string } = {};
  for (let i = 0; i < 100 && stored.state !== 'live'; i++) {
    stored = (await get(h, '/v1/calls')).body.calls.find((c: { callId: string }) => c.callId === c1.call.callId) ?? {};
    if (stored.state !== 'live') await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(stored.state, 'live', 'the store has the call while it is live');
  t.equal((await get(h, `/v1/calls/${c1.call.callId}`)).body.state, 'connected', '/v1/calls/{id} of a live call: as it is now');
  await h.twin.api(`uuid_kill ${c1.aLeg}`);
  const rec1 = await c1.ended;

  const c2 = await h.call('other');
  await until(() => c2.call.state === 'connected', 5000, 'call 2 connected');
  await h.twin.api(`uuid_kill ${c2.aLeg}`);
  const rec2 = await c2.ended;
  await until(() => h.daemon.calls.size === 0, 5000, 'no live call');

  // ended: the store's record is the JSON-lines record, plus state and node
  let hist: { calls: Record<string, unknown>[]; nextCursor: string | null } = { calls: [], nextCursor: null };
  for (let i = 0; i < 100; i++) {
    hist = (await get(h, '/v1/calls')).body;
    if (hist.calls.length === 2 && hist.calls.every((c) => c.state === 'ended')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(hist.calls.map((c) => c.callId), [rec2.callId, rec1.callId], 'newest first');
  t.same(hist.calls[1], { ...rec1, state: 'ended', nodeId: h.daemon.nodeId }, 'the stored record is the call record');
  // the file is appended to asynchronously, beside the store: wait for its second line
  await until(() => existsSync(join(h.dir, 'calls.jsonl')) && jsonl(h).length >= 2, 5000, 'two lines in the JSON-lines file');
  t.same(jsonl(h).map((r) => r.callId), [rec1.callId, rec2.callId], 'the JSON-lines file got the same two records');
  t.same((await get(h, `/v1/calls/${rec1.callId}`)).body, { ...rec1, state: 'ended', nodeId: h.daemon.nodeId }, '/v1/calls/{id} of an ended call');

  // filters and pages
  t.same((await get(h, '/v1/calls?bot=other')).body.calls.map((c: { callId: string }) => c.callId), [rec2.callId]);
  const p1 = (await get(h, '/v1/calls?limit=1')).body;
  t.equal(p1.calls.length, 1);
  t.type(p1.nextCursor, 'string');
  const p2 = (await get(h, `/v1/calls?limit=1&cursor=${p1.nextCursor}`)).body;
  t.same(p2.calls.map((c: { callId: string }) => c.callId), [rec1.callId]);
  t.equal(p2.nextCursor, null, 'the last page');
  t.equal((await get(h, '/v1/calls?state=live')).body.calls.length, 0);

  // CSV export
  const csv = await get(h, '/v1/calls?format=csv');
  t.equal(csv.status, 200);
  t.match(csv.type, /^text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  t.equal(lines.length, 3, 'a header and two calls');
  t.match(lines[1], new RegExp(`^${rec2.callId},ended,`));

  // bad requests
  const bad = await get(h, `/v1/calls?from=${'1'.repeat(200)}&color=red`);
  t.equal(bad.status, 400);
  t.match(bad.body.error.problems.join(' '), /from: longer than 128.*color: unknown filter|color: unknown filter.*from: longer/);
  t.equal((await get(h, '/v1/calls/no-such-call')).status, 404);
  t.equal((await get(h, `/v1/calls?from=${encodeURIComponent("' OR '1'='1")}`)).body.calls.length, 0, 'an SQL-looking value matches nothing');
  t.equal(h.daemon.metrics.errorCount('STORE_WRITE_FAILED'), 0);
}));

t.test('PostgreSQL goes away mid-run: calls go on, records wait and are written when it is back', (t) => eachBackend(t, async (t, b) => {
  if (b.name !== 'postgres' || !b.server) return;
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`, { storeUrl: db.url, storeYaml: 'password: env:PGPW', env: { PGPW: db.password! } });
  t.teardown(() => h.close());
  await b.server.stop();

  const c = await h.call('echo');
  await until(() => c.call.state === 'connected', 5000, 'the call connected with the database down');
  let ready = await get(h, '/readyz');
  for (let i = 0; i < 200 && ready.body.store !== 'unavailable'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await get(h, '/readyz');
  }
  t.equal(ready.status, 200, 'still ready: a database outage does not stop calls');
  t.match(ready.body, { store: 'unavailable' });
  t.ok(ready.body.storeQueued >= 1, `writes queued (${ready.body.storeQueued})`);
  const hist = await get(h, '/v1/calls');
  t.equal(hist.status, 503);
  t.equal(hist.body.error.code, 'API_STORE_UNAVAILABLE');
  t.equal((await get(h, '/v1/calls?state=live')).body.calls.length, 1, 'live calls stay reachable');
  await h.twin.api(`uuid_kill ${c.aLeg}`);
  const rec = await c.ended;

  await b.server.start();
  let stored: Record<string, unknown> | undefined;
  for (let i = 0; i < 300 && !stored; i++) {
    const r = await get(h, `/v1/calls/${rec.callId}`);
    if (r.status === 200) stored = r.body;
    else await new Promise((res) => setTimeout(res, 100));
  }
  t.same(stored, { ...rec, state: 'ended', nodeId: h.daemon.nodeId }, 'the record reached the store after the outage');
  t.equal((await get(h, '/readyz')).body.store, 'ok');
  t.equal(h.daemon.metrics.errorCount('STORE_UNAVAILABLE'), 1);
}));
