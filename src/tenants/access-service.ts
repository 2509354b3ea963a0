import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { DeepReadonly, TenantConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { StoreWriter } from '../store/writer.js';
import { auditEntry, findKey, insertKey, insertTenant, listAudit, listKeys, listTenants, revokeKey } from '../store/access.js';
import { apiKeyId, apiKeyMatches, generateApiKey } from './api-key.js';
import { ROLES, tenantScope, type Principal, type Role } from './roles.js';

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' }
  | { ok: false; status: 503; reason: 'store' };

/** A tenant as the API shows it. */
export interface TenantView { name: string; maxConcurrentCalls: number | null; callsPerDay: number | null; source: 'config' | 'api' | 'builtin' }

export type Answer = { status: number; body: Record<string, unknown> };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY_MS = 86_400_000;

/** The configured admin token as a principal: every tenant. */
export const API_TOKEN_PRINCIPAL: Principal = { keyId: 'api.token', role: 'admin', tenant: null };

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m ? m[1].trim() : null;
}

/** Constant-time equality of a presented token and a configured one. */
export function sameToken(presented: string, configured: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(configured);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new key's row and the key itself (shown once). Pure but for the randomness. */
export function newKey(o: { tenant: string; role: Role; name: string | null; expiresInDays: number | null; nowMs: number }) {
  const k = generateApiKey();
  return {
    token: k.token,
    row: {
      id: k.id, tenant: o.tenant, role: o.role, name: o.name, hash: k.hash, created_at: o.nowMs,
      expires_at: o.expiresInDays === null ? null : o.nowMs + o.expiresInDays * DAY_MS, revoked_at: null,
    },
  };
}

/** Checks a request to create a key; returns its fields or the problems. */
export function parseKeyRequest(b: Record<string, unknown>): { ok: true; tenant: string; role: Role; name: string | null; expiresInDays: number | null } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const known = ['tenant', 'role', 'name', 'expiresInDays'];
  for (const k of Object.keys(b)) if (!known.includes(k)) problems.push(`${k.slice(0, 40)}: unknown field (known: ${known.join(', ')})`);
  const tenant = typeof b.tenant === 'string' && NAME.test(b.tenant) ? b.tenant : null;
  if (!tenant) problems.push('tenant: expected a tenant name');
  const role = ROLES.find((r) => r === b.role) ?? null;
  if (!role) problems.push(`role: expected one of ${ROLES.join(', ')}`);
  let name: string | null = null;
  if (b.name !== undefined) { if (typeof b.name === 'string' && b.name.length >= 1 && b.name.length <= 64 && !/[\0-\x1f]/.test(b.name)) name = b.name; else problems.push('name: expected 1 to 64 characters'); }
  let expiresInDays: number | null = null;
  if (b.expiresInDays !== undefined) {
    if (Number.isInteger(b.expiresInDays) && (b.expiresInDays as number) >= 1 && (b.expiresInDays as number) <= 3650) expiresInDays = b.expiresInDays as number;
    else problems.push('expiresInDays: expected an integer from 1 to 3650');
  }
  return problems.length ? { ok: false, problems } : { ok: true, tenant: tenant!, role: role!, name, expiresInDays };
}

export interface AccessServiceOptions {
  adminToken: string;
  /** Tenants of the configuration. */
  tenants: () => DeepReadonly<Record<string, TenantConfig>>;
  store: () => Store;
  writer: StoreWriter;
  clock: Clock;
}

/**
 * Tenants, API keys, roles and the audit log: who a request is (authenticate), which tenants
 * exist and their limits (configuration and API), keys created, listed and revoked, and the
 * audit entries of changes made through the API. Tenants made through the API are cached here
 * (loaded at start and kept up to date) so that admission never waits for the database.
 */
export class AccessService {
  private apiTenants = new Map<string, TenantView>();

  constructor(private readonly o: AccessServiceOptions) {}

  /** Loads the tenants made through the API (at start). */
  async load(): Promise<void> {
    for (const t of await listTenants(this.o.store())) {
      this.apiTenants.set(t.name, { name: t.name, maxConcurrentCalls: t.max_concurrent, callsPerDay: t.calls_per_day, source: 'api' });
    }
  }

  /** The principal of an `Authorization` header. */
  async authenticate(header: string | undefined): Promise<AuthResult> {
    const token = bearerToken(header);
    if (token === null) return { ok: false, status: 401, reason: 'missing' };
    if (sameToken(token, this.o.adminToken)) return { ok: true, principal: API_TOKEN_PRINCIPAL };
    const id = apiKeyId(token);
    if (!id) return { ok: false, status: 401, reason: 'malformed' };
    let row;
    try { row = await findKey(this.o.store(), id); } catch { return { ok: false, status: 503, reason: 'store' }; }
    if (!row || !apiKeyMatches(token, row.hash)) return { ok: false, status: 401, reason: 'unknown' };
    if (row.revoked_at !== null) return { ok: false, status: 401, reason: 'revoked' };
    if (row.expires_at !== null && Number(row.expires_at) <= this.o.clock.wallMs()) return { ok: false, status: 401, reason: 'expired' };
    return { ok: true, principal: { keyId: row.id, role: row.role as Role, tenant: row.tenant } };
  }

