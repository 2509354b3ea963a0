// The store against SQLite and a real PostgreSQL, the same assertions for both: migrations at
// open (idempotent, versioned, a newer schema refused), offered/ended writes, history pages with
// filters and cursors, SQL-looking filter values, and closing the calls a crashed node left open.
import t from 'tap';
import { sql } from 'kysely';
import { Store } from '../../../src/store/store.js';
import { parseStoreUrl, type StoreLocation } from '../../../src/config/store-url.js';
import { endedRow, offeredRow, rowToCall } from '../../../src/store/call-rows.js';
import { parseCallFilter, type CallFilter } from '../../../src/store/call-filter.js';
import type { CallRecord } from '../../../src/calls/call-record.js';
import { FsbridgeError } from '../../../src/errors.js';
import { callsSince } from '../../../src/store/access.js';
import { eachBackend } from '../../helpers/store-backends.js';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const loc = (url: string) => parseStoreUrl(url) as StoreLocation;
const filter = (q: string): CallFilter => {
  const r = parseCallFilter(q);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.filter;
};

function record(i: number, over: Partial<CallRecord> = {}): CallRecord {
  const offered = T0 + i * 1000;
  return {
    callId: `call-${String(i).padStart(3, '0')}`, fsUuid: `uuid-${i}`, direction: i % 2 ? 'outbound' : 'inbound',
    bot: i % 3 ? 'sales' : 'support', from: `+4420700000${String(i % 10)}`, to: '8100', tenant: i % 5 ? 'acme' : 'globex',
    offeredAt: new Date(offered).toISOString(), answeredAt: new Date(offered + 100).toISOString(),
    connectedAt: new Date(offered + 200).toISOString(), endedAt: new Date(offered + 5000).toISOString(),
    durationMs: 5000, billableMs: 4900, cause: i % 4 ? 'NORMAL_CLEARING' : 'USER_BUSY', causeCode: i % 4 ? 16 : 17,
    endedBy: 'caller', ...over,
  };
}

t.test('the store behaves the same on SQLite and PostgreSQL', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: loc(db.url), password: db.password });
  t.teardown(() => store.close());
  t.same(await store.migrations(), ['0001-calls-and-nodes', '0002-tenants-keys-audit', '0003-webhook-outbox', '0004-recordings', '0005-campaigns', '0006-answered-by', '0007-cluster'], 'the first open applied the migrations');

  // offered, then ended: one row, completed
  const r0 = record(0);
  await store.apply([{ kind: 'call-offered', row: offeredRow({ ...r0, fsUuid: '' }, 'node-a') }]);
  const live = await store.getCall(r0.callId);
  t.equal(live?.state, 'live', 'a call is in the store from its offer on');
  await store.apply([{ kind: 'call-ended', row: endedRow(r0, 'node-a') }]);
  const ended = rowToCall((await store.getCall(r0.callId))!);
  t.same(ended, { ...r0, state: 'ended', nodeId: 'node-a' }, 'the ended record replaces the live row, field for field');
  // an ended record of a call never offered (refused at admission) is inserted; an offer arriving late changes nothing
  await store.apply([{ kind: 'call-ended', row: endedRow(record(1), 'node-a') }, { kind: 'call-offered', row: offeredRow(record(1), 'node-a') }]);
  t.equal((await store.getCall('call-001'))?.state, 'ended');

  const batch = [];
  for (let i = 2; i < 40; i++) batch.push({ kind: 'call-ended' as const, row: endedRow(record(i), 'node-a') });
  await store.apply(batch);

  // newest first, pages by cursor, nothing twice, nothing lost
  const seen: string[] = [];
  let f = filter('limit=7');
  for (let pages = 0; pages < 20; pages++) {
    const rows = await store.listCalls(f);
    const page = rows.slice(0, f.limit);
    seen.push(...page.map((r) => r.call_id));
    if (rows.length <= f.limit) break;
    const last = page[page.length - 1];
    f = { ...f, after: { offeredAtMs: Number(last.offered_at), callId: last.call_id } };
  }
  t.same(seen, Array.from({ length: 40 }, (_, i) => `call-${String(39 - i).padStart(3, '0')}`), 'pages cover every call once, newest first');

  const ids = async (q: string) => { const f = filter(q); return (await store.listCalls(f)).slice(0, f.limit).map((r) => r.call_id); };
  t.same(await ids('from=%2B44207000003&limit=100'), ['call-033', 'call-023', 'call-013', 'call-003'], 'from (a + written %2B)');
  t.same((await ids('bot=support&direction=inbound')).length, 7, 'bot and direction');
  t.same((await ids('cause=USER_BUSY')).length, 10, 'cause');
  t.same(await ids(`since=${encodeURIComponent(new Date(T0 + 37_000).toISOString())}`), ['call-039', 'call-038', 'call-037'], 'since is inclusive');
  t.same(await ids(`since=${T0 + 10_000}&until=${T0 + 12_000}`), ['call-011', 'call-010'], 'until is exclusive; ms since the epoch');
  t.same(await ids('state=ended&limit=1'), ['call-039']);
  t.same(await ids(`from=${encodeURIComponent("' OR 1=1 --")}`), [], 'an SQL-looking value is only a value');
  t.same(await ids(`bot=${encodeURIComponent('x"; DROP TABLE calls; --')}`), [], 'another one');
  t.equal((await ids('limit=1000')).length, 40, 'the table is intact');

  // the daily caps after a restart: admitted calls per tenant since a moment; refusals do not count
  await store.apply([{ kind: 'call-ended', row: endedRow(record(50, { tenant: 'acme', errorCode: 'TENANT_DAILY_LIMIT' }), 'node-a') }]);
  const counts = await callsSince(store, 'node-a', T0 + 30_000);
  t.same(Object.fromEntries(counts), { acme: 8, globex: 2 }, 'calls 30-39 by tenant, the refused call 50 left out');
  await store.apply([{ kind: 'call-ended', row: endedRow(record(51, { tenant: 'acme' }), 'node-b') }]);
  t.same(Object.fromEntries(await callsSince(store, 'node-a', T0 + 30_000)), { acme: 8, globex: 2 }, 'another node\'s calls count for that node');
  t.same(Object.fromEntries(await callsSince(store, 'node-b', T0 + 30_000)), { acme: 1 });
}));

