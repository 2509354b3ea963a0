import type { Kysely } from 'kysely';
import type { DncTable, StoreTables } from '../store/tables.js';

/** The tenant name of the list every tenant's calls obey. */
export const GLOBAL_DNC = '*';

/**
 * Do-not-call lists in the store: one per tenant and a global one (`*`). Numbers are E.164 (the
 * API normalises them). Checked by the dialer at the moment of dialling. Methods may throw when
 * the database is unreachable.
 */
export class DncStore {
  constructor(private readonly db: () => Kysely<StoreTables>) {}

  /** Adds numbers to a list; returns how many were not on it. */
  async add(tenant: string, numbers: readonly string[], source: string, nowMs: number): Promise<number> {
    let added = 0;
    const unique = [...new Set(numbers)];
    for (let i = 0; i < unique.length; i += 500) {
      const values = unique.slice(i, i + 500).map((number) => ({ tenant, number, source, added_at: nowMs }));
      const r = await this.db().insertInto('dnc').values(values).onConflict((oc) => oc.columns(['tenant', 'number']).doNothing()).executeTakeFirst();
      added += Number(r.numInsertedOrUpdatedRows ?? 0);
      await new Promise<void>((r) => setImmediate(r));
    }
    return added;
  }

  /** Removes a number from a list; false when it was not on it. */
  async remove(tenant: string, number: string): Promise<boolean> {
    const r = await this.db().deleteFrom('dnc').where('tenant', '=', tenant).where('number', '=', number).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Whether `number` may not be called for `tenant` (its list or the global one). */
  async blocks(tenant: string, number: string): Promise<boolean> {
    const r = await this.db().selectFrom('dnc').select('number').where('number', '=', number)
      .where('tenant', 'in', [tenant, GLOBAL_DNC]).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  /** One page of a tenant's list (`*`: the global one), by number. */
  async page(tenant: string, afterNumber: string, limit: number): Promise<DncTable[]> {
    return this.db().selectFrom('dnc').selectAll().where('tenant', '=', tenant).where('number', '>', afterNumber)
      .orderBy('number').limit(limit).execute();
  }
}
