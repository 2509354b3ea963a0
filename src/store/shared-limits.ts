import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoreTables } from './tables.js';

const DAY_MS = 86_400_000;

/** Why the cluster's shared limits refuse a call. */
export type SlotRefusal = 'TENANT_CONCURRENCY_LIMIT' | 'TENANT_DAILY_LIMIT' | 'TRUNK_CONCURRENCY_LIMIT' | 'CAMPAIGN_CONCURRENCY_LIMIT';

/** A call asking for its slots, with the limits that apply to it (null: none). */
export interface SlotClaim {
  callId: string;
  nodeId: string;
  tenant: string;
  /** An outbound call's trunk, counted against `trunkMax`. */
  trunk: string | null;
  /** A campaign call's campaign, counted against `campaignMax`. */
  campaignId: string | null;
  atMs: number;
  tenantMax: number | null;
  tenantPerDay: number | null;
  trunkMax: number | null;
  campaignMax: number | null;
  /** Slots the tenant and the trunk must keep free after this call (a campaign's reserveSlots). */
  reserve: number;
}

/**
 * The limits several fsbridge nodes share through one PostgreSQL store: a tenant's live calls and
 * calls per day, a trunk's outbound calls, a campaign's calls. Each live call holds one row of
 * `call_slots`; a claim counts the rows of its scopes and inserts its own in one transaction,
 * under a transaction-scoped advisory lock per scope (taken in name order, so two claims never
 * wait on each other in a cycle), so that no two nodes can together pass a limit. The day's
 * count per tenant is a row of `daily_counts`. A node's rows are freed when its calls end, and
 * all at once when it restarts or is taken for dead (store/node-rows.ts closeNodeWork).
 */
export class SharedLimits {
  constructor(private readonly db: () => Kysely<StoreTables>, private readonly kind: 'sqlite' | 'postgres') {}

  /** Claims the call's slots; resolves null (claimed) or the limit that refuses it. Throws when the store fails. */
  async claim(c: SlotClaim): Promise<SlotRefusal | null> {
    return this.db().transaction().execute(async (trx) => {
      const scopes = [`tenant:${c.tenant}`, ...(c.trunk !== null ? [`trunk:${c.trunk}`] : []), ...(c.campaignId !== null ? [`campaign:${c.campaignId}`] : [])].sort();
      // SQLite serialises writers (one node); PostgreSQL: one lock per scope until the commit
      if (this.kind === 'postgres') for (const s of scopes) await sql`select pg_advisory_xact_lock(hashtext(${s}))`.execute(trx);
      const live = async (col: 'tenant' | 'trunk' | 'campaign_id', v: string): Promise<number> => {
        const r = await trx.selectFrom('call_slots').select((eb) => eb.fn.countAll<number>().as('n')).where(col, '=', v).executeTakeFirst();
        return Number(r?.n ?? 0);
      };
      if (c.tenantMax !== null && (await live('tenant', c.tenant)) + 1 + c.reserve > c.tenantMax) return 'TENANT_CONCURRENCY_LIMIT';
      if (c.trunk !== null && c.trunkMax !== null && (await live('trunk', c.trunk)) + 1 + c.reserve > c.trunkMax) return 'TRUNK_CONCURRENCY_LIMIT';
      if (c.campaignId !== null && c.campaignMax !== null && (await live('campaign_id', c.campaignId)) + 1 > c.campaignMax) return 'CAMPAIGN_CONCURRENCY_LIMIT';
      const day = Math.floor(c.atMs / DAY_MS);
      const scope = `tenant:${c.tenant}`;
      if (c.tenantPerDay !== null && (await dayCount(trx, scope, day)) >= c.tenantPerDay) return 'TENANT_DAILY_LIMIT';
      await trx.insertInto('call_slots').values({
        call_id: c.callId, node_id: c.nodeId, tenant: c.tenant, trunk: c.trunk, campaign_id: c.campaignId, started_at: c.atMs,
      }).execute();
      await trx.insertInto('daily_counts').values({ scope, day, n: 1 })
        .onConflict((oc) => oc.columns(['scope', 'day']).doUpdateSet({ n: sql`daily_counts.n + 1` })).execute();
      return null;
    });
  }

  /** Frees a call's slots (idempotent). */
  async release(callId: string): Promise<void> {
    await this.db().deleteFrom('call_slots').where('call_id', '=', callId).execute();
  }

  /** Frees the slots of a call refused after its claim, and takes it off its day's count. */
  async refund(c: SlotClaim): Promise<void> {
    await this.db().transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('call_slots').where('call_id', '=', c.callId).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return;
      await trx.updateTable('daily_counts').set({ n: sql`n - 1` })
        .where('scope', '=', `tenant:${c.tenant}`).where('day', '=', Math.floor(c.atMs / DAY_MS)).where('n', '>', 0).execute();
    });
  }

  /**
   * Puts back the slot of a live call that another node freed (it took this node for dead): no
   * limit is checked, the call is up already. Idempotent.
   */
  async reinstate(c: SlotClaim): Promise<void> {
    await this.db().insertInto('call_slots').values({
      call_id: c.callId, node_id: c.nodeId, tenant: c.tenant, trunk: c.trunk, campaign_id: c.campaignId, started_at: c.atMs,
    }).onConflict((oc) => oc.column('call_id').doNothing()).execute();
  }

  /** Live calls per scope as the cluster counts them (status, tests). */
  async live(): Promise<{ tenant: Record<string, number>; trunk: Record<string, number>; campaign: Record<string, number> }> {
    const rows = await this.db().selectFrom('call_slots').select(['tenant', 'trunk', 'campaign_id']).execute();
    const out = { tenant: {} as Record<string, number>, trunk: {} as Record<string, number>, campaign: {} as Record<string, number> };
    for (const r of rows) {
      out.tenant[r.tenant] = (out.tenant[r.tenant] ?? 0) + 1;
      if (r.trunk !== null) out.trunk[r.trunk] = (out.trunk[r.trunk] ?? 0) + 1;
      if (r.campaign_id !== null) out.campaign[r.campaign_id] = (out.campaign[r.campaign_id] ?? 0) + 1;
    }
    return out;
  }
}

async function dayCount(trx: Transaction<StoreTables>, scope: string, day: number): Promise<number> {
  const r = await trx.selectFrom('daily_counts').select('n').where('scope', '=', scope).where('day', '=', day).executeTakeFirst();
  return Number(r?.n ?? 0);
}
