// Issue 13: the `cluster` section: its defaults, and the PostgreSQL store it needs.
import t from 'tap';
import { loadConfig } from '../../../src/config/load.js';
import { MINIMAL } from './helpers.js';

const PG = 'store: { url: "postgres://fsbridge@db.example.net:5432/fsbridge" }\n';

t.test('cluster: defaults with a PostgreSQL store', (t) => {
  const r = loadConfig({ text: `${MINIMAL}${PG}cluster: {}\n`, env: {} });
  if (!r.ok) { t.fail(r.errors.map((e) => e.message).join('\n')); return t.end(); }
  t.same(r.config.cluster, { leaseSec: 30 }, 'leaseSec 30; no sipAddress (drachtio-server\'s own)');
  const s = loadConfig({ text: `${MINIMAL}${PG}cluster: { leaseSec: 10, sipAddress: "203.0.113.10:5060" }\n`, env: {} });
  t.match(s.ok && s.config.cluster, { leaseSec: 10, sipAddress: '203.0.113.10:5060' });
  const lone = loadConfig({ text: MINIMAL, env: {} });
  t.ok(lone.ok && lone.config.cluster === undefined, 'a lone node has none');
  t.end();
});

t.test('cluster: refused with SQLite, a bad lease or address', (t) => {
  const paths = (text: string) => {
    const r = loadConfig({ text, env: {} });
    return r.ok ? [] : r.errors.map((e) => [e.code, e.path]);
  };
  t.same(paths(`${MINIMAL}cluster: {}\n`), [['CONFIG_INVALID', 'cluster']], 'the default SQLite store');
  t.same(paths(`${MINIMAL}store: { url: "sqlite:/tmp/x.db" }\ncluster: {}\n`), [['CONFIG_INVALID', 'cluster']], 'an SQLite store');
  t.same(paths(`${MINIMAL}${PG}cluster: { leaseSec: 1 }\n`), [['CONFIG_INVALID', 'cluster.leaseSec']], 'a lease under 3 s');
  t.same(paths(`${MINIMAL}${PG}cluster: { sipAddress: "kamailio" }\n`), [['CONFIG_INVALID', 'cluster.sipAddress']], 'an address without a port');
  t.end();
});
