// Issue 10, recordings: per-tenant data keys wrapped by the master key (rotation of both, a wrong
// master key refused with a message naming the setting), and the retention purge. SQLite and a
// real PostgreSQL.
import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../../src/clock.js';
import { parseStoreUrl } from '../../../src/config/store-url.js';
import { Store, type StoreOp } from '../../../src/store/store.js';
import { RecordingKeyring } from '../../../src/recordings/keyring.js';
import { Recordings } from '../../../src/recordings/recordings.js';
import { findRecording } from '../../../src/store/recording-rows.js';
import { eraseSubject } from '../../../src/store/access.js';
import { offeredRow } from '../../../src/store/call-rows.js';
import { RecordingWriter } from '../../../src/recordings/recording-writer.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { eachBackend } from '../../helpers/store-backends.js';
import type { StoreLocation } from '../../../src/config/store-url.js';

const DAY = 86_400_000;

t.test('data keys and the master key', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: parseStoreUrl(db.url) as StoreLocation, password: db.password });
  t.teardown(() => store.close());
  const clock = new ManualClock();
  const ops: StoreOp[] = [];
  const writer = { push: (op: StoreOp) => ops.push(op) };
  const flush = async () => { await store.apply(ops.splice(0)); };
  const m1 = randomBytes(32);
  const m2 = randomBytes(32);
  const ring = (master: Buffer, previous: Buffer | null = null) => new RecordingKeyring({ master, previous, store: () => store, writer, clock, dataKeyDays: 30 });

  const k1 = ring(m1);
  t.equal(await k1.load(), 0, 'an empty store: nothing to load');
  const a = k1.activeKey('acme');
  t.same(k1.activeKey('acme'), a, 'one key per tenant while it is young');
  t.not(k1.activeKey('globex').id, a.id, 'each tenant its own');
  await flush();
  const stored = await store.db.selectFrom('recording_keys').selectAll().execute();
  t.equal(stored.length, 2);
  t.notOk(stored.some((r) => Buffer.from(r.wrapped, 'base64').includes(a.key)), 'stored only wrapped');
  clock.advance(31 * DAY);
  const a2 = k1.activeKey('acme');
  t.not(a2.id, a.id, 'after recordings.dataKeyDays a new key');
  await flush();

  const again = ring(m1);
  await again.load();
  t.same(await again.keyById(a.id, 'acme'), a.key, 'the old key still opens the old recordings');
  t.same(again.activeKey('acme').id, a2.id, 'the newest is the active one');
  t.equal(await again.keyById(a.id, 'globex'), null, 'a key is only its own tenant\'s');
  t.equal(await again.keyById('rk_none', 'acme'), null);

  await t.rejects(ring(m2).load(), {
    code: 'RECORDING_MASTER_KEY_WRONG',
    message: /recordings\.masterKey \(master key [0-9a-f]{16}\) does not open data key rk_[0-9a-f]+ of tenant (acme|globex), which master key [0-9a-f]{16} wrapped/,
  }, 'a wrong master key is refused, naming the setting and the key');

  t.equal(await ring(m2, m1).load(), 3, 'rotation: every key wrapped again with the new master key');
  const rotated = ring(m2);
  await rotated.load();
  t.same(await rotated.keyById(a.id, 'acme'), a.key, 'the new master key alone opens them now');
  await t.rejects(ring(m1).load(), { code: 'RECORDING_MASTER_KEY_WRONG' }, 'and the old one no longer does');
}));

