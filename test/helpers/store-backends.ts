// The two stores every store test runs against: SQLite (always) and a real PostgreSQL (when the
// package is installed; CI installs it). Each backend gives a fresh, empty database per call.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Test } from 'tap';
import { postgresSkipReason, startPostgres, type PgServer } from './postgres.js';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** store.url of a new empty database, and its password (PostgreSQL). */
  fresh(t: Test): Promise<{ url: string; password?: string }>;
  /** PostgreSQL only: the server, to stop and start it. */
  server?: PgServer;
}

let dbSeq = 0;

/**
 * Runs `body` once per backend as a subtest. The PostgreSQL server is started once for the file
 * (in the parent test) and each fresh() creates a database in it.
 */
export async function eachBackend(t: Test, body: (t: Test, b: StoreBackend) => Promise<void>): Promise<void> {
  const sqlite: StoreBackend = {
    name: 'sqlite',
    async fresh(tt) {
      const dir = mkdtempSync(join(tmpdir(), 'fsbridge-store-'));
      tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
      return { url: `sqlite:${join(dir, 'fsbridge.db')}` };
    },
  };
  await t.test('sqlite', (tt) => body(tt, sqlite));
  const skip = postgresSkipReason();
  if (skip) {
    await t.test('postgres', { skip }, async () => {});
    return;
  }
  const server = await startPostgres(t);
  const postgres: StoreBackend = {
    name: 'postgres', server,
    async fresh() {
      return { url: await server.createDatabase(`fsbridge_t${process.pid}_${++dbSeq}`), password: server.password };
    },
  };
  await t.test('postgres', (tt) => body(tt, postgres));
}
