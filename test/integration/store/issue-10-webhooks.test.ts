// Status callbacks (issue 10): a bot's Twilio-form callbacks and a tenant's JSON callbacks, signed,
// in order; a receiver that fails gets them again from the outbox, also after the daemon was
// stopped and started again, each event answered 2xx exactly once (idempotency key).
// SQLite and a real PostgreSQL.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { startHarness, until } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { eachBackend } from '../../helpers/store-backends.js';
import { Store, type StoreOp } from '../../../src/store/store.js';
import type { WebhookOutboxTable } from '../../../src/store/tables.js';
import { parseStoreUrl, type StoreLocation } from '../../../src/config/store-url.js';
import { nextDue } from '../../../src/webhooks/outbox.js';

interface Hit { path: string; headers: IncomingMessage['headers']; body: string; answered: number }

async function receiver(t: Parameters<Parameters<typeof eachBackend>[1]>[0]) {
  const hits: Hit[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => {
      hits.push({ path: req.url ?? '', headers: req.headers, body, answered: status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return { hits, url: (p: string) => `http://127.0.0.1:${port}${p}`, answer: (s: number) => { status = s; } };
}

/** Twilio's documented check: HMAC-SHA1(auth token, URL + each sorted param name and value), base64. */
function twilioValid(token: string, url: string, body: string, signature: string | undefined): boolean {
  const params = new URLSearchParams(body);
  const names = [...params.keys()].sort();
  const expected = createHmac('sha1', token).update(url + names.map((n) => n + params.get(n)).join('')).digest('base64');
  return signature === expected;
}

t.test('status callbacks', (t) => eachBackend(t, async (t, b) => {
  const rx = await receiver(t);
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const botCb = rx.url('/twilio?x=1');
  const bots = `  acme-bot: { url: "${bot.url}twilio", protocol: twilio, tenant: acme, statusCallback: { url: "${botCb}", secret: tw-auth-token } }`;
  const tenants = `tenants:\n  acme: { statusCallback: { url: "${rx.url('/json')}", format: json, secret: json-secret, events: [answered, completed] } }\n`;
  const opts = { extraYaml: tenants, storeUrl: db.url, ...(db.password ? { storeYaml: 'password: env:PGPW', env: { PGPW: db.password } } : {}) };
  const h = await startHarness(bots, opts);
  let closed = false;
  t.teardown(() => (closed ? undefined : h.close()));

  const c = await h.call('acme-bot', ['sim_caller_tone=440', 'origination_caller_id_number=+15550001']);
  await until(() => c.call.state === 'connected', 5000);
  await h.twin.api(`uuid_kill ${c.aLeg}`);
  const rec = await c.ended;
  await until(() => rx.hits.length === 5, 10_000, 'five callbacks');
  const tw = rx.hits.filter((x) => x.path.startsWith('/twilio'));
  const js = rx.hits.filter((x) => x.path === '/json');
  const form = tw.map((x) => Object.fromEntries(new URLSearchParams(x.body)));
  t.same(form.map((f) => f.CallStatus), ['initiated', 'in-progress', 'completed'], 'Twilio\'s statuses, in order');
  t.same(form.map((f) => f.SequenceNumber), ['0', '1', '2']);
  t.match(form[2], { CallbackSource: 'call-progress-events', Direction: 'inbound', From: '+15550001', AccountSid: 'ACtest', ApiVersion: '2010-04-01' });
  t.match(form[2].CallSid, /^CA[0-9a-f]{32}$/);
  t.equal(form[2].CallDuration, String(Math.ceil(rec.billableMs / 1000)));
  t.ok(tw.every((x) => twilioValid('tw-auth-token', botCb, x.body, x.headers['x-twilio-signature'] as string)), 'X-Twilio-Signature validates as Twilio\'s does');
  t.notOk(twilioValid('another-token', botCb, tw[0].body, tw[0].headers['x-twilio-signature'] as string), 'and not with another token');
  const keys = rx.hits.map((x) => x.headers['i-twilio-idempotency-token']);
  t.equal(new Set(keys).size, 5, 'one idempotency key per callback');
  const j = js.map((x) => JSON.parse(x.body) as Record<string, any>);
  t.same(j.map((x) => x.event), ['answered', 'completed'], 'the tenant\'s JSON callbacks: its events only');
  t.same(j[1].record, rec, 'completed carries the call record');
  t.ok(js.every((x) => x.headers['x-fsbridge-signature'] === 'sha256=' + createHmac('sha256', 'json-secret').update(x.body).digest('hex')), 'X-Fsbridge-Signature');
  // the receiver answered the fifth before the outbox was marked: wait for the mark
  let sent = 0;
  for (let i = 0; i < 200 && sent < 5; i++) {
    sent = await h.daemon.metrics.valueAll('fsbridge_webhooks_total', { result: 'sent' });
    if (sent < 5) await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(sent, 5, 'five sent');

  // the receiver fails: retried; the daemon stops with callbacks pending; the next start sends them
  rx.answer(503);
  rx.hits.length = 0;
  const c2 = await h.call('acme-bot');
  await until(() => c2.call.state === 'connected', 5000);
  await h.twin.api(`uuid_kill ${c2.aLeg}`);
  await c2.ended;
  await until(() => rx.hits.length >= 2, 10_000, 'failed attempts');
  await until(() => h.daemon.metrics.errorCount('WEBHOOK_DELIVERY_FAILED') >= 1, 5000);
  closed = true;
  await h.close();
  rx.answer(200);
  const h2 = await startHarness(bots, opts);
  t.teardown(() => h2.close());
  // c2: three Twilio and two JSON callbacks, each answered 200 exactly once
  const ok = () => rx.hits.filter((x) => x.answered === 200);
  await until(() => new Set(ok().map((x) => x.headers['x-fsbridge-idempotency-key'])).size === 5, 20_000, 'all five delivered after the restart');
  // every one of them marked sent in the outbox: nothing is left that could be sent again
  const sentHere = h2.daemon.metrics.counter('fsbridge_webhooks_total', 'Status callback attempts, by result');
  await until(() => sentHere.get({ result: 'sent' }) >= 5, 10_000, 'the five marked sent');
  const okKeys = ok().map((x) => x.headers['x-fsbridge-idempotency-key']);
  t.equal(okKeys.length, 5, 'none answered 2xx twice');
  t.same(ok().filter((x) => x.path.startsWith('/twilio')).map((x) => new URLSearchParams(x.body).get('CallStatus')), ['initiated', 'in-progress', 'completed'], 'still in order');
}));

t.test('the outbox: one callback at a time per call and URL, and retries never hold up the others', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: parseStoreUrl(db.url) as StoreLocation, password: db.password });
  t.teardown(() => store.close());
  const NOW = 1_765_100_000_000;
  let seq = 0;
  const row = (call: string, url: string, dueAt: number): WebhookOutboxTable => ({
    id: `r${++seq}`, node_id: 'n', call_id: call, tenant: 'default', event: 'initiated', url, content_type: 'text/plain', body: '',
    headers: '{}', created_at: seq, due_at: dueAt, attempts: 0, state: 'pending', last_status: null, last_error: null, sent_at: null,
  });
  const ops: StoreOp[] = [];
  // 300 callbacks of failing calls waiting for their retry, each with a later event behind it
  for (let i = 0; i < 300; i++) ops.push({ kind: 'webhook', row: row(`fail${i}`, 'http://a/', NOW + 60_000) }, { kind: 'webhook', row: row(`fail${i}`, 'http://a/', NOW) });
  const fresh = row('ok', 'http://a/', NOW);
  const other = row('fail0', 'http://b/', NOW); // the same call to another URL is not held up
  const notMine = { ...row('ok2', 'http://a/', NOW), node_id: 'other-node' };
  ops.push({ kind: 'webhook', row: fresh }, { kind: 'webhook', row: other }, { kind: 'webhook', row: notMine });
  await store.apply(ops);
  t.same((await nextDue(store, 'n', NOW, 8)).map((r) => r.id), [fresh.id, other.id], 'the due heads only, past 600 rows waiting');
  t.same((await nextDue(store, 'n', NOW + 60_000, 2)).map((r) => r.id), ['r1', 'r3'], 'retries when due, oldest first, before what is behind them');
}));
