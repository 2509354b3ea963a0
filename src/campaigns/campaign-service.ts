import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { CampaignsTable } from '../store/tables.js';
import { parseCampaignSpec, type CampaignSpec } from './campaign-spec.js';
import { importContactsYielding } from './contact-import.js';
import type { CampaignStore } from './campaign-store.js';
import type { CampaignDialer, CampaignEvent } from './dialer.js';
import { promptProblem } from '../calls/prompt-audio.js';

/** An API answer. */
export interface Reply { status: number; body: Record<string, unknown> }

export interface CampaignServiceOptions {
  store: CampaignStore;
  dialer: CampaignDialer;
  clock: Clock;
  logger: Logger;
  /** The tenant of a configured bot / trunk; undefined when there is none of that name. */
  botTenant(name: string): string | undefined;
  trunkTenant(name: string): string | undefined;
  /** Why this node cannot place campaign calls (no drachtio), or null. */
  cannotDial(): string | null;
  emit(e: CampaignEvent): void;
}

const bad = (problems: string[]): Reply => ({ status: 400, body: { error: { code: 'API_BAD_REQUEST', problems } } });
const notFound = (): Reply => ({ status: 404, body: { error: { code: 'API_NOT_FOUND', message: 'no such campaign' } } });
const conflict = (message: string): Reply => ({ status: 409, body: { error: { code: 'API_CAMPAIGN_STATE', message } } });

/** Which state a control verb moves a campaign from, and to. */
const CONTROL = {
  pause: { from: ['running'], to: 'paused', event: 'campaign.paused' },
  resume: { from: ['paused'], to: 'running', event: 'campaign.resumed' },
  cancel: { from: ['running', 'paused'], to: 'cancelled', event: 'campaign.cancelled' },
} as const;
export type ControlVerb = keyof typeof CONTROL;

/**
 * The campaigns API's logic (`/v1/campaigns`): create (spec and contacts checked, contacts
 * normalised and stored), read with counts, rate and ETA, pause / resume / cancel, contacts with
 * their attempts, and the results export. `scope` is the caller's tenant (null: an admin).
 */
export class CampaignService {
  constructor(private readonly o: CampaignServiceOptions) {}

  async create(b: Record<string, unknown>, scope: string | null): Promise<Reply> {
    const asked = typeof b.tenant === 'string' ? b.tenant : undefined;
    if (scope !== null && asked !== undefined && asked !== scope) return bad(['tenant: a key of one tenant creates campaigns of its own tenant only']);
    const tenant = scope ?? asked ?? this.o.botTenant(String(b.bot)) ?? 'default';
    const parsed = parseCampaignSpec(b, tenant);
    if (!parsed.ok) return bad(parsed.problems);
    const spec = parsed.spec;
    const problems: string[] = [];
    if (this.o.botTenant(spec.bot) !== tenant) problems.push('bot: expected the name of a configured bot of the campaign\'s tenant');
    if (this.o.trunkTenant(spec.trunk) !== tenant) problems.push('trunk: expected the name of a configured trunk of the campaign\'s tenant');
    const cannot = this.o.cannotDial();
    if (cannot) problems.push(cannot);
    if (b.start !== undefined && typeof b.start !== 'boolean') problems.push('start: expected true or false');
    const message = spec.amd?.message && await promptProblem(spec.amd.message, 'amd.message');
    if (message) problems.push(message);
    if (b.contacts !== undefined && b.contactsCsv !== undefined) problems.push('contacts: give contacts or contactsCsv, not both');
    if (b.contactsCsv !== undefined && typeof b.contactsCsv !== 'string') problems.push('contactsCsv: expected CSV text');
    if (problems.length) return bad(problems);
    const imported = await importContactsYielding(b.contactsCsv !== undefined ? { csv: b.contactsCsv as string } : { json: b.contacts ?? [] }, spec.defaultCountry);
    if (!imported.ok) return bad(imported.problems);
    const now = this.o.clock.wallMs();
    const row: CampaignsTable = {
      id: randomUUID(), tenant, name: spec.name, state: 'importing', spec: JSON.stringify(spec),
      contacts_total: imported.contacts.length, created_at: now, updated_at: now,
    };
    const state = b.start === false ? 'paused' : 'running';
    await this.o.store.create(row, imported.contacts, state, () => this.o.clock.wallMs());
    this.o.logger.info({ campaignId: row.id, tenant, contacts: imported.contacts.length, duplicates: imported.duplicates, invalid: imported.invalid }, 'campaign created');
    await this.o.dialer.load({ ...row, state });
    if (state === 'running') this.o.emit({ event: 'campaign.started', campaignId: row.id, tenant, bot: spec.bot, atMs: now });
    return {
      status: 201,
      body: { id: row.id, state, contacts: imported.contacts.length, duplicates: imported.duplicates, invalid: imported.invalid },
    };
  }

  /** A campaign the caller may see (undefined: none, or another tenant's). */
  private async visible(id: string, scope: string | null): Promise<CampaignsTable | undefined> {
    const row = await this.o.store.get(id);
    return row && (scope === null || row.tenant === scope) ? row : undefined;
  }

  async get(id: string, scope: string | null): Promise<Reply> {
    const row = await this.visible(id, scope);
    if (!row) return notFound();
    return { status: 200, body: await this.view(row) };
  }