t.test('a crashed node\'s open calls are closed at its next start, with a cause that says so', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: loc(db.url), password: db.password });
  t.teardown(() => store.close());
  t.equal(await store.recoverNode('node-a', T0), 0, 'a first start closes nothing');
  await store.apply([{ kind: 'node-seen', nodeId: 'node-a', atMs: T0 + 30_000 }]);
  await store.apply([
    { kind: 'call-offered', row: offeredRow(record(0), 'node-a') },
    { kind: 'call-offered', row: offeredRow({ ...record(1), fsUuid: '' }, 'node-a') },
    { kind: 'call-progress', callId: 'call-001', fsUuid: 'uuid-1', answeredAt: T0 + 1100, connectedAt: T0 + 1200 },
    { kind: 'call-offered', row: offeredRow(record(40), 'node-a') }, // offered after the last heartbeat
    { kind: 'call-offered', row: offeredRow(record(2), 'node-b') }, // another node's: not ours to close
    { kind: 'call-ended', row: endedRow(record(3), 'node-a') },
    // progress never touches an ended record
    { kind: 'call-progress', callId: 'call-003', fsUuid: 'other', answeredAt: 1, connectedAt: 1 },
  ]);
  t.equal(await store.recoverNode('node-a', T0 + 60_000), 3, 'the three live calls of node-a');
  const c0 = rowToCall((await store.getCall('call-000'))!);
  t.match(c0, { state: 'ended', endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', causeCode: 41, errorCode: 'CALL_DAEMON_CRASHED' });
  t.equal(c0.endedAt, new Date(T0 + 30_000).toISOString(), 'ended at the node\'s last heartbeat');
  t.equal(c0.billableMs, 0, 'never answered: nothing billable');
  const c1 = rowToCall((await store.getCall('call-001'))!);
  t.equal(c1.billableMs, T0 + 30_000 - (T0 + 1100), 'answered: billable up to the heartbeat');
  t.equal(c1.fsUuid, 'uuid-1', 'the channel learnt after the offer is kept');
  const c40 = rowToCall((await store.getCall('call-040'))!);
  t.equal(c40.endedAt, c40.offeredAt, 'never before its own offer');
  t.equal((await store.getCall('call-002'))?.state, 'live', 'node-b\'s call is left alone');
  t.same(rowToCall((await store.getCall('call-003'))!), { ...record(3), state: 'ended', nodeId: 'node-a' }, 'an ended call is not touched');
  t.equal(await store.recoverNode('node-a', T0 + 90_000), 0, 'a second start finds nothing open');
}));

t.test('migrations: a second open applies nothing; a newer schema is refused', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const s1 = await Store.open({ location: loc(db.url), password: db.password });
  await s1.apply([{ kind: 'call-ended', row: endedRow(record(5), 'n') }]);
  await s1.close();
  const s2 = await Store.open({ location: loc(db.url), password: db.password });
  t.same(await s2.migrations(), ['0001-calls-and-nodes', '0002-tenants-keys-audit', '0003-webhook-outbox', '0004-recordings', '0005-campaigns', '0006-answered-by', '0007-cluster']);
  t.equal((await s2.getCall('call-005'))?.state, 'ended', 'the data survived the reopen');
  await sql`insert into kysely_migration (name, timestamp) values ('0999-from-the-future', '2030-01-01T00:00:00.000Z')`.execute(s2.db);
  await s2.close();
  const err = await Store.open({ location: loc(db.url), password: db.password }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof FsbridgeError && err.code === 'STORE_SCHEMA_NEWER', `refused: ${(err as Error)?.message}`);
}));

t.test('a store that cannot be opened is a clear error', async (t) => {
  const err = await Store.open({ location: { kind: 'sqlite', path: '/etc/hostname/fsbridge/such.db' } }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof FsbridgeError && err.code === 'STORE_OPEN_FAILED', String((err as Error)?.message));
});

t.test('PostgreSQL: a wrong password is refused at open', async (t) => {
  await eachBackend(t, async (t, b) => {
    if (b.name !== 'postgres') return;
    const db = await b.fresh(t);
    const err = await Store.open({ location: loc(db.url), password: 'wrong' }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof FsbridgeError && err.code === 'STORE_OPEN_FAILED', String((err as Error)?.message));
    t.match((err as Error).message, /password authentication failed/);
  });
});
