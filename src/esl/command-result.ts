import type { EslErrorCode } from './error-codes.js';

/** The typed outcome of every Event Socket command. Expected failures are values, never exceptions. */
export type EslResult<T = string> =
  | { ok: true; body: string; value: T }
  | { ok: false; code: EslErrorCode; reply?: string; detail?: string };

/**
 * Classifies an api/bgapi output body the way FreeSWITCH writes it (esl/api-replies.txt, 1.10.12):
 * `+OK ...` (often with a trailing LF) is success; `-ERR ...` and `-USAGE: ...` are failures;
 * anything else (e.g. `uuid_getvar`'s raw value, `show ... as json`) is success with the text as is.
 */
export function classifyApiBody(body: string): EslResult<string> {
  const text = body.replace(/\n$/, '');
  if (text.startsWith('-ERR') || text.startsWith('-USAGE')) return { ok: false, code: 'ESL_COMMAND_FAILED', reply: text };
  if (text.startsWith('+OK')) return { ok: true, body, value: text.slice(3).trim() };
  return { ok: true, body, value: text };
}

/** `originate` reply `+OK <uuid>\n` → the new channel uuid. */
export function parseOriginateReply(body: string): EslResult<string> {
  const r = classifyApiBody(body);
  if (!r.ok) return r;
  const m = /^\+OK ([0-9A-Za-z-]+)\s*$/.exec(body);
  if (!m) return { ok: false, code: 'ESL_COMMAND_FAILED', reply: body.trim() };
  return { ok: true, body, value: m[1] };
}

/** `uuid_exists` reply `true`/`false` → boolean. */
export function parseExistsReply(body: string): EslResult<boolean> {
  const t = body.trim();
  if (t === 'true') return { ok: true, body, value: true };
  if (t === 'false') return { ok: true, body, value: false };
  return { ok: false, code: 'ESL_COMMAND_FAILED', reply: t };
}

/** `uuid_getvar` reply: the raw value; FreeSWITCH answers `_undef_` for an unset variable. */
export function parseGetvarReply(body: string): EslResult<string | undefined> {
  const r = classifyApiBody(body);
  if (!r.ok) return r;
  const t = body.replace(/\n$/, '');
  return { ok: true, body, value: t === '_undef_' ? undefined : t };
}

/**
 * `show channels as json` → the channel uuids. FreeSWITCH 1.10.12 prints `{"row_count": 0}` when there are no
 * channels and `{"row_count":N,"rows":[{"uuid":...},...]}` otherwise.
 */
export function parseShowChannelsJson(body: string): EslResult<string[]> {
  let obj: unknown;
  try {
    obj = JSON.parse(body);
  } catch {
    return { ok: false, code: 'ESL_RECONCILE_FAILED', reply: body.slice(0, 200) };
  }
  if (obj === null || typeof obj !== 'object') return { ok: false, code: 'ESL_RECONCILE_FAILED' };
  const rows = (obj as { rows?: unknown }).rows;
  if (rows === undefined) return { ok: true, body, value: [] };
  if (!Array.isArray(rows)) return { ok: false, code: 'ESL_RECONCILE_FAILED' };
  const uuids: string[] = [];
  for (const row of rows) {
    const u = (row as { uuid?: unknown } | null)?.uuid;
    if (typeof u === 'string' && u !== '') uuids.push(u);
  }
  return { ok: true, body, value: uuids };
}
