// Erasure (issue 10): DELETE /v1/subjects/{number} and `fsbridge subjects erase` remove every
// record of the tenant from or to that number, in the store and in calls.recordFile, and leave an
// audit entry without the number; another tenant's records stay. SQLite and a real PostgreSQL.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, until, type Harness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { eachBackend } from '../../helpers/store-backends.js';
import { Proc } from '../../helpers/process.js';

const SUBJECT = '+15550001';

t.test('erasing a phone number', (t) => eachBackend(t, async (t, b) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const h: Harness = await startHarness(`  acme-bot: { url: "${bot.url}twilio", protocol: twilio, tenant: acme }
  globex-bot: { url: "${bot.url}twilio", protocol: twilio, tenant: globex }`, {
    extraYaml: 'tenants:\n  acme: {}\n  globex: {}\n', storeUrl: db.url,
    ...(db.password ? { storeYaml: 'password: env:PGPW', env: { PGPW: db.password } } : {}),
  });
  t.teardown(() => h.close());
  const api = async (key: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${h.daemon.ports.api}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  const call = async (bot: string, from: string) => {
    const c = await h.call(bot, ['sim_caller_tone=440', `origination_caller_id_number=${from}`]);
    await until(() => c.call.state === 'connected', 5000, 'connected');
    await h.twin.api(`uuid_kill ${c.aLeg}`);
    return c.ended;
  };
  const a1 = await call('acme-bot', SUBJECT);
  const a2 = await call('acme-bot', SUBJECT);
  const a3 = await call('acme-bot', '+15550002');
  const g1 = await call('globex-bot', SUBJECT);
  t.equal(a1.from, SUBJECT, 'the caller id is the record\'s from');
  await until(() => h.daemon.calls.size === 0, 5000);
  const operator = (await api('test-token', 'POST', '/v1/keys', { tenant: 'acme', role: 'operator' })).body.key as string;
  const viewer = (await api('test-token', 'POST', '/v1/keys', { tenant: 'acme', role: 'viewer' })).body.key as string;

  t.equal((await api(viewer, 'DELETE', `/v1/subjects/${encodeURIComponent(SUBJECT)}`)).status, 403, 'a viewer may not erase');
  t.equal((await api(operator, 'DELETE', '/v1/subjects/hello')).status, 400, 'not a number');
  const erased = await api(operator, 'DELETE', `/v1/subjects/${encodeURIComponent(SUBJECT)}`);
  t.equal(erased.status, 200);
  t.same(erased.body, { erased: { calls: 2, recordings: 0, recordFileLines: 2, campaignContacts: 0 } }, 'the tenant\'s two calls, in the store and in the file');

  const ids = async (q: string) => ((await api('test-token', 'GET', `/v1/calls?limit=1000${q}`)).body.calls as { callId: string }[]).map((c) => c.callId).sort();
  t.same(await ids(''), [a3.callId, g1.callId].sort(), 'what is left: the other number\'s call and the other tenant\'s');
  t.equal((await api('test-token', 'GET', `/v1/calls/${a1.callId}`)).status, 404, 'an erased call is gone');
  const file = readFileSync(join(h.dir, 'calls.jsonl'), 'utf8');
  t.same(file.trim().split('\n').map((l) => (JSON.parse(l) as { callId: string }).callId).sort(), [a3.callId, g1.callId].sort(), 'the JSON-lines file too');
  t.notOk(file.includes(a2.callId));

  // audit entries go through the store's queue: read until the erasure's is there
  let audit: Record<string, unknown>[] = [];
  let entry: Record<string, unknown> | undefined;
  for (let i = 0; i < 100 && !entry; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    audit = (await api('test-token', 'GET', '/v1/audit?limit=1000')).body.entries as Record<string, unknown>[];
    entry = audit.find((e) => e.action === 'DELETE /v1/subjects/{id}' && e.status === 200);
  }
  t.match(entry, { target: null, tenant: 'acme', role: 'operator' }, 'the erasure is audited');
  t.notMatch(JSON.stringify(audit), /15550001/, 'without the number');

  // the CLI, through the running daemon: the other tenant, the number written without +
  const cfg = join(h.dir, 'erase.yaml');
  writeFileSync(cfg, `freeswitch: { esl: { password: x } }\napi: { listen: "127.0.0.1:${h.daemon.ports.api}", token: test-token }\n`);
  const p = new Proc(['subjects', 'erase', '--config', cfg, '--tenant', 'globex', '15550001']);
  t.teardown(() => p.stop('SIGKILL'));
  t.equal(await p.exited, 0, p.lines.join('\n'));
  t.match(p.lines.join('\n'), /"calls":1/);
  t.same(await ids(''), [a3.callId], 'the other tenant\'s call erased by the CLI');
  t.equal(h.daemon.metrics.errorCount('STORE_WRITE_FAILED'), 0);
}));
