import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { FsbridgeError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';
import type { AuditLogTable, CallsTable, RecordingKeysTable, RecordingsTable, StoreTables, WebhookOutboxTable } from './tables.js';
import { closeNodeWork } from './node-rows.js';
import type { CallFilter } from './call-filter.js';
import type { StoreLocation } from '../config/store-url.js';

/** A write the store applies (queued by the StoreWriter, applied in batches, in order). */
export type StoreOp =
  | { kind: 'call-offered'; row: CallsTable }
  | { kind: 'call-progress'; callId: string; fsUuid: string; answeredAt: number | null; connectedAt: number | null }
  | { kind: 'call-ended'; row: CallsTable }
  | { kind: 'node-seen'; nodeId: string; atMs: number }
  | { kind: 'slot-released'; callId: string }
  | { kind: 'node-stopped'; nodeId: string; atMs: number }
  | { kind: 'audit'; entry: AuditLogTable }
  | { kind: 'webhook'; row: WebhookOutboxTable }
  | { kind: 'recording-key'; row: RecordingKeysTable }
  | { kind: 'recording-started'; row: RecordingsTable }
  | { kind: 'recording-ended'; callId: string; state: RecordingsTable['state']; endedAt: number; durationMs: number; bytes: number };

export interface StoreOpenOptions {
  location: StoreLocation;
  /** PostgreSQL password (store.password), when the server asks for one. */
  password?: string;
  /** Called when an idle PostgreSQL connection fails (the pool replaces it). */
  onIdleError?: (err: Error) => void;
}

const PG_INT8 = 20;
/** bigint columns (times, durations) come back as numbers, as SQLite gives them. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => (oid === PG_INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')))
} as pg.CustomTypesConfig;

/**
 * The database behind fsbridge: SQLite (one file, embedded) or PostgreSQL, through one query
 * builder and one set of migrations. `open()` connects and migrates; every method may throw when
 * the database is unreachable (the StoreWriter queues writes until it is back).
 */
export class Store {
  private constructor(readonly db: Kysely<StoreTables>, readonly kind: StoreLocation['kind']) {}

  /**
   * Opens the database and brings its schema up to date. Throws FsbridgeError STORE_OPEN_FAILED
   * (unreachable, refused, unwritable) or STORE_SCHEMA_NEWER (migrated by a newer fsbridge).
   */
  static async open(o: StoreOpenOptions): Promise<Store> {
    let db: Kysely<StoreTables>;
    const loc = o.location;
    try {
      if (loc.kind === 'sqlite') {
        if (loc.path !== ':memory:') mkdirSync(dirname(loc.path), { recursive: true });
        const file = new BetterSqlite3(loc.path);
        file.pragma('journal_mode = WAL');
        file.pragma('synchronous = NORMAL');
        file.pragma('busy_timeout = 5000');
        db = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: file }) });
      } else {
        const pool = new pg.Pool({
          connectionString: withPassword(loc.connectionString, o.password), max: 8, connectionTimeoutMillis: 5000,
          idleTimeoutMillis: 30_000, statement_timeout: 10_000, query_timeout: 15_000, types: pgTypes,
        });
        // An idle client's failure (the server restarted) is emitted on the pool: without a
        // listener it would end the process.
        pool.on('error', (err) => o.onIdleError?.(err));
        db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
      }
    } catch (err) {
      throw new FsbridgeError('STORE_OPEN_FAILED', `cannot open the store: ${(err as Error).message}`, err);
    }
    const store = new Store(db, loc.kind);
    try {
      await store.migrate();
    } catch (err) {
      await db.destroy().catch(() => {});
      if (err instanceof FsbridgeError) throw err;
      throw new FsbridgeError('STORE_OPEN_FAILED', `cannot open the store: ${(err as Error).message}`, err);
    }
    return store;
  }

  /** Applies the migrations this version has and the database lacks. */
  private async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const msg = (error as Error).message ?? String(error);
      if (/corrupted migrations|is missing/i.test(msg)) {
        throw new FsbridgeError('STORE_SCHEMA_NEWER', `the store was migrated by another (newer) fsbridge: ${msg}`, error);
      }
      throw error;
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** The migrations applied so far, in order. */
  async migrations(): Promise<string[]> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
    return (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
  }

  /** Throws when the database cannot be reached. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Applies writes in one transaction: all or none. */
  async apply(ops: readonly StoreOp[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const op of ops) await applyOp(trx, op);
    });
  }

  /**
   * Start of a node: the calls it left `live` (it stopped without ending them) are closed with
   * what orphanEnd() says, then the node is marked started. Returns how many were closed.
   */
  async recoverNode(nodeId: string, nowMs: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const node = await trx.selectFrom('nodes').select('seen_at').where('node_id', '=', nodeId).executeTakeFirst();
      const closed = await closeNodeWork(trx, nodeId, node ? Number(node.seen_at) : null);
      await trx.insertInto('nodes').values({ node_id: nodeId, started_at: nowMs, seen_at: nowMs, down_at: null, taken_by: null })
        .onConflict((oc) => oc.column('node_id').doUpdateSet({ started_at: nowMs, seen_at: nowMs, down_at: null, taken_by: null })).execute();
      return closed;
    });
  }

  /** One page of call history, newest first; `limit + 1` rows are read to know whether more follow. */
  async listCalls(f: CallFilter): Promise<CallsTable[]> {
    let q = this.db.selectFrom('calls').selectAll();
    if (f.from !== undefined) q = q.where('from_number', '=', f.from);
    if (f.to !== undefined) q = q.where('to_number', '=', f.to);
    if (f.bot !== undefined) q = q.where('bot', '=', f.bot);
    if (f.cause !== undefined) q = q.where('cause', '=', f.cause);
    if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
    if (f.state !== undefined) q = q.where('state', '=', f.state);
    if (f.tenant !== undefined) q = q.where('tenant', '=', f.tenant);
    if (f.sinceMs !== undefined) q = q.where('offered_at', '>=', f.sinceMs);
    if (f.untilMs !== undefined) q = q.where('offered_at', '<', f.untilMs);
    const after = f.after;
    if (after) {
      q = q.where((eb) => eb.or([
        eb('offered_at', '<', after.offeredAtMs),
        eb.and([eb('offered_at', '=', after.offeredAtMs), eb('call_id', '<', after.callId)]),
      ]));
    }
    return q.orderBy('offered_at', 'desc').orderBy('call_id', 'desc').limit(f.limit + 1).execute();
  }

  async getCall(callId: string): Promise<CallsTable | undefined> {
    return this.db.selectFrom('calls').selectAll().where('call_id', '=', callId).executeTakeFirst();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * The URL with the password in it, for the driver only (pg lets the connection string's fields
 * override separate ones, a missing password included). Never logged.
 */
export function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

async function applyOp(trx: Transaction<StoreTables>, op: StoreOp): Promise<void> {
  switch (op.kind) {
    case 'call-offered':
      await trx.insertInto('calls').values(op.row).onConflict((oc) => oc.column('call_id').doNothing()).execute();
      return;
    case 'call-progress':
      // only a live row: an ended record is final
      await trx.updateTable('calls').set({ fs_uuid: op.fsUuid, answered_at: op.answeredAt, connected_at: op.connectedAt })
        .where('call_id', '=', op.callId).where('state', '=', 'live').execute();
      return;
    case 'call-ended': {
      const { call_id: _id, ...rest } = op.row;
      await trx.insertInto('calls').values(op.row).onConflict((oc) => oc.column('call_id').doUpdateSet(rest)).execute();
      return;
    }
    case 'node-seen':
      await trx.updateTable('nodes').set({ seen_at: op.atMs }).where('node_id', '=', op.nodeId).execute();
      return;
    case 'node-stopped':
      // its calls ended: slots a release did not reach yet are freed too
      await trx.updateTable('nodes').set({ seen_at: op.atMs, down_at: op.atMs, taken_by: op.nodeId }).where('node_id', '=', op.nodeId).execute();
      await trx.deleteFrom('call_slots').where('node_id', '=', op.nodeId).execute();
      return;
    case 'slot-released':
      await trx.deleteFrom('call_slots').where('call_id', '=', op.callId).execute();
      return;
    case 'audit':
      // a batch retried after a lost answer may hold it already
      await trx.insertInto('audit_log').values(op.entry).onConflict((oc) => oc.column('id').doNothing()).execute();
      return;
    case 'webhook':
      await trx.insertInto('webhook_outbox').values(op.row).onConflict((oc) => oc.column('id').doNothing()).execute();
      return;
    case 'recording-key':
      await trx.insertInto('recording_keys').values(op.row).onConflict((oc) => oc.column('id').doNothing()).execute();
      return;
    case 'recording-started':
      await trx.insertInto('recordings').values(op.row).onConflict((oc) => oc.column('call_id').doNothing()).execute();
      return;
    case 'recording-ended':
      await trx.updateTable('recordings').set({ state: op.state, ended_at: op.endedAt, duration_ms: op.durationMs, bytes: op.bytes })
        .where('call_id', '=', op.callId).execute();
      return;
  }
}
