// Issue 13: what several nodes share through one real PostgreSQL. Three Store instances (three
// nodes' pools) on one database: the shared limits under contention (never passed, and reached),
// the daily cap across nodes (exactly reached), hopper leases (disjoint; a lapsed lease is taken
// by another node) and the takeover of a dead node (claimed by exactly one node).
import t, { type Test } from 'tap';
import { Store } from '../../../src/store/store.js';
import { parseStoreUrl, type StoreLocation } from '../../../src/config/store-url.js';
import { SharedLimits, type SlotClaim } from '../../../src/store/shared-limits.js';
import { CampaignStore } from '../../../src/campaigns/campaign-store.js';
import { offeredRow } from '../../../src/store/call-rows.js';
import { contend } from '../../../bench/lib/slot-contention.js';
import { beat, deadNodes, nodesToAdopt, takeOverNode } from '../../../src/store/node-rows.js';
import { sql } from 'kysely';
import pg from 'pg';
import { withPassword } from '../../../src/store/store.js';
import { postgresSkipReason, startPostgres } from '../../helpers/postgres.js';

const skip = postgresSkipReason();
const T0 = Date.parse('2026-12-07T10:00:00Z');

/** The URL (with its password) of the last database threeNodes() made. */
let regUrl = '';

async function threeNodes(t: Test): Promise<Store[]> {
  const server = await startPostgres(t);
  const url = await server.createDatabase(`fsbridge_cluster_${process.pid}_${Math.floor(Math.random() * 1e6)}`);
  regUrl = withPassword(url, server.password);
  const loc = parseStoreUrl(url) as StoreLocation;
  const stores: Store[] = [];
  for (let i = 0; i < 3; i++) stores.push(await Store.open({ location: loc, password: server.password }));
  t.teardown(() => Promise.all(stores.map((s) => s.close())));
  return stores;
}

const claim = (over: Partial<SlotClaim> & Pick<SlotClaim, 'callId' | 'nodeId'>): SlotClaim => ({
  tenant: 'acme', trunk: null, campaignId: null, atMs: T0, tenantMax: null, tenantPerDay: null, trunkMax: null, campaignMax: null, reserve: 0, ...over,
});

t.test('shared limits on PostgreSQL: three nodes under contention never pass a limit together', { skip }, async (t) => {
  const stores = await threeNodes(t);
  const limits = stores.map((s) => new SharedLimits(() => s.db, 'postgres'));
  const r = await contend(limits, { workers: 8, rounds: 1500, tenantMax: 6, trunkMax: 3 });
  t.comment(`locked: ${r.done} claims (${r.granted} granted) at ${r.perSec}/s; most held at once: tenant ${r.maxHeld} of 6, trunk ${r.maxTrunk} of 3`);
  t.equal(r.done, 1500, 'every claim was answered');
  t.ok(r.maxHeld <= 6, `the tenant's 6 were never passed (most at once: ${r.maxHeld})`);
  t.ok(r.maxTrunk <= 3, `the trunk's 3 were never passed (most at once: ${r.maxTrunk})`);
  t.equal(r.maxHeld, 6, 'the contention was real: the tenant limit was reached');
  t.same(await limits[0].live(), { tenant: {}, trunk: {}, campaign: {} }, 'every slot was given back');

  // the same load with the advisory locks left out (as on SQLite): what the locks prevent
  const unlocked = stores.map((s) => new SharedLimits(() => s.db, 'sqlite'));
  const u = await contend(unlocked, { workers: 8, rounds: 1500, tenantMax: 6, trunkMax: 3 });
  t.comment(`without the locks: most held at once: tenant ${u.maxHeld} of 6, trunk ${u.maxTrunk} of 3 (${u.perSec} claims/s)`);
});

t.test('a tenant\'s calls per day across nodes: exactly the cap is granted', { skip }, async (t) => {
  const stores = await threeNodes(t);
  const limits = stores.map((s) => new SharedLimits(() => s.db, 'postgres'));
  let granted = 0;
  await Promise.all(limits.flatMap((l, node) => Array.from({ length: 4 }, async (_x, w) => {
    for (let i = 0; i < 10; i++) {
      const id = `d${node}-${w}-${i}`;
      if ((await l.claim(claim({ callId: id, nodeId: `n${node}`, tenantPerDay: 50 }))) === null) granted++;
      await l.release(id);
    }
  })));
  t.equal(granted, 50, '120 claims on three nodes, 50 granted');
  const row = await stores[0].db.selectFrom('daily_counts').selectAll().executeTakeFirst();
  t.match(row, { scope: 'tenant:acme', n: 50 }, 'the day\'s count');
  const refused = await limits[1].claim(claim({ callId: 'late', nodeId: 'n1', tenantPerDay: 50 }));
  t.equal(refused, 'TENANT_DAILY_LIMIT');
  t.equal(await limits[1].claim(claim({ callId: 'tomorrow', nodeId: 'n1', tenantPerDay: 50, atMs: T0 + 86_400_000 })), null, 'the next UTC day starts again');
});

