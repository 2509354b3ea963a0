import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameToken } from '../tenants/access-service.js';

/** The largest request body the API reads, in bytes; a larger one is answered 413 API_BODY_TOO_LARGE. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What {@link readBody} found: the body, a body over the limit, or a client that left first. */
export type BodyResult = { kind: 'body'; text: string } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads a request body of at most `limitBytes` as UTF-8. A declared Content-Length over the limit
 * resolves 'too-large' before a byte is read; a chunked body resolves 'too-large' as soon as it
 * passes the limit, and the rest is left unread. 'aborted' when the client closed or the request
 * timed out first. Never rejects: all three are client behaviour, not server faults.
 */
export function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<BodyResult> {
  // llhttp has already checked that Content-Length is digits only.
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (r: BodyResult) => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('aborted', onGone);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        req.pause();
        settle({ kind: 'too-large' });
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => settle({ kind: 'body', text: Buffer.concat(chunks).toString('utf8') });
    const onGone = () => settle({ kind: 'aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('aborted', onGone);
  });
}

/**
 * Sends a JSON answer. When the request's body has not been received to its end (answered early:
 * 401, 404, 413), the answer says `Connection: close` and the connection is closed after it rather
 * than kept by reading and discarding the rest of the body.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  if (bodyUnread(res.req)) res.setHeader('connection', 'close');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Whether the request has a body (RFC 9112 §6.3) that has not been received to its end yet. */
function bodyUnread(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
  // `complete` is set when the parser reaches the end of the message, which for a request without
  // a body is only after the handler has run.
  return hasBody && !req.complete;
}

/** A request target split into its path and query, both still percent-encoded. */
export interface RequestTarget {
  path: string;
  /** Without the leading `?`; '' when there is none. */
  query: string;
}

// RFC 3986 §3.3 path characters (unreserved, sub-delims, ':', '@', '/') and '%'; the escapes
// themselves are checked only when a segment is decoded, after authentication.
const PATH_CHARS = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
// RFC 3986 §3.4: the path characters and '?'.
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
// RFC 9112 §3.2.2 absolute-form: scheme and authority (reg-name or IP literal, optional port).
const ABSOLUTE_PREFIX = /^https?:\/\/(?:[A-Za-z0-9\-._~%!$&'()*+,;=]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?(?=[/?]|$)/i;

/**
 * Splits a request target (RFC 9112 §3.2) in origin-form (`/path?query`) or absolute-form
 * (`http://host/path?query`) into its path and query. Nothing is decoded, so this may run before
 * authentication. Returns null (answer 400 API_BAD_TARGET) for asterisk- or authority-form, a
 * fragment, or a character RFC 3986 does not allow there (`[`, `]`, `{`, `"`, ...).
 */
export function parseRequestTarget(target: string): RequestTarget | null {
  let rest = target;
  if (!rest.startsWith('/')) {
    const abs = ABSOLUTE_PREFIX.exec(rest);
    if (!abs) return null;
    rest = rest.slice(abs[0].length);
    if (!rest.startsWith('/')) rest = '/' + rest;
  }
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  if (!PATH_CHARS.test(path) || !QUERY_CHARS.test(query)) return null;
  return { path, query };
}

/**
 * Percent-decodes one path segment as UTF-8 (RFC 3986 §2.1). Returns null (answer 400
 * API_BAD_ESCAPE) for a `%` not followed by two hex digits, or bytes that are not UTF-8 (overlong
 * forms, surrogates, truncated sequences). Call it only after the request is authenticated.
 */
export function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    // URIError is the only thing decodeURIComponent throws: a malformed escape or invalid UTF-8.
    return null;
  }
}

/** `Authorization: Basic base64(user:pass)` check. */
export function basicOk(req: IncomingMessage, user: string, pass: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return false;
  return sameToken(decoded.slice(0, i), user) && sameToken(decoded.slice(i + 1), pass);
}

/** Resolves when `res` drained or closed (a client that left never drains), leaving no listener behind. */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((ok) => {
    // a client that left before the wait: 'close' has fired already
    if (res.destroyed || res.writableEnded) { ok(); return; }
    const done = () => { res.off('drain', done); res.off('close', done); ok(); };
    res.on('drain', done);
    res.on('close', done);
  });
}
