/**
 * Who may do what through the API. Pure.
 *
 * - `admin`: everything, every tenant (the configured `api.token` is an admin key).
 * - `operator`: read, place and hang up its tenant's calls, erase a person's data from them, run
 *   its campaigns and keep its do-not-call list.
 * - `viewer`: read its tenant's calls, recordings, trunks, metrics and campaigns.
 */
export type Role = 'admin' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

export type Action =
  | 'calls:read' | 'calls:write' | 'trunks:read' | 'metrics:read'
  | 'keys:manage' | 'tenants:manage' | 'audit:read' | 'subjects:erase'
  | 'campaigns:read' | 'campaigns:write' | 'dnc:read' | 'dnc:write';

const GRANTS: Readonly<Record<Role, readonly Action[]>> = {
  admin: ['calls:read', 'calls:write', 'trunks:read', 'metrics:read', 'keys:manage', 'tenants:manage', 'audit:read', 'subjects:erase',
    'campaigns:read', 'campaigns:write', 'dnc:read', 'dnc:write'],
  operator: ['calls:read', 'calls:write', 'trunks:read', 'metrics:read', 'subjects:erase', 'campaigns:read', 'campaigns:write', 'dnc:read', 'dnc:write'],
  viewer: ['calls:read', 'trunks:read', 'metrics:read', 'campaigns:read'],
};

/** Who made a request: a key of a tenant with a role; `tenant` null for api.token (all tenants). */
export interface Principal {
  keyId: string;
  role: Role;
  tenant: string | null;
}

export function can(p: Principal, action: Action): boolean {
  return GRANTS[p.role].includes(action);
}

/** Whether `p` may see anything of `tenant` (admins see every tenant). */
export function seesTenant(p: Principal, tenant: string): boolean {
  return p.role === 'admin' || p.tenant === tenant;
}

/** The tenant a query is limited to: null (all) for admins, else the key's own. */
export function tenantScope(p: Principal): string | null {
  return p.role === 'admin' ? null : p.tenant;
}
