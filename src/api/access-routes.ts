import type { ServerResponse } from 'node:http';
import { API_TOKEN_PRINCIPAL, bearerToken, sameToken, type AuthResult, type TenantView } from '../tenants/access-service.js';
import { can, type Principal } from '../tenants/roles.js';
import { sendJson } from './http-util.js';
import type { Fail } from './call-routes.js';

/** How the API knows who is asking, and where it writes what they changed. */
export interface ApiAccess {
  authenticate(authorization: string | undefined): Promise<AuthResult>;
  audit(p: Principal, action: string, target: string | null, status: number, tenant?: string | null): void;
}

/** Tenants, keys and the audit log through the API (admin keys; a tenant's keys see their own tenant). */
export interface AccessRoutesBackend {
  tenants(): TenantView[];
  createTenant(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  createKey(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  listKeys(p: Principal): Promise<Record<string, unknown>[]>;
  revokeKey(p: Principal, id: string): Promise<boolean>;
  listAudit(p: Principal, limit: number): Promise<Record<string, unknown>[]>;
}

/** Only the configured api.token, as an admin of every tenant (no store: tests of the API alone). */
export function tokenOnlyAccess(token: string): ApiAccess {
  return {
    async authenticate(h) {
      const presented = bearerToken(h);
      if (presented === null) return { ok: false, status: 401, reason: 'missing' };
      return sameToken(presented, token) ? { ok: true, principal: API_TOKEN_PRINCIPAL } : { ok: false, status: 401, reason: 'unknown' };
    },
    audit() {},
  };
}

/**
 * `GET/POST /v1/tenants`, `GET/POST /v1/keys`, `DELETE /v1/keys/{id}`, `GET /v1/audit`. Returns
 * false when the path is none of them. A key of one tenant sees only its own tenant, keys and
 * audit entries; creating tenants and keys is for admins.
 */
export async function accessRoute(
  method: string, path: string, query: string, p: Principal, res: ServerResponse, b: AccessRoutesBackend,
  body: () => Promise<Record<string, unknown> | null>, fail: Fail, decode: (s: string) => string | null,
): Promise<boolean> {
  const forbidden = () => fail(403, 'API_FORBIDDEN', `the ${p.role} role may not do this`);
  if (path === '/v1/tenants') {
    if (method === 'GET') {
      sendJson(res, 200, { tenants: b.tenants().filter((t) => p.role === 'admin' || t.name === p.tenant) });
      return true;
    }
    if (method === 'POST') {
      if (!can(p, 'tenants:manage')) { forbidden(); return true; }
      const got = await body();
      if (got === null) return true;
      const r = await b.createTenant(got);
      sendJson(res, r.status, r.body);
      return true;
    }
  }
  if (path === '/v1/keys') {
    if (!can(p, 'keys:manage')) { forbidden(); return true; }
    if (method === 'GET') { sendJson(res, 200, { keys: await b.listKeys(p) }); return true; }
    if (method === 'POST') {
      const got = await body();
      if (got === null) return true;
      const r = await b.createKey(got);
      sendJson(res, r.status, r.body);
      return true;
    }
  }
  const km = /^\/v1\/keys\/([^/]+)$/.exec(path);
  if (km && method === 'DELETE') {
    if (!can(p, 'keys:manage')) { forbidden(); return true; }
    const id = decode(km[1]);
    if (id === null || !(await b.revokeKey(p, id))) { fail(404, 'API_NOT_FOUND', 'no such key'); return true; }
    sendJson(res, 200, { id, revoked: true });
    return true;
  }
  if (path === '/v1/audit' && method === 'GET') {
    if (!can(p, 'audit:read')) { forbidden(); return true; }
    const limit = Number(new URLSearchParams(query).get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) { fail(400, 'API_BAD_REQUEST', 'limit: expected an integer from 1 to 1000'); return true; }
    sendJson(res, 200, { entries: await b.listAudit(p, limit) });
    return true;
  }
  return false;
}
