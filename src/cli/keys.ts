import type { ParsedArgs } from './args.js';
import { flagStr, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { loadOptions } from './config-commands.js';
import { loadConfig } from '../config/index.js';
import { parseStoreUrl } from '../config/store-url.js';
import { Store } from '../store/store.js';
import { auditEntry, insertKey, listKeys, listTenants, revokeKey } from '../store/access.js';
import { newKey, parseKeyRequest } from '../tenants/access-service.js';

const USAGE = `usage:
  fsbridge keys create --config FILE --tenant NAME --role admin|operator|viewer [--name TEXT] [--expires-days N]
  fsbridge keys list --config FILE [--tenant NAME]
  fsbridge keys revoke --config FILE ID
`;

/**
 * `fsbridge keys create|list|revoke`: API keys in the store named by the configuration (the
 * daemon may be running: SQLite in WAL mode and PostgreSQL both allow it). A created key is
 * printed once; the store keeps only its hash. Each change is written to the audit log as `cli`.
 */
export async function keysCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const sub = args.positionals[1];
  const bad = unknownFlags(args, ['config', 'tenant', 'role', 'name', 'expires-days']);
  if (!sub || !['create', 'list', 'revoke'].includes(sub) || bad.length > 0) {
    io.err((bad.length ? `fsbridge keys: unknown option --${bad[0]}\n` : '') + USAGE);
    return EXIT.USAGE;
  }
  const loaded = loadConfig(loadOptions(args, io));
  if (!loaded.ok) {
    io.err(`fsbridge keys: invalid configuration:\n${loaded.errors.map((e) => `  ${e.message}`).join('\n')}\n`);
    return EXIT.CONFIG_INVALID;
  }
  const cfg = loaded.config;
  const loc = parseStoreUrl(cfg.store.url);
  if (typeof loc === 'string') { io.err(`fsbridge keys: store.url: ${loc}\n`); return EXIT.CONFIG_INVALID; }
  let store: Store;
  try {
    store = await Store.open({ location: loc, password: cfg.store.password });
  } catch (err) {
    io.err(`fsbridge keys: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  try {
    const now = Date.now();
    const audit = (action: string, target: string, tenant: string | null) => store.apply([{
      kind: 'audit', entry: auditEntry({ at: now, key_id: 'cli', role: 'admin', tenant, action, target, status: 200 }),
    }]);
    if (sub === 'create') {
      const days = flagStr(args, 'expires-days');
      const req = parseKeyRequest({
        tenant: flagStr(args, 'tenant'), role: flagStr(args, 'role'),
        ...(flagStr(args, 'name') !== undefined ? { name: flagStr(args, 'name') } : {}),
        ...(days !== undefined ? { expiresInDays: /^[0-9]+$/.test(days) ? Number(days) : days } : {}),
      });
      if (!req.ok) { io.err(`fsbridge keys create: ${req.problems.join('; ')}\n${USAGE}`); return EXIT.USAGE; }
      const known = new Set(['default', ...Object.keys(cfg.tenants), ...(await listTenants(store)).map((t) => t.name)]);
      if (!known.has(req.tenant)) { io.err(`fsbridge keys create: no tenant "${req.tenant}" (configure it under tenants:, or POST /v1/tenants)\n`); return EXIT.FAILURE; }
      const k = newKey({ ...req, nowMs: now });
      await insertKey(store, k.row);
      await audit('keys create', k.row.id, req.tenant);
      io.out(`id: ${k.row.id}\ntenant: ${req.tenant}\nrole: ${req.role}\n`
        + `expires: ${k.row.expires_at === null ? 'never' : new Date(k.row.expires_at).toISOString()}\n`
        + `key: ${k.token}\n(the key is shown only now: store it safely)\n`);
      return EXIT.OK;
    }
    if (sub === 'list') {
      const rows = await listKeys(store, flagStr(args, 'tenant') || null);
      const iso = (t: number | null) => (t === null ? '-' : new Date(Number(t)).toISOString());
      io.out(['id\ttenant\trole\tname\tcreated\texpires\trevoked',
        ...rows.map((r) => [r.id, r.tenant, r.role, r.name ?? '-', iso(r.created_at), iso(r.expires_at), iso(r.revoked_at)].join('\t'))].join('\n') + '\n');
      return EXIT.OK;
    }
    const id = args.positionals[2];
    if (!id) { io.err(USAGE); return EXIT.USAGE; }
    if (!(await revokeKey(store, id, null, now))) { io.err(`fsbridge keys revoke: no live key "${id}"\n`); return EXIT.FAILURE; }
    await audit('keys revoke', id, null);
    io.out(`revoked ${id}\n`);
    return EXIT.OK;
  } finally {
    await store.close();
  }
}
