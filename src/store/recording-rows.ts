import type { Store } from './store.js';
import type { RecordingKeysTable, RecordingsTable } from './tables.js';

/**
 * Reads of recordings and their keys, and the deletions of the retention purge (writes made
 * while calls run go through the StoreWriter).
 */

export async function allRecordingKeys(s: Store): Promise<RecordingKeysTable[]> {
  return s.db.selectFrom('recording_keys').selectAll().orderBy('created_at').execute();
}

export async function findRecordingKey(s: Store, id: string): Promise<RecordingKeysTable | undefined> {
  return s.db.selectFrom('recording_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A data key wrapped again (master key rotation). */
export async function rewrapRecordingKey(s: Store, id: string, wrapped: string, masterFp: string): Promise<void> {
  await s.db.updateTable('recording_keys').set({ wrapped, master_fp: masterFp }).where('id', '=', id).execute();
}

export async function findRecording(s: Store, callId: string): Promise<RecordingsTable | undefined> {
  return s.db.selectFrom('recordings').selectAll().where('call_id', '=', callId).executeTakeFirst();
}

/** This node's recordings of `tenant` (null: of every tenant) started before `beforeMs`, oldest first. */
export async function expiredRecordings(s: Store, nodeId: string, tenant: string | null, exceptTenants: string[], beforeMs: number, limit: number): Promise<RecordingsTable[]> {
  let q = s.db.selectFrom('recordings').selectAll().where('node_id', '=', nodeId).where('started_at', '<', beforeMs)
    .where('state', '!=', 'recording');
  if (tenant !== null) q = q.where('tenant', '=', tenant);
  if (exceptTenants.length > 0) q = q.where('tenant', 'not in', exceptTenants);
  return q.orderBy('started_at').limit(limit).execute();
}

/** This node's recordings whose calls were erased on another node. */
export async function erasedRecordings(s: Store, nodeId: string, limit: number): Promise<RecordingsTable[]> {
  return s.db.selectFrom('recordings').selectAll().where('node_id', '=', nodeId).where('state', '=', 'erased').limit(limit).execute();
}

export async function deleteRecordings(s: Store, callIds: string[]): Promise<void> {
  for (let i = 0; i < callIds.length; i += 500) {
    await s.db.deleteFrom('recordings').where('call_id', 'in', callIds.slice(i, i + 500)).execute();
  }
}
