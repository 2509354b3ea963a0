/**
 * The filter of `GET /v1/calls` (call history), parsed from the query string. Pure. Values are
 * only ever bound as query parameters, never put into SQL text; they are still bounded in length
 * and checked for shape so that a wrong request gets a clear 400 rather than an empty page.
 */
export interface CallFilter {
  from?: string;
  to?: string;
  bot?: string;
  cause?: string;
  /** Only this tenant's calls (set from the caller's key; an admin may ask with `tenant=`). */
  tenant?: string;
  direction?: 'inbound' | 'outbound';
  /** `live`: this node's live calls (from memory); `ended`: ended calls only; absent: both. */
  state?: 'live' | 'ended';
  /** offered at or after, ms since the epoch */
  sinceMs?: number;
  /** offered before, ms since the epoch */
  untilMs?: number;
  /** Where the previous page stopped (newest first). */
  after?: CallCursor;
  limit: number;
  format: 'json' | 'csv';
}

/** A position in the history: the last call of a page. */
export interface CallCursor { offeredAtMs: number; callId: string }

export const CALL_PAGE_DEFAULT = 100;
export const CALL_PAGE_MAX = 1000;
/** Longest value accepted for any filter (a phone number, a bot name, a cause...). */
const VALUE_MAX = 128;
const CURSOR_MAX = 256;

const KEYS = ['from', 'to', 'bot', 'cause', 'tenant', 'direction', 'state', 'since', 'until', 'cursor', 'limit', 'format'] as const;

export type FilterResult = { ok: true; filter: CallFilter } | { ok: false; problems: string[] };

/** Parses a query string (without `?`). */
export function parseCallFilter(query: string): FilterResult {
  const params = new URLSearchParams(query);
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    if (!(KEYS as readonly string[]).includes(k)) { problems.push(`${k.slice(0, 40)}: unknown filter (known: ${KEYS.join(', ')})`); continue; }
    if (seen.has(k)) { problems.push(`${k}: given more than once`); continue; }
    if (v.length > (k === 'cursor' ? CURSOR_MAX : VALUE_MAX)) { problems.push(`${k}: longer than ${k === 'cursor' ? CURSOR_MAX : VALUE_MAX} characters`); continue; }
    seen.set(k, v);
  }
  const f: CallFilter = { limit: CALL_PAGE_DEFAULT, format: 'json' };
  for (const k of ['from', 'to', 'bot', 'cause', 'tenant'] as const) {
    const v = seen.get(k);
    if (v === undefined) continue;
    if (v === '' || /[\0-\x1f\x7f]/.test(v)) problems.push(`${k}: expected a non-empty value without control characters`);
    else f[k] = v;
  }
  const dir = seen.get('direction');
  if (dir !== undefined) { if (dir === 'inbound' || dir === 'outbound') f.direction = dir; else problems.push('direction: expected inbound or outbound'); }
  const state = seen.get('state');
  if (state !== undefined) { if (state === 'live' || state === 'ended') f.state = state; else problems.push('state: expected live or ended'); }
  const format = seen.get('format');
  if (format !== undefined) { if (format === 'json' || format === 'csv') f.format = format; else problems.push('format: expected json or csv'); }
  for (const [k, field] of [['since', 'sinceMs'], ['until', 'untilMs']] as const) {
    const v = seen.get(k);
    if (v === undefined) continue;
    const t = parseTime(v);
    if (t === null) problems.push(`${k}: expected an ISO 8601 date or time (2026-12-07, 2026-12-07T10:00:00Z) or ms since the epoch`);
    else f[field] = t;
  }
  const limit = seen.get('limit');
  if (limit !== undefined) {
    const n = /^[0-9]{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= CALL_PAGE_MAX)) problems.push(`limit: expected an integer from 1 to ${CALL_PAGE_MAX}`);
    else f.limit = n;
  }
  const cursor = seen.get('cursor');
  if (cursor !== undefined) {
    const c = decodeCursor(cursor);
    if (!c) problems.push('cursor: not a cursor this API gave (use nextCursor of the previous page)');
    else f.after = c;
  }
  return problems.length ? { ok: false, problems } : { ok: true, filter: f };
}

/** ISO 8601 date or date-time (a time without zone is UTC), or integer ms since the epoch. */
function parseTime(v: string): number | null {
  if (/^[0-9]{1,15}$/.test(v)) return Number(v);
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(v)) return null;
  const zoned = /(Z|[+-][0-9]{2}:?[0-9]{2})$/.test(v) || v.length === 10 ? v : `${v}Z`;
  const t = Date.parse(zoned.replace(' ', 'T'));
  return Number.isFinite(t) ? t : null;
}

export function encodeCursor(c: CallCursor): string {
  return Buffer.from(JSON.stringify([c.offeredAtMs, c.callId])).toString('base64url');
}

export function decodeCursor(s: string): CallCursor | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= VALUE_MAX) {
      return { offeredAtMs: v[0] as number, callId: v[1] };
    }
  } catch { /* not JSON */ }
  return null;
}

/** Whether a live call (as the API shows it) passes the filter; the same rules as the store's query. */
export function matchesLive(c: { from: string; to: string; bot: string | null; tenant: string; direction: string; offeredAt: string }, f: CallFilter): boolean {
  const t = Date.parse(c.offeredAt);
  return (f.from === undefined || c.from === f.from) && (f.tenant === undefined || c.tenant === f.tenant) && (f.to === undefined || c.to === f.to)
    && (f.bot === undefined || c.bot === f.bot) && (f.direction === undefined || c.direction === f.direction)
    && f.cause === undefined
    && (f.sinceMs === undefined || t >= f.sinceMs) && (f.untilMs === undefined || t < f.untilMs);
}
