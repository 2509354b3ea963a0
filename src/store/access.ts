import { randomUUID } from 'node:crypto';
import type { Store } from './store.js';
import type { Transaction } from 'kysely';
import type { ApiKeysTable, AuditLogTable, StoreTables, TenantsTable } from './tables.js';

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

/** Refused at admission: such calls do not count against a tenant's daily cap. */
const REFUSED = ['CALL_OVER_CAPACITY', 'CALL_DRAINING', 'TENANT_CONCURRENCY_LIMIT', 'TENANT_DAILY_LIMIT', 'TRUNK_CONCURRENCY_LIMIT', 'CAMPAIGN_CONCURRENCY_LIMIT', 'CLUSTER_LIMITS_UNAVAILABLE'];

/**
 * Calls of each tenant admitted by node `nodeId` since `sinceMs` (its daily caps after a restart:
 * a node counts its own calls, as it does while it runs).
 */
export async function callsSince(s: Store, nodeId: string, sinceMs: number): Promise<Map<string, number>> {
  const rows = await s.db.selectFrom('calls').select(['tenant', (eb) => eb.fn.countAll<number>().as('n')])
    .where('node_id', '=', nodeId).where('offered_at', '>=', sinceMs)
    .where((eb) => eb.or([eb('error_code', 'is', null), eb('error_code', 'not in', REFUSED)]))
    .groupBy('tenant').execute();
  return new Map(rows.map((r) => [r.tenant, Number(r.n)]));
}

/**
 * The forms of a phone number a record may hold: as given without spaces, dashes, dots or
 * brackets, with and without its leading `+`. Null when it is not a number.
 */
export function numberForms(n: string): string[] | null {
  const s = n.replace(/[\s().-]/g, '');
  if (!/^\+?[0-9*#]{3,32}$/.test(s)) return null;
  const bare = s.replace(/^\+/, '');
  return [...new Set([s, bare, `+${bare}`])];
}

/**
 * Deletes every call of `tenant` (null: every tenant) from or to one of `forms`, with its callbacks.
 * Its recordings made on `nodeId` lose their rows and their files are returned (the caller removes
 * them); those on other nodes are marked `erased` for their node's purge. The person's campaign
 * contacts lose their number and variables (a contact not yet final ends `cancelled`, outcome
 * `erased`), their attempts their number, and the `contact.finished` callbacks that named them
 * are deleted; a do-not-call entry stays (it is what keeps them from being called). Returns the
 * call ids and how many campaign contacts were erased.
 */
export async function eraseSubject(s: Store, forms: string[], tenant: string | null, nodeId: string): Promise<{ callIds: string[]; recordingPaths: string[]; recordingsElsewhere: number; campaignContacts: number }> {
  return s.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('calls').select('call_id')
      .where((eb) => eb.or([eb('from_number', 'in', forms), eb('to_number', 'in', forms)]));
    if (tenant !== null) q = q.where('tenant', '=', tenant);
    const callIds = (await q.execute()).map((r) => r.call_id);
    const recordingPaths: string[] = [];
    let recordingsElsewhere = 0;
    for (let i = 0; i < callIds.length; i += 500) {
      const some = callIds.slice(i, i + 500);
      await trx.deleteFrom('calls').where('call_id', 'in', some).execute();
      // status callbacks carry the numbers too, sent or not
      await trx.deleteFrom('webhook_outbox').where('call_id', 'in', some).execute();
      // this node's recording files are removed by the caller once their rows are gone; another
      // node's file can only be removed by that node
      for (const r of await trx.selectFrom('recordings').select(['path', 'node_id']).where('call_id', 'in', some).execute()) {
        if (r.node_id === nodeId) recordingPaths.push(r.path); else recordingsElsewhere++;
      }
      await trx.deleteFrom('recordings').where('call_id', 'in', some).where('node_id', '=', nodeId).execute();
      await trx.updateTable('recordings').set({ state: 'erased' }).where('call_id', 'in', some).where('node_id', '!=', nodeId).execute();
    }
    const campaignContacts = await eraseCampaignContacts(trx, forms, tenant);
    return { callIds, recordingPaths, recordingsElsewhere, campaignContacts };
  });
}

/** The campaign side of an erasure (see eraseSubject); returns how many contacts were erased. */
async function eraseCampaignContacts(trx: Transaction<StoreTables>, forms: string[], tenant: string | null): Promise<number> {
  const ofTenant = trx.selectFrom('campaigns').select('id').where('tenant', '=', tenant ?? '');
  let open = trx.updateTable('campaign_contacts').set({ state: 'cancelled', outcome: 'erased' })
    .where('number', 'in', forms).where('state', 'in', ['pending', 'dialling']);
  if (tenant !== null) open = open.where('campaign_id', 'in', ofTenant);
  await open.execute();
  let contacts = trx.updateTable('campaign_contacts').set({ number: '', vars: null }).where('number', 'in', forms);
  if (tenant !== null) contacts = contacts.where('campaign_id', 'in', ofTenant);
  const r = await contacts.executeTakeFirst();
  let attempts = trx.updateTable('campaign_attempts').set({ number: '' }).where('number', 'in', forms);
  if (tenant !== null) attempts = attempts.where('tenant', '=', tenant);
  await attempts.execute();
  // the contact.finished callbacks name the number in their body (forms are digits and '+')
  let hooks = trx.deleteFrom('webhook_outbox').where('event', '=', 'contact.finished')
    .where((eb) => eb.or(forms.map((f) => eb('body', 'like', `%"number":"${f}"%`))));
  if (tenant !== null) hooks = hooks.where('tenant', '=', tenant);
  await hooks.execute();
  return Number(r.numUpdatedRows);
}