  async list(scope: string | null): Promise<Reply> {
    const rows = await this.o.store.list(scope);
    const counts = await this.o.store.countsOf(rows.map((r) => r.id));
    return {
      status: 200,
      body: {
        campaigns: rows.map((r) => ({
          id: r.id, name: r.name, tenant: r.tenant, state: r.state, contacts: r.contacts_total, counts: counts.get(r.id) ?? {},
          createdAt: new Date(r.created_at).toISOString(),
        })),
      },
    };
  }

  /** A campaign with its contacts per state, its rate over the last minute and the time left at that rate. */
  private async view(row: CampaignsTable): Promise<Record<string, unknown>> {
    const now = this.o.clock.wallMs();
    const counts = await this.o.store.counts(row.id);
    const lastMinute = await this.o.store.attemptsSince(row.id, now - 60_000);
    const ratePerMin = lastMinute;
    const open = (counts.pending ?? 0) + (counts.dialling ?? 0);
    const spec = JSON.parse(row.spec) as CampaignSpec;
    return {
      id: row.id, name: row.name, tenant: row.tenant, state: row.state, createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(), contacts: row.contacts_total, counts,
      callsInFlight: this.o.dialer.inflight(row.id), attemptsLastMinute: ratePerMin,
      etaSec: open === 0 ? 0 : ratePerMin > 0 ? Math.round((open / ratePerMin) * 60) : null,
      spec,
    };
  }

  async control(id: string, verb: ControlVerb, scope: string | null): Promise<Reply> {
    const row = await this.visible(id, scope);
    if (!row) return notFound();
    const c = CONTROL[verb];
    const now = this.o.clock.wallMs();
    if (!(await this.o.store.setState(id, c.from, c.to, now))) return conflict(`the campaign is ${row.state}: ${verb} needs it ${c.from.join(' or ')}`);
    if (verb === 'cancel') await this.o.store.cancelPending(id, now);
    await this.o.dialer.load({ ...row, state: c.to, updated_at: now });
    this.o.emit({ event: c.event, campaignId: id, tenant: row.tenant, bot: (JSON.parse(row.spec) as CampaignSpec).bot, atMs: now });
    const after = await this.o.store.get(id);
    return { status: 200, body: await this.view(after ?? row) };
  }

  /** `GET …/contacts?state=&limit=&after=`: contacts by their place in the list, with their attempts. */
  async contacts(id: string, query: string, scope: string | null): Promise<Reply> {
    if (!(await this.visible(id, scope))) return notFound();
    const q = new URLSearchParams(query);
    const limit = q.get('limit') === null ? 100 : Number(q.get('limit'));
    const after = q.get('after') === null ? -1 : Number(q.get('after'));
    const state = q.get('state') ?? undefined;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad(['limit: expected an integer from 1 to 1000']);
    if (!Number.isInteger(after) || after < -1) return bad(['after: expected the seq of the last contact of the previous page']);
    const page = await this.o.store.contactsPage(id, { state, afterSeq: after, limit });
    return {
      status: 200,
      body: {
        contacts: page.map(({ contact: c, attempts }) => ({
          seq: c.seq, number: c.number, timeZone: c.time_zone, vars: c.vars ? JSON.parse(c.vars) : {}, state: c.state, outcome: c.outcome,
          attempts: attempts.map((a) => ({
            attempt: a.attempt, callId: a.call_id, outcome: a.outcome, sipStatus: a.sip_status,
            startedAt: new Date(a.started_at).toISOString(), endedAt: a.ended_at === null ? null : new Date(a.ended_at).toISOString(),
          })),
          nextAt: c.state === 'pending' ? new Date(c.due_at).toISOString() : null,
        })),
        next: page.length === limit ? page[page.length - 1].contact.seq : null,
      },
    };
  }

  /**
   * The results export: one row per attempt (a contact never dialled: one row without an
   * attempt), with its call's record. null when the campaign is not visible.
   */
  async exportRows(id: string, scope: string | null): Promise<AsyncIterable<Record<string, string | number | null>> | null> {
    if (!(await this.visible(id, scope))) return null;
    const store = this.o.store;
    return (async function* () {
      let after = -1;
      for (;;) {
        const page = await store.contactsPage(id, { afterSeq: after, limit: 500 });
        if (page.length === 0) return;
        const calls = await store.callsOf(page.flatMap((p) => p.attempts.map((a) => a.call_id)));
        for (const { contact: c, attempts } of page) {
          const base = { contact: c.seq, number: c.number, contactState: c.state, contactOutcome: c.outcome };
          if (attempts.length === 0) yield { ...base, attempt: null, callId: null, outcome: null, startedAt: null, endedAt: null, sipStatus: null, callCause: null, callEndedBy: null, callDurationMs: null };
          for (const a of attempts) {
            const call = calls.get(a.call_id);
            yield {
              ...base, attempt: a.attempt, callId: a.call_id, outcome: a.outcome, startedAt: new Date(a.started_at).toISOString(),
              endedAt: a.ended_at === null ? null : new Date(a.ended_at).toISOString(), sipStatus: a.sip_status,
              callCause: call?.cause ?? null, callEndedBy: call?.ended_by ?? null, callDurationMs: call?.duration_ms ?? null,
            };
          }
        }
        after = page[page.length - 1].contact.seq;
      }
    })();
  }
}
