// Issue 13: which node registers the trunks. Three RegistrarLease instances (three nodes) on one
// real PostgreSQL: exactly one holds the lease; when its session ends (the node closes, or dies:
// its connection is cut) another takes it, and never two at once; a holder that cannot register
// (no drachtio-server) lets it go.
import t from 'tap';
import pg from 'pg';
import { RegistrarLease } from '../../../src/cluster/registrar-lease.js';
import { withPassword } from '../../../src/store/store.js';
import { systemClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { postgresSkipReason, startPostgres } from '../../helpers/postgres.js';
import { until } from '../../helpers/harness.js';

const skip = postgresSkipReason();

t.test('one registrar among three nodes; the lease moves when its holder goes', { skip }, async (t) => {
  const server = await startPostgres(t);
  const url = withPassword(await server.createDatabase(`fsbridge_lease_${process.pid}`), server.password);
  const eligible = [true, true, true];
  const leases = Array.from({ length: 3 }, (_x, i) => new RegistrarLease({
    connectionString: url, retryMs: 100, clock: systemClock, logger: silentLogger(), metrics: new MetricsRegistry(),
    applicationName: `fsbridge-registrar:n${i}`, eligible: () => eligible[i],
  }));
  t.teardown(() => Promise.all(leases.map((l) => l.close())));
  // never two holders: checked at every acquisition
  let most = 0;
  const acquired: number[] = [];
  leases.forEach((l, i) => l.on('acquired', () => { acquired.push(i); most = Math.max(most, leases.filter((x) => x.held).length); }));
  for (const l of leases) l.start();
  await until(() => leases.some((l) => l.held), 10_000, 'a holder');
  await new Promise((r) => setTimeout(r, 500)); // the others have tried several times by now
  t.equal(leases.filter((l) => l.held).length, 1, 'one node holds it; the others keep trying');
  const first = leases.findIndex((l) => l.held);

  await leases[first].close();
  await until(() => leases.some((l, i) => i !== first && l.held), 10_000, 'a second holder after a clean close');
  const second = leases.findIndex((l) => l.held);
  t.not(second, first, 'another node took it');

  // a holder whose database session is cut (its node died): PostgreSQL releases the lock
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(() => admin.end());
  const lost = new Promise<void>((r) => leases[second].once('lost', () => r()));
  await admin.query(`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()`);
  await lost;
  t.notOk(leases[second].held, 'the cut-off holder knows it lost the lease');
  await until(() => leases.some((l) => l.held), 10_000, 'a holder after the cut');
  t.equal(leases.filter((l) => l.held).length, 1, 'and one node holds it again');

  // a holder that can no longer register (its drachtio-server went away) lets it go
  const third = leases.findIndex((l) => l.held);
  eligible[third] = false;
  await until(() => leases.some((l, i) => i !== third && l.held), 10_000, 'a holder after the last one could not register');
  t.notOk(leases[third].held, 'the node without drachtio-server no longer holds it');
  t.equal(most, 1, `never two holders at once (acquisitions: ${acquired.join(', ')})`);
});
