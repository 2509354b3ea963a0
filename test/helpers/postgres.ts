// A real PostgreSQL server for the store tests (bench/lib/postgres.ts), stopped and removed in the
// teardown of the test that started it; and the one line a test prints when PostgreSQL is absent.
import type { Test } from 'tap';
import { launchPostgres, postgresInstalled, type PgServer } from '../../bench/lib/postgres.js';

export type { PgServer } from '../../bench/lib/postgres.js';

/**
 * false when a PostgreSQL server can be started, else the one line a skipped test prints saying how
 * to get it. In CI (`CI=true`) absence is a failure: .ci/run installs the package.
 */
export function postgresSkipReason(): string | false {
  if (postgresInstalled()) return false;
  const why = 'PostgreSQL is not installed: apt-get install postgresql (Debian) to run the PostgreSQL store tests';
  if (process.env.CI === 'true') throw new Error(`${why}; CI must not skip them`);
  return why;
}

/** Initialises and starts a cluster; stopped and removed in the test's teardown. */
export async function startPostgres(t: Test): Promise<PgServer> {
  const server = await launchPostgres();
  t.teardown(async () => {
    if (!t.passing()) t.comment(`postgres log (last lines):\n${server.log(30)}`);
    await server.destroy();
  });
  return server;
}
