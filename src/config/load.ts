/**
 * The configuration loader: the thin I/O shell around validate.ts. Reads the file (or takes the
 * text), parses YAML, validates, attaches line/column to every error, and deep-freezes the result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Config, DeepReadonly } from './schema.js';
import { formatMessage, formatPath, type ConfigError, type PathSegments, type RawConfigError } from './config-error.js';
import { deepFreeze } from './freeze.js';
import type { CredentialReader } from './secret-ref.js';
import { validateConfig } from './validate.js';

export interface LoadConfigOptions {
  /** Path of the YAML file; also names the file in messages when `text` is given. */
  file?: string;
  /** YAML text; when given, `file` is not read. */
  text?: string;
  /** Environment for `env:NAME` secrets (the caller passes process.env; modules never read it). */
  env: Readonly<Record<string, string | undefined>>;
  /** systemd's $CREDENTIALS_DIRECTORY, for `cred:NAME` secrets. */
  credentialsDir?: string;
}

/** Either the frozen configuration, or every error found (never both). */
export type LoadConfigResult =
  | { ok: true; config: DeepReadonly<Config> }
  | { ok: false; errors: ConfigError[] };

function fileError(expected: string, found: string): ConfigError {
  return { code: 'CONFIG_FILE', path: '', expected, found, message: formatMessage('', expected, found) };
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code} (${(e.message ?? '').replace(/^[A-Z]+: /, '').replace(/,.*$/, '')})` : String(err);
}

/** Reads credentials from a directory, refusing anything but a plain file name. */
function credentialReader(dir: string): CredentialReader {
  return (name) => {
    try {
      return { ok: true, value: readFileSync(join(dir, name), 'utf8') };
    } catch (err) {
      return { ok: false, reason: errnoText(err) };
    }
  };
}

/** The YAML node at `segments`, or the deepest existing ancestor (the key itself when its value is empty). */
function nodeAt(doc: Document, segments: PathSegments): YamlNode | undefined {
  let cur: unknown = doc.contents;
  for (const seg of segments) {
    if (isMap(cur)) {
      const pair = cur.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(seg));
      if (!pair) return cur;
      if (pair.value == null || !(isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value))) {
        return isScalar(pair.key) ? pair.key : cur;
      }
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number' && seg < cur.items.length) {
      const item = cur.items[seg];
      if (!(isScalar(item) || isMap(item) || isSeq(item))) return cur;
      cur = item;
    } else {
      break;
    }
  }
  return cur as YamlNode | undefined;
}

function withPosition(raw: RawConfigError, doc: Document, lc: LineCounter): ConfigError {
  const path = formatPath(raw.segments);
  let line: number | undefined;
  let column: number | undefined;
  // An unknown key points at the key itself; other errors at the value (or the nearest parent).
  const node = nodeAt(doc, raw.segments);
  if (node?.range) {
    const pos = lc.linePos(node.range[0]);
    line = pos.line;
    column = pos.col;
  }
  return {
    code: raw.code, path, expected: raw.expected, found: raw.found,
    message: formatMessage(path, raw.expected, raw.found, raw.hint, line, column),
    ...(raw.suggestion !== undefined ? { suggestion: raw.suggestion } : {}),
    ...(line !== undefined ? { line, column } : {}),
  };
}

/**
 * Loads and validates the configuration. Synchronous (runs once at start). Never throws for bad
 * input: returns `{ok:false, errors}` with every problem (codes CONFIG_FILE, CONFIG_YAML,
 * CONFIG_INVALID, CONFIG_UNKNOWN_KEY, CONFIG_SECRET_MISSING). On success the configuration is
 * deep-frozen, with defaults applied and secrets resolved to their values.
 */
export function loadConfig(opts: LoadConfigOptions): LoadConfigResult {
  let text = opts.text;
  if (text === undefined) {
    if (opts.file === undefined) return { ok: false, errors: [fileError('a configuration file (--config FILE)', 'none given')] };
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      return { ok: false, errors: [fileError(`a readable configuration file at ${opts.file}`, errnoText(err))] };
    }
  }

  const lc = new LineCounter();
  // YAML 1.2 core schema: yes/no stay strings, duplicate keys are errors.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lc.linePos(e.pos[0]);
        const found = `${e.code}: ${e.message.split('\n')[0]}`;
        return {
          code: 'CONFIG_YAML' as const, path: '', expected: 'valid YAML', found, line, column: col,
          message: formatMessage('', 'valid YAML', found, undefined, line, col),
        };
      }),
    };
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Only alias bombs and similar abuse reach here.
    const found = (err as Error).message;
    return { ok: false, errors: [{ code: 'CONFIG_YAML', path: '', expected: 'valid YAML', found, message: formatMessage('', 'valid YAML', found) }] };
  }

  const result = validateConfig(raw, {
    env: opts.env,
    readCredential: opts.credentialsDir !== undefined ? credentialReader(opts.credentialsDir) : undefined,
    sourceOf: (segments) => {
      const node = nodeAt(doc, segments);
      return isScalar(node) && typeof node.source === 'string' && node.source !== '' ? node.source : undefined;
    },
  });
  if (!result.config) {
    const errors = result.errors.map((e) => withPosition(e, doc, lc));
    // File order reads best; Array.prototype.sort is stable, so same-line errors keep schema order.
    errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    return { ok: false, errors };
  }
  return { ok: true, config: deepFreeze(result.config) };
}
