import { randomUUID } from 'node:crypto';
import type { Store } from './store.js';
import type { ApiKeysTable, AuditLogTable, TenantsTable } from './tables.js';

/**
 * Tenants created through the API, API keys and the audit log in the store. Reads are direct
 * (the API awaits them); audit entries are written through the StoreWriter like call records.
 */

export async function insertTenant(s: Store, t: TenantsTable): Promise<boolean> {
  const r = await s.db.insertInto('tenants').values(t).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function listTenants(s: Store): Promise<TenantsTable[]> {
  return s.db.selectFrom('tenants').selectAll().orderBy('name').execute();
}

export async function insertKey(s: Store, k: ApiKeysTable): Promise<void> {
  await s.db.insertInto('api_keys').values(k).execute();
}

export async function findKey(s: Store, id: string): Promise<ApiKeysTable | undefined> {
  return s.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Keys, newest first; `tenant` null: every tenant's. Never the hash. */
export async function listKeys(s: Store, tenant: string | null): Promise<Omit<ApiKeysTable, 'hash'>[]> {
  let q = s.db.selectFrom('api_keys').select(['id', 'tenant', 'role', 'name', 'created_at', 'expires_at', 'revoked_at']);
  if (tenant !== null) q = q.where('tenant', '=', tenant);
  return q.orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Revokes a key (of `tenant`, unless null); false when there is no such live key. */
export async function revokeKey(s: Store, id: string, tenant: string | null, atMs: number): Promise<boolean> {
  let q = s.db.updateTable('api_keys').set({ revoked_at: atMs }).where('id', '=', id).where('revoked_at', 'is', null);
  if (tenant !== null) q = q.where('tenant', '=', tenant);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export function auditEntry(e: Omit<AuditLogTable, 'id'>): AuditLogTable {
  return { id: randomUUID(), ...e };
}

/** The audit log, newest first; `tenant` null: every tenant's. */
export async function listAudit(s: Store, tenant: string | null, limit: number): Promise<AuditLogTable[]> {
  let q = s.db.selectFrom('audit_log').selectAll();
  if (tenant !== null) q = q.where('tenant', '=', tenant);
  return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Calls of each tenant offered since `sinceMs` (the daily caps after a restart). */
export async function callsSince(s: Store, sinceMs: number): Promise<Map<string, number>> {
  const rows = await s.db.selectFrom('calls').select(['tenant', (eb) => eb.fn.countAll<number>().as('n')])
    .where('offered_at', '>=', sinceMs).groupBy('tenant').execute();
  return new Map(rows.map((r) => [r.tenant, Number(r.n)]));
}
