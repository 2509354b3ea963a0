/** Where the store lives: an SQLite file (embedded, the default) or a PostgreSQL server. */
export type StoreLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string };

/**
 * Parses `store.url`: `sqlite:PATH` (`sqlite::memory:` for a throw-away database) or
 * `postgres://user@host:port/db` (`postgresql://` too). Returns a hint string when it is not one
 * of them. A password inside the URL is refused: it belongs in `store.password` (env:/cred:), so
 * that the URL can be logged.
 */
export function parseStoreUrl(s: string): StoreLocation | string {
  if (s.startsWith('sqlite:')) {
    const path = s.slice('sqlite:'.length);
    if (path === '') return 'give the database file after "sqlite:", e.g. sqlite:/var/lib/fsbridge/fsbridge.db';
    if (path.includes('\0')) return 'it contains a NUL character';
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(s)) {
    let u: URL;
    try { u = new URL(s); } catch { return 'it is not a valid URL'; }
    if (!u.hostname) return 'it names no host';
    if (u.password) return 'do not put the password in the URL: set store.password (it may be env:NAME or cred:NAME)';
    return { kind: 'postgres', connectionString: s };
  }
  return 'it must start with sqlite: or postgres://';
}
