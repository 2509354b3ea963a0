import { sql, type Kysely, type Transaction } from 'kysely';
import { orphanEnd } from './call-rows.js';
import type { StoreTables } from './tables.js';

/**
 * The `nodes` rows of a cluster (several nodes sharing one PostgreSQL store): heartbeats, which
 * nodes are dead, and the takeover of a dead node's work. Times here are the database's clock,
 * so that the nodes' own clocks, which may differ, do not decide who is dead.
 */

/** The database's clock, in ms since the epoch (PostgreSQL). */
const DB_NOW = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Ends what a node that stopped without ending it left behind: its live calls are closed as
 * orphanEnd() says (at its last heartbeat `seenAt`), its recordings being written become
 * incomplete, its slots of the shared limits are freed and its campaign contact leases dropped.
 * Returns how many calls were closed.
 */
export async function closeNodeWork(trx: Transaction<StoreTables>, nodeId: string, seenAt: number | null): Promise<number> {
  const open = await trx.selectFrom('calls').select(['call_id', 'offered_at', 'answered_at', 'connected_at'])
    .where('state', '=', 'live').where('node_id', '=', nodeId).execute();
  for (const row of open) {
    await trx.updateTable('calls').set(orphanEnd(row, seenAt)).where('call_id', '=', row.call_id).where('state', '=', 'live').execute();
  }
  // its recordings still being written end where the crash cut them
  await trx.updateTable('recordings').set({ state: 'incomplete' }).where('node_id', '=', nodeId).where('state', '=', 'recording').execute();
  await trx.deleteFrom('call_slots').where('node_id', '=', nodeId).execute();
  await trx.updateTable('campaign_contacts').set({ lease_node: null, lease_until: null }).where('lease_node', '=', nodeId).execute();
  return open.length;
}

/**
 * A node's heartbeat: its row says it is alive now. Returns when another node had taken it for
 * dead (null: none had). The row is locked first, so that a takeover is either seen here or waits
 * for this heartbeat (and then finds the node alive).
 */
export async function beat(db: Kysely<StoreTables>, nodeId: string): Promise<{ downAt: number; takenBy: string | null } | null> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('nodes').select(['down_at', 'taken_by']).where('node_id', '=', nodeId).forUpdate().executeTakeFirst();
    await trx.insertInto('nodes').values({ node_id: nodeId, started_at: DB_NOW, seen_at: DB_NOW, down_at: null, taken_by: null })
      .onConflict((oc) => oc.column('node_id').doUpdateSet({ seen_at: DB_NOW, down_at: null, taken_by: null })).execute();
    return before?.down_at != null ? { downAt: Number(before.down_at), takenBy: before.taken_by ?? null } : null;
  });
}

/** Nodes other than `self` whose heartbeat is older than `leaseMs` and that no node took over yet. */
export async function deadNodes(db: Kysely<StoreTables>, self: string, leaseMs: number): Promise<string[]> {
  const rows = await db.selectFrom('nodes').select('node_id').where('node_id', '!=', self)
    .where('seen_at', '<', sql<number>`${DB_NOW} - ${leaseMs}`).where('down_at', 'is', null).execute();
  return rows.map((r) => r.node_id);
}

/**
 * Takes a dead node's work over: claims it (one node only: a conditional update of its row, which
 * its own heartbeat locks too), closes what it left behind (closeNodeWork) and ends its database
 * sessions that hold locks of their own (the trunk registrar's lease: `application_name`
 * `registrarApp`), so that a node that hangs, or whose host lost power, cannot keep it. Returns how
 * many calls were closed, or null when it was not claimed (alive again, or another node took it).
 * Its open campaign attempts are resolved by the dialer afterwards (nodesToAdopt).
 */
export async function takeOverNode(db: Kysely<StoreTables>, nodeId: string, by: string, leaseMs: number, registrarApp: string): Promise<number | null> {
  return db.transaction().execute(async (trx) => {
    const node = await trx.updateTable('nodes').set({ down_at: DB_NOW, taken_by: by })
      .where('node_id', '=', nodeId).where('seen_at', '<', sql<number>`${DB_NOW} - ${leaseMs}`).where('down_at', 'is', null)
      .returning('seen_at').executeTakeFirst();
    if (!node) return null;
    const closed = await closeNodeWork(trx, nodeId, Number(node.seen_at));
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${registrarApp} and pid <> pg_backend_pid()`.execute(trx);
    return closed;
  });
}

/** Nodes `self` took over that still have campaign attempts open (their resolution failed or was cut short). */
export async function nodesToAdopt(db: Kysely<StoreTables>, self: string): Promise<string[]> {
  const rows = await db.selectFrom('nodes').select('node_id').where('taken_by', '=', self).where('down_at', 'is not', null)
    .where((eb) => eb.exists(eb.selectFrom('campaign_attempts').select('call_id')
      .whereRef('campaign_attempts.node_id', '=', 'nodes.node_id').where('campaign_attempts.state', '=', 'dialling')))
    .execute();
  return rows.map((r) => r.node_id);
}
