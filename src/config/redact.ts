import type { Config, DeepReadonly } from './schema.js';
import { REDACTED, isSecretPath } from './secrets.js';

/** A JSON-like plain value. */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

function copy(value: unknown, segments: (string | number)[]): PlainValue {
  if (isSecretPath(segments)) return REDACTED;
  if (Array.isArray(value)) return value.map((v, i) => copy(v, [...segments, i]));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: PlainValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v, [...segments, k]);
    return out;
  }
  return value as PlainValue;
}

/**
 * A new, unfrozen plain copy of the configuration with every secret (SECRET_CONFIG_PATHS)
 * replaced by "[redacted]". Safe to print or log. The input is not changed.
 */
export function redactConfig(config: DeepReadonly<Config> | Config): { [key: string]: PlainValue } {
  return copy(config, []) as { [key: string]: PlainValue };
}