t.test('hopper leases: nodes never hold the same contact; a lapsed lease is taken by another node', { skip }, async (t) => {
  const stores = await threeNodes(t);
  const cs = stores.map((s) => new CampaignStore(() => s.db));
  const contacts = Array.from({ length: 200 }, (_x, i) => ({ number: `+49151${String(1000000 + i)}`, timeZone: null, vars: null, valid: true }));
  await cs[0].create({
    id: 'camp', tenant: 'acme', name: 'c', state: 'running', spec: '{}', contacts_total: 200, created_at: T0, updated_at: T0,
  }, contacts, 'running', () => T0);
  const lease = (n: number, now: number, limit = 50) => cs[n].dueLeased('camp', now, limit, { nodeId: `n${n}`, untilMs: now + 30_000, skipLocked: true });
  const [a, b, c] = await Promise.all([lease(0, T0), lease(1, T0), lease(2, T0)]);
  const seqs = [...a, ...b, ...c].map((k) => k.seq);
  t.comment(`hoppers: ${a.length}, ${b.length}, ${c.length}`);
  t.equal(seqs.length, 150, 'each node got a hopper of 50');
  t.equal(new Set(seqs).size, 150, 'no contact in two hoppers');
  t.same(a.map((k) => k.seq), [...a.map((k) => k.seq)].sort((x, y) => x - y), 'a hopper is in due order');
  const d = await lease(1, T0 + 1000);
  t.ok(d.every((k) => !a.some((x) => x.seq === k.seq)), 'while node 0\'s lease runs, node 1 does not get its contacts');
  const later = await lease(1, T0 + 31_000, 200);
  t.ok(a.every((k) => later.some((x) => x.seq === k.seq)), 'once it lapsed, node 1 takes node 0\'s contacts');
});

t.test('a dead node is taken over once: its calls closed, its slots, leases and registrar session freed', { skip }, async (t) => {
  const stores = await threeNodes(t);
  const db = stores[0].db;
  const now = Date.now();
  for (const [i, s] of stores.entries()) await s.recoverNode(`n${i}`, now);
  await stores[0].apply([{ kind: 'call-offered', row: offeredRow({ callId: 'live-1', fsUuid: 'u1', direction: 'inbound', bot: 'b', from: '1', to: '2', tenant: 'acme', offeredAt: new Date(now - 20_000).toISOString() }, 'n0') }]);
  const limits = new SharedLimits(() => db, 'postgres');
  t.equal(await limits.claim(claim({ callId: 'live-1', nodeId: 'n0', atMs: now })), null);
  await db.insertInto('campaign_attempts').values({
    call_id: 'live-1', campaign_id: 'camp', seq: 0, attempt: 1, tenant: 'acme', number: '+491511000000', node_id: 'n0',
    state: 'dialling', outcome: null, sip_status: null, started_at: now - 20_000, ended_at: null,
  }).execute();
  // n0's registrar session, as registrar-lease.ts opens it, holding the lease
  const reg = new pg.Client({ connectionString: regUrl, application_name: 'fsbridge-registrar:n0' });
  const ended = new Promise<void>((r) => reg.on('error', () => r()));
  await reg.connect();
  await reg.query('select pg_advisory_lock(1, 1)');
  // n0 stopped beating 40 s ago (by the database's clock); n1 and n2 beat now
  await sql`update nodes set seen_at = seen_at - 40000 where node_id = 'n0'`.execute(db);
  await beat(stores[1].db, 'n1');
  await beat(stores[2].db, 'n2');
  t.same(await deadNodes(stores[1].db, 'n1', 30_000), ['n0'], 'n1 sees n0 dead');
  t.same(await deadNodes(stores[1].db, 'n1', 60_000), [], 'not with a longer lease');
  const [r1, r2] = await Promise.all([
    takeOverNode(stores[1].db, 'n0', 'n1', 30_000, 'fsbridge-registrar:n0'),
    takeOverNode(stores[2].db, 'n0', 'n2', 30_000, 'fsbridge-registrar:n0'),
  ]);
  t.same([r1, r2].filter((r) => r !== null), [1], 'exactly one node took it over, closing its one call');
  const taker = r1 !== null ? 'n1' : 'n2';
  t.match(await stores[0].getCall('live-1'), { state: 'ended', error_code: 'CALL_DAEMON_CRASHED' }, 'its call is closed as a crash');
  t.same((await limits.live()).tenant, {}, 'its slot is free');
  await ended;
  t.pass('its registrar session was ended (the lease is free for another node)');
  t.same(await deadNodes(stores[1].db, 'n1', 30_000), [], 'not taken over twice');
  t.same(await nodesToAdopt(db, taker), ['n0'], 'its open attempt is for the taker to resolve');
  t.same(await nodesToAdopt(db, taker === 'n1' ? 'n2' : 'n1'), [], 'and for no other node');
  // n0 was only stalled: its next heartbeat finds out
  const was = await beat(stores[0].db, 'n0');
  t.match(was, { takenBy: taker }, 'n0 learns it was taken for dead, and by whom');
  t.equal(await beat(stores[0].db, 'n0'), null, 'and is a live node again');
});
