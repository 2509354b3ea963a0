/**
 * Which configuration paths hold secrets, derived from the schema (kind 'secret'). Used by
 * redact.ts for print-config and by the logger to censor a configuration object it is given.
 */
import { CONFIG_SCHEMA, type SchemaNode } from './schema.js';

/** Marker that replaces every secret value. */
export const REDACTED = '[redacted]';

function collect(node: SchemaNode, prefix: string, out: string[]): void {
  switch (node.kind) {
    case 'secret': out.push(prefix); break;
    case 'object':
      for (const [key, child] of Object.entries(node.fields)) collect(child, prefix ? `${prefix}.${key}` : key, out);
      break;
    case 'list': collect(node.item, `${prefix}[*]`, out); break;
    case 'map': collect(node.value, `${prefix}.*`, out); break;
    default: break;
  }
}

/**
 * Secret paths in the configuration, with `*` for any map key and `[*]` for any list index:
 * `freeswitch.esl.password`, `trunks[*].password`, `bots.*.headers.*`, ...
 */
export const SECRET_CONFIG_PATHS: readonly string[] = Object.freeze((() => {
  const out: string[] = [];
  collect(CONFIG_SCHEMA, '', out);
  return out;
})());

/**
 * The secret paths in pino's `redact.paths` syntax, below `prefix` (the log field that holds the
 * configuration, e.g. 'config'). pino allows one wildcard per path only at the end or as `[*]`/`.*`.
 */
export function secretLogPaths(prefix: string): string[] {
  return SECRET_CONFIG_PATHS.map((p) => `${prefix}.${p}`);
}

/** True when the path segments (map keys strings, list indexes numbers) name a secret. */
export function isSecretPath(segments: readonly (string | number)[]): boolean {
  return SECRET_CONFIG_PATHS.some((pattern) => matches(pattern, segments));
}

function matches(pattern: string, segments: readonly (string | number)[]): boolean {
  const parts = pattern.replace(/\[\*\]/g, '.[*]').split('.');
  if (parts.length !== segments.length) return false;
  return parts.every((part, i) => {
    const seg = segments[i];
    if (part === '[*]') return typeof seg === 'number';
    if (part === '*') return typeof seg === 'string';
    return part === seg;
  });
}
