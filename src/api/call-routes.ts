import type { ServerResponse } from 'node:http';
import { parseCallFilter, type CallFilter } from '../store/call-filter.js';
import type { CallPage } from '../store/call-history.js';
import { csvHeader, csvRow } from '../store/csv.js';
import type { StoredCall } from '../store/call-rows.js';
import { drainedOrClosed, sendJson } from './http-util.js';
import { seesTenant, tenantScope, type Principal } from '../tenants/roles.js';

/** What the call routes need from the daemon. */
export interface CallRoutesBackend {
  /** One page of history, or this node's live calls (`state=live`). */
  listCalls(filter: CallFilter): Promise<CallPage>;
  /** Every matching call (CSV export). */
  exportCalls(filter: CallFilter): AsyncIterable<Record<string, unknown>>;
  getCall(callId: string): Promise<Record<string, unknown> | undefined>;
}

/** A backend that has no calls (a tenant asking for another tenant's). */
const NOTHING: CallRoutesBackend = {
  listCalls: async () => ({ calls: [], nextCursor: null }),
  exportCalls: async function* () { /* none */ },
  getCall: async () => undefined,
};

/** Answers a client fault (counted and logged by the API server). */
export type Fail = (status: number, code: string, message: string, extra?: Record<string, unknown>) => void;

/**
 * `GET /v1/calls?from=&to=&bot=&cause=&direction=&state=&since=&until=&limit=&cursor=&format=`:
 * history from the store, newest first, `nextCursor` for the next page; `format=csv` streams every
 * matching call as CSV. A store that does not answer is 503 API_STORE_UNAVAILABLE.
 */
export async function listCalls(res: ServerResponse, query: string, p: Principal, b: CallRoutesBackend, fail: Fail): Promise<void> {
  const parsed = parseCallFilter(query);
  if (!parsed.ok) return fail(400, 'API_BAD_REQUEST', 'bad filter', { problems: parsed.problems });
  // a tenant's key sees its own tenant's calls; asking for another tenant's gives none
  const scope = tenantScope(p);
  if (scope !== null && parsed.filter.tenant !== undefined && parsed.filter.tenant !== scope) {
    if (parsed.filter.format === 'csv') return exportCsv(res, parsed.filter, NOTHING, fail);
    return sendJson(res, 200, { calls: [], nextCursor: null });
  }
  const f = scope === null ? parsed.filter : { ...parsed.filter, tenant: scope };
  if (f.format === 'csv') return exportCsv(res, f, b, fail);
  let page: CallPage;
  try { page = await b.listCalls(f); } catch { return fail(503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable'); }
  sendJson(res, 200, page);
}

/** `GET /v1/calls/{id}`: the live call, else its record (404 for another tenant's). */
export async function getCall(res: ServerResponse, callId: string, p: Principal, b: CallRoutesBackend, fail: Fail): Promise<void> {
  const got = await visibleCall(callId, p, b);
  if (got === 'unavailable') return fail(503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable');
  if (!got) return fail(404, 'API_NOT_FOUND', 'no such call');
  sendJson(res, 200, got);
}

/**
 * The call if `p` may see it; undefined when it does not exist or belongs to another tenant (the
 * same answer, so that a key cannot learn which call ids exist elsewhere).
 */
export async function visibleCall(callId: string, p: Principal, b: CallRoutesBackend): Promise<Record<string, unknown> | undefined | 'unavailable'> {
  let call: Record<string, unknown> | undefined;
  try { call = await b.getCall(callId); } catch { return 'unavailable'; }
  if (!call || !seesTenant(p, String(call.tenant))) return undefined;
  return call;
}

/**
 * Streams the CSV, page by page, honouring back-pressure. The status line is sent only once the
 * first page is read, so an unreachable store is still a 503; a failure later cuts the body short
 * (the connection is destroyed, so a client cannot take a partial export for a whole one).
 */
async function exportCsv(res: ServerResponse, f: CallFilter, b: CallRoutesBackend, fail: Fail): Promise<void> {
  const it = b.exportCalls(f)[Symbol.asyncIterator]();
  let first: IteratorResult<Record<string, unknown>>;
  try { first = await it.next(); } catch { return fail(503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable'); }
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="calls.csv"' });
  if (res.req.method === 'HEAD') { res.end(); void it.return?.(undefined); return; }
  res.write(csvHeader());
  try {
    for (let r = first; !r.done; r = await it.next()) {
      // the client may have left while the next page was read
      if (res.destroyed) { void it.return?.(undefined); return; }
      if (!res.write(csvRow(r.value as unknown as StoredCall))) await drainedOrClosed(res);
    }
  } catch {
    res.destroy();
    return;
  }
  res.end();
}
