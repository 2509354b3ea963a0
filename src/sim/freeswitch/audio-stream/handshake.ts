import type { WsTarget } from './ws-url.js';

/**
 * The upgrade request exactly as the captured module sends it (fixtures raw/handshake-request.bin):
 * no space after the colons, port always in Host, `Connection:upgrade` lower case, Origin
 * `http://host:port`, no Sec-WebSocket-Protocol, no User-Agent, and no permessage-deflate offer (the
 * capture shows none even with STREAM_MESSAGE_DEFLATE set). Extra headers (STREAM_EXTRA_HEADERS) follow Origin.
 */
export function buildHandshakeRequest(target: WsTarget, keyB64: string, extraHeaders: ReadonlyArray<readonly [string, string]> = []): Buffer {
  const hp = `${target.host}:${target.port}`;
  let s = `GET ${target.pathAndQuery} HTTP/1.1\r\nHost:${hp}\r\nUpgrade:websocket\r\nConnection:upgrade\r\n` +
    `Sec-WebSocket-Key:${keyB64}\r\nSec-WebSocket-Version:13\r\nOrigin:http://${hp}\r\n`;
  for (const [k, v] of extraHeaders) s += `${k}:${v}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

/**
 * STREAM_EXTRA_HEADERS: a JSON object whose string values become extra handshake headers.
 * Anything else (bad JSON, non-object, non-string values, names or values with CR/LF) is skipped.
 */
export function parseExtraHeaders(json: string | undefined): Array<[string, string]> {
  if (json === undefined || json === '') return [];
  let v: unknown;
  try { v = JSON.parse(json); } catch { return []; }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  const out: Array<[string, string]> = [];
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string' || /[\r\n:]/.test(k) || /[\r\n]/.test(val) || k === '') continue;
    out.push([k, val]);
  }
  return out;
}

/** Result of looking at the bytes received so far in answer to the upgrade request. */
export type HandshakeResult =
  | { state: 'incomplete' }
  | { state: 'failed' }
  /** `rest` = bytes after the header block (the first frames, if the server sent them at once). */
  | { state: 'upgraded'; rest: Buffer };

/** Largest response header block accepted before the upgrade is declared failed. */
export const MAX_HANDSHAKE_RESPONSE_BYTES = 16 * 1024;

/**
 * libwsc's check: the header block must contain `HTTP/1.1 101` and a `Sec-WebSocket-Accept:` header
 * (case-insensitive); the accept value itself is not verified.
 */
export function checkHandshakeResponse(buf: Buffer): HandshakeResult {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_HANDSHAKE_RESPONSE_BYTES ? { state: 'failed' } : { state: 'incomplete' };
  const head = buf.subarray(0, end).toString('latin1');
  if (!head.includes('HTTP/1.1 101') || !/sec-websocket-accept:/i.test(head)) return { state: 'failed' };
  return { state: 'upgraded', rest: Buffer.from(buf.subarray(end + 4)) };
}