t.test('the retention purge', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: parseStoreUrl(db.url) as StoreLocation, password: db.password });
  t.teardown(() => store.close());
  const dir = join(t.testdir(), 'rec');
  mkdirSync(dir, { recursive: true });
  const clock = new ManualClock();
  const now = clock.wallMs();
  const metrics = new MetricsRegistry();
  const recs = new Recordings({
    config: () => ({ recordings: { dir, dataKeyDays: 30, retentionDays: 10 }, tenants: { globex: { recordingRetentionDays: 2 }, keep: { recordingRetentionDays: 0 } } }),
    store: () => store, writer: { push: () => {} }, nodeId: 'n1', clock, logger: silentLogger(), metrics,
  });
  const row = (id: string, tenant: string, ageDays: number, o: { node?: string; state?: 'recording' | 'complete' } = {}) => {
    const path = join(dir, `${id}.fsbrec`);
    writeFileSync(path, 'x');
    return { call_id: id, tenant, node_id: o.node ?? 'n1', path, key_id: 'rk', state: o.state ?? 'complete', started_at: now - ageDays * DAY, ended_at: null, duration_ms: null, bytes: null } as const;
  };
  await store.apply([
    row('acme-old', 'acme', 11), row('acme-new', 'acme', 9),
    row('globex-old', 'globex', 3), row('globex-new', 'globex', 1),
    row('keep-old', 'keep', 400),
    row('other-node', 'acme', 20, { node: 'n2' }),
    row('still-recording', 'acme', 20, { state: 'recording' }),
  ].map((r) => ({ kind: 'recording-started' as const, row: r })));
  t.equal(await recs.purge(), 2, 'two past their retention');
  const left = (await store.db.selectFrom('recordings').select('call_id').orderBy('call_id').execute()).map((r) => r.call_id);
  t.same(left, ['acme-new', 'globex-new', 'keep-old', 'other-node', 'still-recording'],
    'recordings.retentionDays for acme, the tenant\'s own 2 days for globex, 0 keeps; another node\'s files and a running recording stay');
  t.notOk(existsSync(join(dir, 'acme-old.fsbrec')), 'the file is removed with its row');
  t.ok(existsSync(join(dir, 'acme-new.fsbrec')));
  t.equal(await findRecording(store, 'globex-old'), undefined);
  t.equal(await metrics.valueAll('fsbridge_recordings_purged_total'), 2);

  // a crash left 'still-recording' open: the node's next start marks it incomplete, so it can be read
  await store.recoverNode('n1', now);
  t.equal((await findRecording(store, 'still-recording'))?.state, 'incomplete', 'a recording cut by a crash is incomplete after the restart');
  await store.recoverNode('n2', now);
  t.equal((await findRecording(store, 'other-node'))?.state, 'complete', 'another node\'s finished one is untouched');
}));

t.test('a recording outlives the loss of its key\'s row; erasure across nodes', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const store = await Store.open({ location: parseStoreUrl(db.url) as StoreLocation, password: db.password });
  t.teardown(() => store.close());
  const dir = join(t.testdir(), 'rec');
  const clock = new ManualClock();
  const ops: StoreOp[] = [];
  const flush = async () => { await store.apply(ops.splice(0)); };
  const service = (nodeId: string) => {
    const r = new Recordings({
      config: () => ({ recordings: { dir, masterKey: 'cd'.repeat(32), dataKeyDays: 30, retentionDays: 0 }, tenants: {} }),
      store: () => store, writer: { push: (op) => ops.push(op) }, nodeId, clock, logger: silentLogger(), metrics: new MetricsRegistry(),
    });
    t.teardown(() => r.close());
    return r;
  };
  const n1 = service('n1');
  await n1.start();
  const audio = new Int16Array(16000).map((_, i) => Math.round(8000 * Math.sin(i / 7)));
  const record = async (r: Recordings, callId: string) => {
    const target = r.begin(callId, 'acme', 8000)!;
    const w = new RecordingWriter({ target, logger: silentLogger(), metrics: new MetricsRegistry() });
    w.push(audio);
    await w.close();
    await r.finish(target);
    await flush();
    return target;
  };
  const c1 = await record(n1, 'c1');
  await store.db.deleteFrom('recording_keys').execute();
  const later = service('n1');
  await later.start();
  const read = await later.read('c1');
  t.equal(read.ok, true, 'the store lost the key\'s row (a write lost in a database outage): the file still opens');
  if (read.ok) {
    const parts: Buffer[] = [];
    for await (const p of read.audio) parts.push(p);
    t.ok(Buffer.concat(parts).equals(Buffer.from(audio.buffer)), 'with the key its header carries, wrapped by the master key');
  }

  // the subject's calls: one recorded on n1, one on n2
  const n2 = service('n2');
  await n2.start();
  const c2 = await record(n2, 'c2');
  const call = (id: string, node: string) => ({ kind: 'call-offered' as const, row: offeredRow({ callId: id, fsUuid: '', direction: 'inbound', bot: 'b', from: '+15550003', to: '100', tenant: 'acme', offeredAt: new Date(clock.wallMs()).toISOString() }, node) });
  await store.apply([call('c1', 'n1'), call('c2', 'n2')]);
  const erased = await eraseSubject(store, ['+15550003'], 'acme', 'n1');
  t.same({ ...erased, callIds: erased.callIds.sort() }, { callIds: ['c1', 'c2'], recordingPaths: [c1.path], recordingsElsewhere: 1, campaignContacts: 0 }, 'n1 removes its own file; n2\'s is marked');
  t.equal(await findRecording(store, 'c1'), undefined);
  t.equal((await findRecording(store, 'c2'))?.state, 'erased');
  t.equal((await n1.read('c2')).ok, false, 'an erased recording is not served meanwhile');
  t.ok(existsSync(c2.path), 'n2\'s file waits for n2');
  t.equal(await n2.purge(), 1, 'n2\'s next purge removes it');
  t.notOk(existsSync(c2.path));
  t.equal(await findRecording(store, 'c2'), undefined, 'and its row');
}));
