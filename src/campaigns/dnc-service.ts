import type { Clock } from '../clock.js';
import { parseCsv } from './csv-reader.js';
import type { DncStore } from './dnc-store.js';
import { toE164 } from './number-timezone.js';
import type { Reply } from './campaign-service.js';

const bad = (problems: string[]): Reply => ({ status: 400, body: { error: { code: 'API_BAD_REQUEST', problems } } });
/** Most numbers in one request. */
const MAX_NUMBERS = 100_000;

/**
 * The do-not-call API's logic (`/v1/dnc`): numbers are normalised to E.164 before they are
 * stored or looked up. A tenant's key works on its tenant's list; an admin names the list with
 * `tenant` (`*`: the global list every tenant obeys; default `default`).
 */
export class DncService {
  constructor(private readonly o: { store: DncStore; clock: Clock }) {}

  /** The list a request works on, or a 400 when a tenant's key asks for another's. */
  list(scope: string | null, asked: string | null | undefined): string | Reply {
    if (scope === null) return asked ?? 'default';
    if (asked !== null && asked !== undefined && asked !== scope) return bad([`tenant: a key of one tenant works on its own list (${scope})`]);
    return scope;
  }

  /** `POST /v1/dnc`: `{ numbers: [...] }` or `{ csv: "number\n..." }`, optional `tenant`, `defaultCountry`. */
  async add(b: Record<string, unknown>, scope: string | null, source = 'api'): Promise<Reply> {
    const list = this.list(scope, typeof b.tenant === 'string' ? b.tenant : undefined);
    if (typeof list !== 'string') return list;
    let raw: unknown[];
    if (typeof b.csv === 'string') {
      const parsed = parseCsv(b.csv);
      if (!parsed.ok) return bad([`csv: ${parsed.problem}`]);
      const [header, ...rows] = parsed.rows;
      const at = (header ?? []).map((h) => h.trim()).indexOf('number');
      if (at < 0) return bad(['csv: the header must name a "number" column']);
      raw = rows.map((r) => r[at]);
    } else if (Array.isArray(b.numbers)) {
      raw = b.numbers;
    } else {
      return bad(['numbers: expected an array of phone numbers (or csv: CSV text with a number column)']);
    }
    if (raw.length > MAX_NUMBERS) return bad([`numbers: at most ${MAX_NUMBERS} per request`]);
    const country = typeof b.defaultCountry === 'string' ? b.defaultCountry : undefined;
    const numbers: string[] = [];
    const invalid: string[] = [];
    for (let i = 0; i < raw.length; i++) {
      // 100,000 numbers are over a second of CPU: the event loop gets a turn every 2,000
      if (i > 0 && i % 2000 === 0) await new Promise<void>((r) => setImmediate(r));
      const n = raw[i];
      const e = typeof n === 'string' ? toE164(n, country) : null;
      if (e) numbers.push(e); else invalid.push(String(n));
    }
    if (invalid.length > 0) return bad(invalid.slice(0, 20).map((n) => `numbers: not a valid phone number: ${n}`));
    const added = await this.o.store.add(list, numbers, source, this.o.clock.wallMs());
    return { status: 200, body: { tenant: list, added, alreadyListed: new Set(numbers).size - added } };
  }

  /** `DELETE /v1/dnc/{number}?tenant=&defaultCountry=`. */
  async remove(number: string, scope: string | null, query: URLSearchParams): Promise<Reply> {
    const list = this.list(scope, query.get('tenant'));
    if (typeof list !== 'string') return list;
    const e = toE164(number, query.get('defaultCountry') ?? undefined);
    if (!e) return bad(['number: expected a phone number in E.164']);
    if (!(await this.o.store.remove(list, e))) return { status: 404, body: { error: { code: 'API_NOT_FOUND', message: 'the number is not on this list' } } };
    return { status: 200, body: { tenant: list, removed: e } };
  }

  /** `GET /v1/dnc?tenant=&after=&limit=`. */
  async page(query: string, scope: string | null): Promise<Reply> {
    const q = new URLSearchParams(query);
    const list = this.list(scope, q.get('tenant'));
    if (typeof list !== 'string') return list;
    const limit = q.get('limit') === null ? 100 : Number(q.get('limit'));
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad(['limit: expected an integer from 1 to 1000']);
    const rows = await this.o.store.page(list, q.get('after') ?? '', limit);
    return {
      status: 200,
      body: {
        tenant: list, numbers: rows.map((r) => ({ number: r.number, source: r.source, addedAt: new Date(r.added_at).toISOString() })),
        next: rows.length === limit ? rows[rows.length - 1].number : null,
      },
    };
  }

  /** Every number of a list (CSV export). */
  async *all(list: string): AsyncIterable<Record<string, string>> {
    let after = '';
    for (;;) {
      const rows = await this.o.store.page(list, after, 1000);
      for (const r of rows) yield { number: r.number, source: r.source, addedAt: new Date(r.added_at).toISOString() };
      if (rows.length < 1000) return;
      after = rows[rows.length - 1].number;
    }
  }
}

