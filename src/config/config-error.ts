import type { ConfigErrorCode } from './error-codes.js';

/**
 * One problem found in the configuration. `message` is a full sentence naming the key path, what
 * was expected and what was found; branch on `code`, never on `message`.
 */
export interface ConfigError {
  code: ConfigErrorCode;
  /** Key path such as `freeswitch.esl.port`, `trunks[0].name`, `bots.support.url`; '' for the whole file. */
  path: string;
  expected: string;
  found: string;
  message: string;
  /** The known key or name closest to what was found, when it looks like a typo. */
  suggestion?: string;
  /** 1-based position in the YAML text, when known. */
  line?: number;
  column?: number;
}

/** A key path as segments: map keys are strings, list indexes numbers. */
export type PathSegments = readonly (string | number)[];

/** A problem found by the pure validator, before positions and messages are attached. */
export interface RawConfigError {
  code: ConfigErrorCode;
  segments: PathSegments;
  expected: string;
  found: string;
  /** Extra advice appended to the sentence ("did you mean ...", "write it in quotes"). */
  hint?: string;
  /** Closest known key/name/value ("did you mean"). */
  suggestion?: string;
}

/** Writes path segments as `a.b[0].c`. */
export function formatPath(segments: PathSegments): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** Builds the one-sentence message of an error. */
export function formatMessage(
  path: string, expected: string, found: string, hint?: string, line?: number, column?: number,
): string {
  const where = path === '' ? 'config' : path;
  const pos = line !== undefined ? ` (line ${line}${column !== undefined ? `, column ${column}` : ''})` : '';
  return `${where}: expected ${expected}, found ${found}${hint ? `; ${hint}` : ''}${pos}`;
}

const MAX_SHOWN = 80;

/** Describes a found value for an error message. Secrets are described by kind only. */
export function describeFound(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  switch (typeof value) {
    case 'string': {
      if (value === '') return 'an empty string';
      if (secret) return 'a string';
      const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
      return JSON.stringify(shown);
    }
    case 'number': return secret ? 'a number' : `the number ${String(value)}`;
    case 'boolean': return secret ? 'a boolean' : `the boolean ${String(value)}`;
    case 'object': return 'a mapping';
    default: return `a ${typeof value}`;
  }
}
