import type { Kysely } from 'kysely';
import type { CallsTable, CampaignAttemptsTable, CampaignContactsTable, CampaignsTable, StoreTables } from '../store/tables.js';
import type { ImportedContact } from './contact-import.js';

/**
 * Rows per INSERT, and INSERTs per transaction, when a campaign's contacts are stored: SQLite
 * runs in the main thread, and one transaction of 500 rows holds it 6–8 ms (2,000: 25–34 ms).
 */
const INSERT_ROWS = 500;
const INSERTS_PER_TX = 1;

/** Most contacts one statement defers or expires (about 20 ms of SQLite's time). */
export const ZONE_BATCH = 2000;

/** The outcome of an attempt stored but never placed (undoAttempt): it sent no INVITE, so no cap counts it. */
const NOT_PLACED = 'not-placed';

/** The contact states that are not final. */
export const OPEN_STATES = ['pending', 'dialling'] as const;
/** Every contact state, final ones after the open ones. */
export const CONTACT_STATES = ['pending', 'dialling', 'completed', 'dnc', 'invalid', 'exhausted', 'expired', 'cancelled'] as const;
export type ContactState = typeof CONTACT_STATES[number];

/** One contact the dialer may call now. */
export type DueContact = Pick<CampaignContactsTable, 'seq' | 'number' | 'time_zone' | 'vars' | 'attempts'>;

/** An attempt left `dialling` by an earlier run, with what the store knows of its call. */
export interface OpenAttempt extends CampaignAttemptsTable {
  call_state: string | null;
  result: string | null;
  call_sip_status: number | null;
  answered_at: number | null;
  connected_at: number | null;
  cause: string | null;
  error_code: string | null;
  answered_by: string | null;
}

/**
 * The campaigns' rows in the store: campaigns, their contacts (the dialer reads only the due ones,
 * by index), attempts (stored before the INVITE), and the do-not-call lists. Every method may
 * throw when the database is unreachable.
 */
export class CampaignStore {
  constructor(private readonly db: () => Kysely<StoreTables>) {}

  /**
   * Stores a new campaign and its contacts: the campaign row first (state `importing` until its
   * contacts are in), then the contacts in transactions of a few thousand rows, letting the
   * event loop run between them.
   */
  async create(row: CampaignsTable, contacts: readonly ImportedContact[], startState: string, clock: () => number): Promise<void> {
    const db = this.db();
    await db.insertInto('campaigns').values({ ...row, state: 'importing' }).execute();
    const now = row.created_at;
    for (let at = 0; at < contacts.length; at += INSERT_ROWS * INSERTS_PER_TX) {
      await db.transaction().execute(async (trx) => {
        // the import is alive: a stale one is failed by failStaleImports()
        await trx.updateTable('campaigns').set({ updated_at: clock() }).where('id', '=', row.id).execute();
        for (let i = at; i < Math.min(contacts.length, at + INSERT_ROWS * INSERTS_PER_TX); i += INSERT_ROWS) {
          const values = contacts.slice(i, i + INSERT_ROWS).map((c, j) => ({
            campaign_id: row.id, seq: i + j, number: c.number, time_zone: c.timeZone, vars: c.vars ? JSON.stringify(c.vars) : null,
            state: c.valid ? 'pending' : 'invalid', outcome: c.valid ? null : 'invalid-number', attempts: 0, due_at: now, updated_at: now,
          }));
          await trx.insertInto('campaign_contacts').values(values).execute();
        }
      });
      await new Promise<void>((r) => setImmediate(r));
    }
    await db.updateTable('campaigns').set({ state: startState, updated_at: clock() }).where('id', '=', row.id).where('state', '=', 'importing').execute();
  }