  /** Every tenant: `default`, the configuration's, the API's. */
  tenants(): TenantView[] {
    const out = new Map<string, TenantView>([['default', { name: 'default', maxConcurrentCalls: null, callsPerDay: null, source: 'builtin' }]]);
    for (const t of this.apiTenants.values()) out.set(t.name, t);
    for (const [name, t] of Object.entries(this.o.tenants())) {
      out.set(name, { name, maxConcurrentCalls: t.maxConcurrentCalls ?? null, callsPerDay: t.callsPerDay ?? null, source: 'config' });
    }
    return [...out.values()].sort((x, y) => x.name.localeCompare(y.name));
  }

  tenant(name: string): TenantView | undefined {
    return this.tenants().find((t) => t.name === name);
  }

  async createTenant(b: Record<string, unknown>): Promise<Answer> {
    const problems: string[] = [];
    const known = ['name', 'maxConcurrentCalls', 'callsPerDay'];
    for (const k of Object.keys(b)) if (!known.includes(k)) problems.push(`${k.slice(0, 40)}: unknown field (known: ${known.join(', ')})`);
    const name = typeof b.name === 'string' && NAME.test(b.name) ? b.name : null;
    if (!name) problems.push('name: expected 1 to 64 letters, digits, ".", "_" or "-"');
    const limit = (k: string, max: number) => {
      if (b[k] === undefined) return null;
      if (Number.isInteger(b[k]) && (b[k] as number) >= 1 && (b[k] as number) <= max) return b[k] as number;
      problems.push(`${k}: expected an integer from 1 to ${max}`);
      return null;
    };
    const maxConcurrentCalls = limit('maxConcurrentCalls', 100_000);
    const callsPerDay = limit('callsPerDay', 10_000_000);
    if (problems.length) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems } } };
    if (this.tenant(name!)) return { status: 409, body: { error: { code: 'API_CONFLICT', message: 'the tenant exists' } } };
    // another node may have made it meanwhile: the stored one stands
    if (!(await insertTenant(this.o.store(), { name: name!, max_concurrent: maxConcurrentCalls, calls_per_day: callsPerDay, created_at: this.o.clock.wallMs() }))) {
      return { status: 409, body: { error: { code: 'API_CONFLICT', message: 'the tenant exists' } } };
    }
    const view: TenantView = { name: name!, maxConcurrentCalls, callsPerDay, source: 'api' };
    this.apiTenants.set(name!, view);
    return { status: 201, body: { ...view } };
  }

  async createKey(b: Record<string, unknown>): Promise<Answer> {
    const r = parseKeyRequest(b);
    if (!r.ok) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems: r.problems } } };
    if (!this.tenant(r.tenant)) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems: ['tenant: no such tenant'] } } };
    const k = newKey({ ...r, nowMs: this.o.clock.wallMs() });
    await insertKey(this.o.store(), k.row);
    return { status: 201, body: { ...keyView(k.row), key: k.token } };
  }

  async listKeys(p: Principal): Promise<Record<string, unknown>[]> {
    return (await listKeys(this.o.store(), tenantScope(p))).map(keyView);
  }

  async revokeKey(p: Principal, id: string): Promise<boolean> {
    return revokeKey(this.o.store(), id, tenantScope(p), this.o.clock.wallMs());
  }

  /** Records a change made through the API (queued like call records). */
  audit(p: Principal, action: string, target: string | null, status: number, tenant: string | null = p.tenant): void {
    this.o.writer.push({ kind: 'audit', entry: auditEntry({ at: this.o.clock.wallMs(), key_id: p.keyId, role: p.role, tenant, action, target, status }) });
  }

  async listAudit(p: Principal, limit: number): Promise<Record<string, unknown>[]> {
    return (await listAudit(this.o.store(), tenantScope(p), limit)).map((e) => ({
      at: new Date(Number(e.at)).toISOString(), keyId: e.key_id, role: e.role, tenant: e.tenant, action: e.action, target: e.target, status: Number(e.status),
    }));
  }
}

function keyView(k: { id: string; tenant: string; role: string; name: string | null; created_at: number; expires_at: number | null; revoked_at: number | null }): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
  return { id: k.id, tenant: k.tenant, role: k.role, name: k.name, createdAt: iso(k.created_at), expiresAt: iso(k.expires_at), revokedAt: iso(k.revoked_at) };
}
