// Tenants, API keys and roles through the real daemon (FreeSWITCH twin, echo bot), on SQLite and a
// real PostgreSQL: every /v1 route × every role × the key's own tenant and another tenant; wrong,
// expired and revoked keys; the audit log; per-tenant limits at admission; `fsbridge keys`.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHarness, until, type Harness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { eachBackend } from '../../helpers/store-backends.js';
import { Proc } from '../../helpers/process.js';
import { Store } from '../../../src/store/store.js';
import { insertKey } from '../../../src/store/access.js';
import { newKey } from '../../../src/tenants/access-service.js';
import { parseStoreUrl, type StoreLocation } from '../../../src/config/store-url.js';
import type { CallRecord } from '../../../src/calls/call-record.js';

type Answer = { status: number; body: any; text: string };

function client(h: Harness) {
  return async (key: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const r = await fetch(`http://127.0.0.1:${h.daemon.ports.api}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    let parsed: unknown = null;
    try { parsed = JSON.parse(text); } catch { /* CSV */ }
    return { status: r.status, body: parsed, text };
  };
}

const BOTS = (url: string) => `  acme-bot: { url: "${url}twilio", protocol: twilio, tenant: acme, record: true }
  globex-bot: { url: "${url}twilio", protocol: twilio, tenant: globex, record: true }
  capped-bot: { url: "${url}twilio", protocol: twilio, tenant: capped }`;
const TENANTS = 'tenants:\n  acme: {}\n  globex: {}\n  capped: { maxConcurrentCalls: 1, callsPerDay: 2 }\n';

async function start(t: Test, b: { fresh(t: Test): Promise<{ url: string; password?: string }> }) {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const recDir = mkdtempSync(join(tmpdir(), 'fsbridge-rec-'));
  t.teardown(() => rmSync(recDir, { recursive: true, force: true }));
  const h = await startHarness(BOTS(bot.url), {
    extraYaml: `${TENANTS}recordings: { dir: ${JSON.stringify(recDir)}, masterKey: "${'5a'.repeat(32)}" }\n`, storeUrl: db.url, ...(db.password ? { storeYaml: 'password: env:PGPW', env: { PGPW: db.password } } : {}),
  });
  t.teardown(() => h.close());
  return { h, db, api: client(h) };
}

/** A live call of a bot, and a way to end it. */
async function liveCall(h: Harness, bot: string) {
  const c = await h.call(bot);
  await until(() => c.call.state === 'connected', 5000, `${bot} connected`);
  return c;
}

t.test('every route × every role × own and other tenant', (t) => eachBackend(t, async (t, b) => {
  const { h, api } = await start(t, b);
  const ADMIN = 'test-token';
  const mk = async (tenant: string, role: string) => {
    const r = await api(ADMIN, 'POST', '/v1/keys', { tenant, role, name: `${role} of ${tenant}` });
    t.equal(r.status, 201, `key ${role}/${tenant} created`);
    t.match(r.body.key, /^fsb_[0-9a-f]{12}_/);
    return r.body as { id: string; key: string };
  };
  const keys = { admin: await mk('acme', 'admin'), operator: await mk('acme', 'operator'), viewer: await mk('acme', 'viewer') };
  const otherOperator = await mk('globex', 'operator');
  // one live call of each tenant; and one ended call of each
  const ownEnded = await liveCall(h, 'acme-bot');
  await h.twin.api(`uuid_kill ${ownEnded.aLeg}`);
  const ownRec: CallRecord = await ownEnded.ended;
  const otherEnded = await liveCall(h, 'globex-bot');
  await h.twin.api(`uuid_kill ${otherEnded.aLeg}`);
  const otherRec: CallRecord = await otherEnded.ended;
  t.equal(ownRec.tenant, 'acme', 'a call belongs to its bot\'s tenant');
  t.equal(otherRec.tenant, 'globex');
  await until(() => h.daemon.calls.size === 0, 5000);
  for (let i = 0; i < 100; i++) {
    const all = await api(ADMIN, 'GET', '/v1/calls?state=ended');
    if (all.body.calls.length === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const id of [ownRec.callId, otherRec.callId]) {
    for (let i = 0; i < 100 && (await api(ADMIN, 'GET', `/v1/calls/${id}/recording`)).status === 409; i++) await new Promise((r) => setTimeout(r, 20));
  }

  for (const role of ['admin', 'operator', 'viewer'] as const) {
    const key = keys[role].key;
    const admin = role === 'admin';
    await t.test(role, async (t) => {
      const own = await liveCall(h, 'acme-bot');
      const other = await liveCall(h, 'globex-bot');
      const ids = (r: Answer) => (r.body.calls as { callId: string }[]).map((c) => c.callId).sort();
      // GET /v1/calls: history
      const hist = await api(key, 'GET', '/v1/calls?state=ended&limit=1000');
      const tenantsSeen = [...new Set((hist.body.calls as { tenant: string }[]).map((c) => c.tenant))].sort();
      t.same(tenantsSeen, admin ? ['acme', 'globex'] : ['acme'], 'history: own tenant only (admin: all)');
      t.ok(ids(hist).includes(ownRec.callId), 'with the own call');
      const asked = await api(key, 'GET', '/v1/calls?tenant=globex&state=ended');
      t.ok(admin ? ids(asked).includes(otherRec.callId) : ids(asked).length === 0, 'asking for another tenant gives nothing');
      // live calls
      const live = await api(key, 'GET', '/v1/calls?state=live');
      t.same(ids(live), (admin ? [own.call.callId, other.call.callId] : [own.call.callId]).sort(), 'live: own tenant only');
      // one call
      t.equal((await api(key, 'GET', `/v1/calls/${ownRec.callId}`)).status, 200, 'own ended call');
      t.equal((await api(key, 'GET', `/v1/calls/${otherRec.callId}`)).status, admin ? 200 : 404, 'other tenant\'s ended call: 404 (as if absent)');
      t.equal((await api(key, 'GET', `/v1/calls/${other.call.callId}`)).status, admin ? 200 : 404, 'other tenant\'s live call');
      // CSV
      const csv = await api(key, 'GET', '/v1/calls?format=csv&state=ended');
      t.equal(csv.text.trim().split('\r\n').length - 1, hist.body.calls.length, 'CSV: the same rows as the history');
      t.equal(csv.text.includes(otherRec.callId), admin, 'the other tenant\'s rows only for admins');
      // hang-up
      const hangOther = await api(key, 'POST', `/v1/calls/${other.call.callId}/hangup`);
      t.equal(hangOther.status, role === 'viewer' ? 403 : admin ? 200 : 404, 'hang up another tenant\'s call');
      if (!admin) t.equal(other.call.state, 'connected', 'the other tenant\'s call goes on');
      const hangOwn = await api(key, 'POST', `/v1/calls/${own.call.callId}/hangup`);
      t.equal(hangOwn.status, role === 'viewer' ? 403 : 200, 'hang up own call');
      // place a call (no drachtio in this harness: a bot of the right tenant gets past the bot check)
      const placeOwn = await api(key, 'POST', '/v1/calls', { to: '+15550100', trunk: 'none', bot: 'acme-bot' });
      const placeOther = await api(key, 'POST', '/v1/calls', { to: '+15550100', trunk: 'none', bot: 'globex-bot' });
      if (role === 'viewer') {
        t.equal(placeOwn.status, 403);
        t.equal(placeOther.status, 403);
      } else {
        t.notMatch(placeOwn.body.error.problems.join(' '), /bot:/, 'own bot accepted');
        t.equal(placeOther.status, 400);
        t.match(placeOther.body.error.problems.join(' '), admin ? /^((?!bot:).)*$/ : /bot: expected the name of a configured bot/, 'another tenant\'s bot is unknown');
      }
      // recordings (issue 10, part 4)
      t.equal((await api(key, 'GET', `/v1/calls/${ownRec.callId}/recording`)).status, 200, 'own call\'s recording');
      t.equal((await api(key, 'GET', `/v1/calls/${otherRec.callId}/recording`)).status, admin ? 200 : 404, 'other tenant\'s recording: 404');
      // metrics
      const metrics = await api(key, 'GET', '/v1/metrics');
      t.equal(metrics.status, 200, 'metrics');
      t.match(metrics.text, /tenant="acme"/, 'with its own tenant\'s series');
      t.equal(/tenant="globex"/.test(metrics.text), admin, 'another tenant\'s only for admins');
      // trunks
      t.equal((await api(key, 'GET', '/v1/trunks')).status, 200);
      // keys
      t.equal((await api(key, 'GET', '/v1/keys')).status, admin ? 200 : 403, 'list keys');
      t.equal((await api(key, 'POST', '/v1/keys', { tenant: 'acme', role: 'viewer' })).status, admin ? 201 : 403, 'create a key');
      t.equal((await api(key, 'DELETE', `/v1/keys/${otherOperator.id}x`)).status, admin ? 404 : 403, 'revoke a key');
      // tenants
      const tenants = await api(key, 'GET', '/v1/tenants');
      t.same(tenants.body.tenants.map((x: { name: string }) => x.name), admin ? ['acme', 'capped', 'default', 'globex'] : ['acme'], 'tenants: own only');
      t.equal((await api(key, 'POST', '/v1/tenants', { name: `t-${role}` })).status, admin ? 201 : 403, 'create a tenant');
      // audit
      t.equal((await api(key, 'GET', '/v1/audit')).status, admin ? 200 : 403, 'read the audit log');
      if (other.call.live) await h.twin.api(`uuid_kill ${other.aLeg}`);
      if (own.call.live) await h.twin.api(`uuid_kill ${own.aLeg}`);
      await until(() => h.daemon.calls.size === 0, 5000);
    });
  }

  // the other tenant's own operator sees its own call, not acme's
  const globexSees = (await api(otherOperator.key, 'GET', '/v1/calls?state=ended&limit=1000')).body.calls as { callId: string; tenant: string }[];
  t.ok(globexSees.some((c) => c.callId === otherRec.callId), 'globex\'s operator sees its call');
  t.same(globexSees.every((c) => c.tenant === 'globex'), true);

  // wrong, malformed, revoked and expired keys
  t.equal((await api('fsb_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'GET', '/v1/calls')).status, 401, 'unknown key');
  t.equal((await api(keys.viewer.key.slice(0, -1) + (keys.viewer.key.endsWith('A') ? 'B' : 'A'), 'GET', '/v1/calls')).status, 401, 'right id, wrong secret');
  t.equal((await api('not-a-key', 'GET', '/v1/calls')).status, 401, 'malformed');
  t.equal((await api(ADMIN, 'DELETE', `/v1/keys/${keys.viewer.id}`)).status, 200, 'revoked');
  t.equal((await api(keys.viewer.key, 'GET', '/v1/calls')).status, 401, 'a revoked key is refused at once');
  t.equal((await api(ADMIN, 'DELETE', `/v1/keys/${keys.viewer.id}`)).status, 404, 'revoking twice: no live key');
  const listed = (await api(ADMIN, 'GET', '/v1/keys')).body.keys as Record<string, unknown>[];
  t.ok(listed.length >= 4, `the keys are listed (${listed.length})`);
  t.ok(listed.every((k) => !('hash' in k) && !('key' in k)), 'a list never shows the key or its hash');
  t.ok(listed.find((k) => k.id === keys.viewer.id)?.revokedAt, 'the revoked key says when');
  t.ok(h.daemon.metrics.errorCount('API_UNAUTHORIZED') >= 4);

  // the audit log: who did what, no phone numbers (entries go through the store's queue: read
  // until the last one, the revocation, is there)
  let audit: Record<string, unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    audit = (await api(ADMIN, 'GET', '/v1/audit?limit=1000')).body.entries as Record<string, unknown>[];
    if (audit.some((e) => e.action === 'DELETE /v1/keys/{id}' && e.status === 404)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const hang = audit.find((e) => e.action === 'POST /v1/calls/{id}/hangup' && e.keyId === keys.operator.id && e.status === 200);
  t.ok(hang, 'the operator\'s hang-up is in the audit log with its key id');
  t.ok(audit.find((e) => e.action === 'DELETE /v1/keys/{id}' && e.keyId === 'api.token' && e.target === keys.viewer.id), 'the revocation, by api.token');
  t.ok(audit.find((e) => e.action === 'POST /v1/calls' && e.status === 403 && e.keyId === keys.viewer.id), 'refused requests too');
  t.notMatch(JSON.stringify(audit), /\+15550100/, 'no dialled number in the audit log');
}));

t.test('per-tenant limits at admission; expired keys; fsbridge keys', (t) => eachBackend(t, async (t, b) => {
  const { h, db, api } = await start(t, b);
  const first = await liveCall(h, 'capped-bot');
  // a second simultaneous call of the tenant is refused; another tenant's is not
  const before = h.daemon.metrics.errorCount('TENANT_CONCURRENCY_LIMIT');
  await h.twin.api('originate {sim_caller_tone=440}loopback/bot-capped-bot/default &park');
  await until(() => h.daemon.metrics.errorCount('TENANT_CONCURRENCY_LIMIT') === before + 1, 5000, 'the second call refused');
  const other = await liveCall(h, 'acme-bot');
  t.equal(other.call.state, 'connected', 'another tenant is not limited');
  await h.twin.api(`uuid_kill ${first.aLeg}`);
  await h.twin.api(`uuid_kill ${other.aLeg}`);
  await until(() => h.daemon.calls.size === 0, 5000);
  // the refused call has its record, with the code and a busy cause
  let recs: Record<string, unknown>[] = [];
  for (let i = 0; i < 100 && !recs.some((r) => r.errorCode === 'TENANT_CONCURRENCY_LIMIT'); i++) {
    recs = (await api('test-token', 'GET', '/v1/calls?tenant=capped')).body.calls;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.match(recs.find((r) => r.errorCode === 'TENANT_CONCURRENCY_LIMIT'), { endedBy: 'fsbridge', cause: 'USER_BUSY', tenant: 'capped' });
  // callsPerDay 2: the tenant had 2 calls today (one refused call counts? no: only admitted ones)
  const second = await liveCall(h, 'capped-bot');
  await h.twin.api(`uuid_kill ${second.aLeg}`);
  await until(() => h.daemon.calls.size === 0, 5000);
  const daily = h.daemon.metrics.errorCount('TENANT_DAILY_LIMIT');
  await h.twin.api('originate {sim_caller_tone=440}loopback/bot-capped-bot/default &park');
  await until(() => h.daemon.metrics.errorCount('TENANT_DAILY_LIMIT') === daily + 1, 5000, 'the third call of the day refused');
  const placed = await api('test-token', 'POST', '/v1/calls', { to: '+15550100', trunk: 'none', bot: 'capped-bot' });
  t.equal(placed.status, 400, 'without drachtio the request is refused before admission');

  // an expired key, written straight into the store
  const store = await Store.open({ location: parseStoreUrl(db.url) as StoreLocation, password: db.password });
  const expired = newKey({ tenant: 'acme', role: 'admin', name: null, expiresInDays: 1, nowMs: Date.now() - 2 * 86_400_000 });
  await insertKey(store, expired.row);
  await store.close();
  t.equal((await api(expired.token, 'GET', '/v1/calls')).status, 401, 'an expired key is refused');

  // fsbridge keys create|list|revoke against the same store
  const cfg = join(h.dir, 'keys.yaml');
  writeFileSync(cfg, `freeswitch: { esl: { password: x } }\napi: { token: x }\n${TENANTS}store: { url: ${JSON.stringify(db.url)}${db.password ? ', password: env:PGPW' : ''} }\n`);
  const env: Record<string, string> = db.password ? { PGPW: db.password } : {};
  const run = async (...args: string[]) => {
    const p = new Proc(['keys', ...args, '--config', cfg], env);
    t.teardown(() => p.stop('SIGKILL'));
    const code = await p.exited;
    return { code, out: p.lines.join('\n') };
  };
  const created = await run('create', '--tenant', 'globex', '--role', 'viewer', '--name', 'cli key', '--expires-days', '30');
  t.equal(created.code, 0, created.out);
  const token = /key: (fsb_\S+)/.exec(created.out)?.[1] ?? '';
  const id = /id: (\S+)/.exec(created.out)?.[1] ?? '';
  const seen = await api(token, 'GET', '/v1/tenants');
  t.same(seen.body.tenants.map((x: { name: string }) => x.name), ['globex'], 'the CLI\'s key works against the running daemon');
  const list = await run('list', '--tenant', 'globex');
  t.match(list.out, new RegExp(`${id}\\tglobex\\tviewer\\tcli key`));
  t.notMatch(list.out, /fsb_/, 'list never prints a key');
  t.equal((await run('create', '--tenant', 'nobody', '--role', 'viewer')).code, 1, 'an unknown tenant is refused');
  t.equal((await run('create', '--tenant', 'globex', '--role', 'root')).code, 64, 'an unknown role is a usage error');
  t.equal((await run('revoke', id)).code, 0);
  t.equal((await api(token, 'GET', '/v1/tenants')).status, 401, 'revoked by the CLI: refused by the daemon');
  const audit = (await api('test-token', 'GET', '/v1/audit')).body.entries as Record<string, unknown>[];
  t.ok(audit.find((e) => e.keyId === 'cli' && e.action === 'keys revoke' && e.target === id), 'the CLI\'s changes are audited');
}));