  /**
   * Campaigns whose import stopped (its node crashed, or the store failed half-way): `importing`
   * and not touched since `beforeMs`. They become `failed`; returns how many.
   */
  async failStaleImports(beforeMs: number, nowMs: number): Promise<number> {
    const r = await this.db().updateTable('campaigns').set({ state: 'failed', updated_at: nowMs })
      .where('state', '=', 'importing').where('updated_at', '<', beforeMs).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async get(id: string): Promise<CampaignsTable | undefined> {
    return this.db().selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Campaigns of a tenant (null: all), newest first. */
  async list(tenant: string | null): Promise<CampaignsTable[]> {
    let q = this.db().selectFrom('campaigns').selectAll();
    if (tenant !== null) q = q.where('tenant', '=', tenant);
    return q.orderBy('created_at', 'desc').limit(1000).execute();
  }

  /** Campaigns in one of `states` (the dialer's, at start). */
  async inStates(states: readonly string[]): Promise<CampaignsTable[]> {
    return this.db().selectFrom('campaigns').selectAll().where('state', 'in', states as string[]).execute();
  }

  /** Moves a campaign from one of `from` to `to`; false when it was in none of them. */
  async setState(id: string, from: readonly string[], to: string, nowMs: number): Promise<boolean> {
    const r = await this.db().updateTable('campaigns').set({ state: to, updated_at: nowMs })
      .where('id', '=', id).where('state', 'in', from as string[]).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Contacts per state. */
  async counts(id: string): Promise<Record<string, number>> {
    const rows = await this.db().selectFrom('campaign_contacts').select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id).groupBy('state').execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Contacts per state of several campaigns (one query). */
  async countsOf(ids: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>(ids.map((id) => [id, {}]));
    if (ids.length === 0) return out;
    const rows = await this.db().selectFrom('campaign_contacts').select(['campaign_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', 'in', ids as string[]).groupBy(['campaign_id', 'state']).execute();
    for (const r of rows) out.get(r.campaign_id)![r.state] = Number(r.n);
    return out;
  }

  /** Whether a campaign still has contacts to call (pending or being dialled). */
  async hasOpenContacts(id: string): Promise<boolean> {
    const r = await this.db().selectFrom('campaign_contacts').select('seq').where('campaign_id', '=', id)
      .where('state', 'in', OPEN_STATES as unknown as string[]).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  /** The hopper's refill: up to `limit` pending contacts due at `nowMs`, oldest due first (by index). */
  async due(id: string, nowMs: number, limit: number): Promise<DueContact[]> {
    return this.db().selectFrom('campaign_contacts').select(['seq', 'number', 'time_zone', 'vars', 'attempts'])
      .where('campaign_id', '=', id).where('state', '=', 'pending').where('due_at', '<=', nowMs)
      .orderBy('due_at').orderBy('seq').limit(limit).execute();
  }

  /**
   * The hopper's refill on a node of a cluster: as due(), but only contacts no other node holds,
   * and they are leased to `nodeId` until `untilMs` in the same statement: while the lease runs no
   * other node's refill takes them, and beginAttempt(…, leased) lets no other node dial them.
   * PostgreSQL skips rows another node's refill has locked (`FOR UPDATE SKIP LOCKED`) rather than
   * wait for them. A lease that ran out (its node died, or kept the contact in its hopper longer)
   * is taken by the next refill of any node. Storing the attempt (beginAttempt) stays the guard
   * that dials a contact once.
   */
  async dueLeased(id: string, nowMs: number, limit: number, lease: { nodeId: string; untilMs: number; skipLocked: boolean }): Promise<DueContact[]> {
    // the pick is a CTE, run once: as an `IN (subquery)` PostgreSQL may run it again for rows
    // another refill changed meanwhile, and lease more than `limit` (seen: 100 of 50)
    const rows = await this.db()
      .with('picked', (db) => {
        const q = db.selectFrom('campaign_contacts').select('seq')
          .where('campaign_id', '=', id).where('state', '=', 'pending').where('due_at', '<=', nowMs)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs), eb('lease_node', '=', lease.nodeId)]))
          .orderBy('due_at').orderBy('seq').limit(limit);
        return lease.skipLocked ? q.forUpdate().skipLocked() : q;
      })
      .updateTable('campaign_contacts').from('picked')
      .set({ lease_node: lease.nodeId, lease_until: lease.untilMs })
      .whereRef('campaign_contacts.seq', '=', 'picked.seq').where('campaign_contacts.campaign_id', '=', id)
      .returning(['campaign_contacts.seq', 'number', 'time_zone', 'vars', 'attempts', 'due_at']).execute();
    return rows.sort((a, b) => a.due_at - b.due_at || a.seq - b.seq).map(({ due_at: _d, ...k }) => k);
  }

  /** A pending contact waits until `dueAt` (outside its window, or a cap reached). */
  async defer(id: string, seq: number, dueAt: number, nowMs: number): Promise<void> {
    await this.db().updateTable('campaign_contacts').set({ due_at: dueAt, updated_at: nowMs })
      .where('campaign_id', '=', id).where('seq', '=', seq).where('state', '=', 'pending').execute();
  }

  /**
   * Up to ZONE_BATCH pending contacts of a campaign due by `nowMs` whose own zone is `zone` (null:
   * contacts without one, which take the campaign's) wait until `dueAt`: one statement for the
   * contacts a closed window holds back. Returns how many.
   */
  async deferZone(id: string, zone: string | null, nowMs: number, dueAt: number): Promise<number> {
    return this.updateZone(id, zone, nowMs, { due_at: dueAt, updated_at: nowMs });
  }

  /** As deferZone(), for contacts whose windows never open again: they end `expired`. Returns how many. */
  async expireZone(id: string, zone: string | null, nowMs: number): Promise<number> {
    return this.updateZone(id, zone, nowMs, { state: 'expired', outcome: 'window-closed', updated_at: nowMs });
  }

  private async updateZone(id: string, zone: string | null, nowMs: number, set: Partial<CampaignContactsTable>): Promise<number> {
    const db = this.db();
    // bounded, so that one statement holds SQLite (in this thread) for milliseconds, not seconds
    const seqs = db.selectFrom('campaign_contacts').select('seq')
      .where('campaign_id', '=', id).where('state', '=', 'pending').where('due_at', '<=', nowMs)
      .where('time_zone', zone === null ? 'is' : '=', zone).limit(ZONE_BATCH);
    // the outer conditions again: a row another transaction changed meanwhile is left alone
    const r = await db.updateTable('campaign_contacts').set(set).where('campaign_id', '=', id).where('seq', 'in', seqs)
      .where('state', '=', 'pending').where('due_at', '<=', nowMs).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** A pending contact ends without a call (DNC, window never open again, cancelled). */
  async finalize(id: string, seq: number, state: ContactState, outcome: string, nowMs: number): Promise<void> {
    await this.db().updateTable('campaign_contacts').set({ state, outcome, updated_at: nowMs })
      .where('campaign_id', '=', id).where('seq', '=', seq).where('state', '=', 'pending').execute();
  }

  /** Every pending contact of a campaign ends as cancelled; returns how many. */
  async cancelPending(id: string, nowMs: number): Promise<number> {
    const r = await this.db().updateTable('campaign_contacts').set({ state: 'cancelled', outcome: 'cancelled', updated_at: nowMs })
      .where('campaign_id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Stores an attempt before its INVITE, in one transaction with its contact's move to
   * `dialling`: only a contact still pending with `attempt - 1` attempts and due, of a campaign
   * still running (and, `leased`, not leased to another node), moves, so the same attempt can be
   * begun once. false: the contact or the campaign changed meanwhile (nothing stored).
   */
  async beginAttempt(a: CampaignAttemptsTable, leased = false): Promise<boolean> {
    return this.db().transaction().execute(async (trx) => {
      let q = trx.updateTable('campaign_contacts').set({ state: 'dialling', attempts: a.attempt, updated_at: a.started_at })
        .where('campaign_id', '=', a.campaign_id).where('seq', '=', a.seq).where('state', '=', 'pending').where('attempts', '=', a.attempt - 1)
        // a stale copy in a hopper (the contact was deferred meanwhile) waits for its time
        .where('due_at', '<=', a.started_at);
      // a node of a cluster dials only a contact leased to it, or no longer leased to another
      if (leased) q = q.where((eb) => eb.or([eb('lease_node', 'is', null), eb('lease_node', '=', a.node_id), eb('lease_until', '<', a.started_at)]));
      const r = await q
        // only while the campaign runs (paused or cancelled through any node: nothing begins)
        .where((eb) => eb.exists(eb.selectFrom('campaigns').select('id').where('id', '=', a.campaign_id).where('state', '=', 'running')))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await trx.insertInto('campaign_attempts').values(a).execute();
      return true;
    });
  }

  /**
   * Completes an attempt and moves its contact on (pending again at `dueAt`, or a final state),
   * in one transaction; a no-op when the attempt is already done. Returns the contact's state
   * (`cancelled` instead of `pending` when its campaign was cancelled).
   */
  async finishAttempt(
    callId: string, f: { outcome: string; sipStatus: number | null; endedAt: number },
    next: { state: ContactState; dueAt?: number },
  ): Promise<ContactState> {
    return this.db().transaction().execute(async (trx): Promise<ContactState> => {
      const a = await trx.selectFrom('campaign_attempts').select(['campaign_id', 'seq', 'attempt']).where('call_id', '=', callId).where('state', '=', 'dialling').executeTakeFirst();
      if (!a) return next.state;
      // only the first to complete it moves the contact on (two nodes may resolve one attempt at once)
      const done = await trx.updateTable('campaign_attempts').set({ state: 'done', outcome: f.outcome, sip_status: f.sipStatus, ended_at: f.endedAt })
        .where('call_id', '=', callId).where('state', '=', 'dialling').executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) return next.state;
      // a campaign cancelled meanwhile (through any node) retries nothing
      let state = next.state;
      if (state === 'pending') {
        const c = await trx.selectFrom('campaigns').select('state').where('id', '=', a.campaign_id).executeTakeFirst();
        if (c?.state === 'cancelled') state = 'cancelled';
      }
      await trx.updateTable('campaign_contacts')
        .set({ state, outcome: f.outcome, updated_at: f.endedAt, ...(state === 'pending' && next.dueAt !== undefined ? { due_at: next.dueAt } : {}) })
        .where('campaign_id', '=', a.campaign_id).where('seq', '=', a.seq).where('state', '=', 'dialling').execute();
      return state;
    });
  }

  /**
   * An attempt stored but never placed (fsbridge refused the call: full, draining): the attempt
   * is kept as `not-placed` and its contact is pending again with the attempts it had, due at
   * `dueAt`, so no try is lost. Returns the contact's state.
   */
  async undoAttempt(callId: string, nowMs: number, dueAt: number): Promise<ContactState> {
    return this.db().transaction().execute(async (trx) => {
      const a = await trx.selectFrom('campaign_attempts').select(['campaign_id', 'seq', 'attempt']).where('call_id', '=', callId).where('state', '=', 'dialling').executeTakeFirst();
      if (!a) return 'pending';
      await trx.updateTable('campaign_attempts').set({ state: 'done', outcome: NOT_PLACED, ended_at: nowMs }).where('call_id', '=', callId).execute();
      const c = await trx.selectFrom('campaigns').select('state').where('id', '=', a.campaign_id).executeTakeFirst();
      const state: ContactState = c?.state === 'cancelled' ? 'cancelled' : 'pending';
      await trx.updateTable('campaign_contacts').set({ state, attempts: a.attempt - 1, due_at: dueAt, updated_at: nowMs })
        .where('campaign_id', '=', a.campaign_id).where('seq', '=', a.seq).where('state', '=', 'dialling').execute();
      return state;
    });
  }

  /** Attempts `nodeId` left dialling (it stopped before their outcome was stored), with their calls' rows. */
  async openAttempts(nodeId: string): Promise<OpenAttempt[]> {
    return this.db().selectFrom('campaign_attempts').leftJoin('calls', 'calls.call_id', 'campaign_attempts.call_id')
      .selectAll('campaign_attempts')
      .select(['calls.state as call_state', 'calls.result', 'calls.sip_status as call_sip_status', 'calls.answered_at', 'calls.connected_at', 'calls.cause', 'calls.error_code', 'calls.answered_by'])
      .where('campaign_attempts.state', '=', 'dialling').where('campaign_attempts.node_id', '=', nodeId).execute() as Promise<OpenAttempt[]>;
  }

  /** Attempts to `number` by any campaign of `tenant` since `sinceMs` (per-number daily cap). */
  async attemptsToNumber(tenant: string, number: string, sinceMs: number): Promise<number> {
    const r = await this.db().selectFrom('campaign_attempts').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant', '=', tenant).where('number', '=', number).where('started_at', '>=', sinceMs)
      .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '!=', NOT_PLACED)])).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Attempts of a campaign since `sinceMs` (its daily cap; its rate). */
  async attemptsSince(id: string, sinceMs: number): Promise<number> {
    const r = await this.db().selectFrom('campaign_attempts').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', id).where('started_at', '>=', sinceMs)
      .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '!=', NOT_PLACED)])).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** One page of contacts (by seq), optionally of one state, each with its attempts. */
  async contactsPage(id: string, o: { state?: string; afterSeq: number; limit: number }): Promise<{ contact: CampaignContactsTable; attempts: CampaignAttemptsTable[] }[]> {
    let q = this.db().selectFrom('campaign_contacts').selectAll().where('campaign_id', '=', id).where('seq', '>', o.afterSeq);
    if (o.state !== undefined) q = q.where('state', '=', o.state);
    const contacts = await q.orderBy('seq').limit(o.limit).execute();
    if (contacts.length === 0) return [];
    const attempts = await this.db().selectFrom('campaign_attempts').selectAll().where('campaign_id', '=', id)
      .where('seq', 'in', contacts.map((c) => c.seq)).orderBy('seq').orderBy('attempt').execute();
    const by = new Map<number, CampaignAttemptsTable[]>();
    for (const a of attempts) { const l = by.get(a.seq) ?? []; l.push(a); by.set(a.seq, l); }
    return contacts.map((c) => ({ contact: c, attempts: by.get(c.seq) ?? [] }));
  }

  /** The call records of attempts (the results export joins them), by call id. */
  async callsOf(callIds: readonly string[]): Promise<Map<string, Pick<CallsTable, 'call_id' | 'cause' | 'ended_by' | 'duration_ms' | 'answered_at' | 'state'>>> {
    if (callIds.length === 0) return new Map();
    const rows = await this.db().selectFrom('calls').select(['call_id', 'cause', 'ended_by', 'duration_ms', 'answered_at', 'state'])
      .where('call_id', 'in', callIds as string[]).execute();
    return new Map(rows.map((r) => [r.call_id, r]));
  }
}
