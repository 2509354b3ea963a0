/**
 * A small argv parser: `<command> [<subcommand>] --flag value --bool`. Flags may repeat only
 * where the command says so; unknown flags are errors (returned, not thrown).
 */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) { flags.set(a.slice(2, eq), a.slice(eq + 1)); continue; }
      const name = a.slice(2);
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { flags.set(name, next); i++; }
      else flags.set(name, true);
    } else positionals.push(a);
  }
  return { positionals, flags };
}

/** Returns the flag's string value, or undefined; a bare `--flag` without value gives ''. */
export function flagStr(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  if (v === undefined) return undefined;
  return v === true ? '' : v;
}

/** Names of flags not in `allowed`. */
export function unknownFlags(a: ParsedArgs, allowed: readonly string[]): string[] {
  return [...a.flags.keys()].filter((k) => !allowed.includes(k));
}

/** Parses `host:port` (IPv6 as `[::1]:port`). */
export function parseHostPort(s: string, defaultHost = '127.0.0.1'): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s) ?? /^(\d{1,5})$/.exec(s);
  if (!m) return null;
  if (m.length === 2) return { host: defaultHost, port: Number(m[1]) };
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? (m[2] || defaultHost), port };
}
