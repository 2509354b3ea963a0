import type { ServerResponse } from 'node:http';
import { csvCell } from '../store/csv.js';
import { can, type Action, type Principal } from '../tenants/roles.js';
import { tenantScope } from '../tenants/roles.js';
import type { CampaignService, ControlVerb, Reply } from '../campaigns/campaign-service.js';
import type { DncService } from '../campaigns/dnc-service.js';
import { drainedOrClosed, sendJson } from './http-util.js';
import type { Fail } from './call-routes.js';

/** Largest body of `POST /v1/campaigns` (100,000 contacts with their variables) and `POST /v1/dnc`. */
export const CAMPAIGN_BODY_BYTES = 32 * 1024 * 1024;

/** The columns of a campaign's results export, in order. */
export const CAMPAIGN_CSV_COLUMNS = [
  'contact', 'number', 'contactState', 'contactOutcome', 'attempt', 'callId', 'outcome', 'startedAt', 'endedAt', 'sipStatus',
  'callCause', 'callEndedBy', 'callDurationMs',
] as const;

/** What the campaign routes need. */
export interface CampaignRoutesBackend {
  campaigns: CampaignService;
  dnc: DncService;
  /** `POST /v1/calls/{id}/dnc`: the callee of a call `p` may see goes on its tenant's list. */
  callDnc(callId: string, scope: string | null): Promise<Reply>;
}

const CAMPAIGN = /^\/v1\/campaigns\/([^/]+)$/;
const CAMPAIGN_VERB = /^\/v1\/campaigns\/([^/]+)\/(pause|resume|cancel|contacts|export)$/;
const DNC_NUMBER = /^\/v1\/dnc\/([^/]+)$/;
const CALL_DNC = /^\/v1\/calls\/([^/]+)\/dnc$/;

/**
 * `/v1/campaigns…`, `/v1/dnc…` and `POST /v1/calls/{id}/dnc`. Returns false when the path is
 * none of them. Store failures throw (the API server answers 503).
 */
export async function campaignRoute(
  method: string, path: string, query: string, p: Principal, res: ServerResponse, b: CampaignRoutesBackend,
  body: (limit: number) => Promise<Record<string, unknown> | null>, fail: Fail, decode: (s: string) => string | null,
): Promise<boolean> {
  const scope = tenantScope(p);
  const allowed = (a: Action) => { if (can(p, a)) return true; fail(403, 'API_FORBIDDEN', `the ${p.role} role may not do this`); return false; };
  const reply = (r: Reply) => {
    if (r.status >= 400) {
      const e = r.body.error as { code: string; message?: string; problems?: string[] };
      fail(r.status, e.code, e.message ?? 'bad request', e.problems ? { problems: e.problems } : {});
      return;
    }
    sendJson(res, r.status, r.body);
  };
  const id = (raw: string): string | null => {
    const v = decode(raw);
    if (v === null) fail(400, 'API_BAD_ESCAPE', 'malformed %-escape in the path');
    return v;
  };

  if (path === '/v1/campaigns') {
    if (method === 'GET') { if (allowed('campaigns:read')) reply(await b.campaigns.list(scope)); return true; }
    if (method === 'POST') {
      if (!allowed('campaigns:write')) return true;
      const got = await body(CAMPAIGN_BODY_BYTES);
      if (got !== null) reply(await b.campaigns.create(got, scope));
      return true;
    }
    return false;
  }
  const cm = CAMPAIGN.exec(path);
  if (cm && method === 'GET') {
    const cid = id(cm[1]);
    if (cid !== null && allowed('campaigns:read')) reply(await b.campaigns.get(cid, scope));
    return true;
  }
  const vm = CAMPAIGN_VERB.exec(path);
  if (vm) {
    const cid = id(vm[1]);
    if (cid === null) return true;
    const verb = vm[2];
    if (verb === 'contacts' && method === 'GET') { if (allowed('campaigns:read')) reply(await b.campaigns.contacts(cid, query, scope)); return true; }
    if (verb === 'export' && method === 'GET') {
      if (!allowed('campaigns:read')) return true;
      const rows = await b.campaigns.exportRows(cid, scope);
      if (!rows) { fail(404, 'API_NOT_FOUND', 'no such campaign'); return true; }
      await streamCsv(res, CAMPAIGN_CSV_COLUMNS, rows, `campaign-${cid}.csv`);
      return true;
    }
    if (method === 'POST' && verb !== 'contacts' && verb !== 'export') {
      if (allowed('campaigns:write')) reply(await b.campaigns.control(cid, verb as ControlVerb, scope));
      return true;
    }
    return false;
  }
  if (path === '/v1/dnc') {
    if (method === 'GET') {
      if (!allowed('dnc:read')) return true;
      const q = new URLSearchParams(query);
      if (q.get('format') === 'csv') {
        const list = b.dnc.list(scope, q.get('tenant'));
        if (typeof list !== 'string') { reply(list); return true; }
        await streamCsv(res, ['number', 'source', 'addedAt'], b.dnc.all(list), 'dnc.csv');
        return true;
      }
      reply(await b.dnc.page(query, scope));
      return true;
    }
    if (method === 'POST') {
      if (!allowed('dnc:write')) return true;
      const got = await body(CAMPAIGN_BODY_BYTES);
      if (got !== null) reply(await b.dnc.add(got, scope));
      return true;
    }
    return false;
  }
  const dm = DNC_NUMBER.exec(path);
  if (dm && method === 'DELETE') {
    const n = id(dm[1]);
    if (n !== null && allowed('dnc:write')) reply(await b.dnc.remove(n, scope, new URLSearchParams(query)));
    return true;
  }
  const callm = CALL_DNC.exec(path);
  if (callm && method === 'POST') {
    const cid = id(callm[1]);
    if (cid !== null && allowed('dnc:write')) reply(await b.callDnc(cid, scope));
    return true;
  }
  return false;
}

/**
 * Streams rows as CSV with back-pressure. The first row is read before the status line, so an
 * unreachable store is still an error answer (it throws); a failure later cuts the body short.
 */
async function streamCsv(res: ServerResponse, columns: readonly string[], rows: AsyncIterable<Record<string, unknown>>, filename: string): Promise<void> {
  const it = rows[Symbol.asyncIterator]();
  const first = await it.next();
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` });
  if (res.req.method === 'HEAD') { res.end(); void it.return?.(undefined); return; }
  res.write(columns.join(',') + '\r\n');
  try {
    for (let r = first; !r.done; r = await it.next()) {
      if (res.destroyed) { void it.return?.(undefined); return; }
      if (!res.write(columns.map((c) => csvCell(r.value[c])).join(',') + '\r\n')) await drainedOrClosed(res);
    }
  } catch {
    res.destroy();
    return;
  }
  res.end();
}
