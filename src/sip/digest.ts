/**
 * HTTP Digest authentication for SIP (RFC 2617, RFC 7616 with MD5, RFC 3261 §22), pure functions:
 * challenge/credentials parsing, the client's response computation and the server's check.
 * Only MD5 and qop=auth (or no qop, RFC 2069 style) are supported.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A parsed `WWW-Authenticate` / `Proxy-Authenticate` challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: string;
  /** The qop options offered, e.g. ['auth', 'auth-int']. */
  qop?: string[];
  stale?: boolean;
}

/** A parsed `Authorization` / `Proxy-Authorization` value. */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  opaque?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/** Inputs for computing a response. */
export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  method: string;
  uri: string;
  nonce: string;
  /** 'auth' or undefined (no qop). */
  qop?: string;
  /** 8 hex digits, e.g. '00000001'. Required with qop. */
  nc?: string;
  cnonce?: string;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/**
 * Splits `key=value, key="quoted, value"` pairs (RFC 7235 auth-param list). Quoted strings may
 * contain commas and backslash escapes. Returns lower-cased keys.
 */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ',' || s[i] === ' ' || s[i] === '\t')) i++;
    let k = '';
    while (i < n && s[i] !== '=' && s[i] !== ',') k += s[i++];
    if (i >= n || s[i] === ',') continue;
    i++; // '='
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    let v = '';
    if (s[i] === '"') {
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        v += s[i++];
      }
      i++; // closing quote
    } else {
      while (i < n && s[i] !== ',') v += s[i++];
      v = v.trim();
    }
    k = k.trim().toLowerCase();
    if (k) out[k] = v;
  }
  return out;
}

function stripScheme(header: string): string | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  return m ? m[1] : undefined;
}

/** Parses a challenge header value; undefined when it is not Digest or lacks realm/nonce. */
export function parseChallenge(header: string): DigestChallenge | undefined {
  const rest = stripScheme(header);
  if (rest === undefined) return undefined;
  const p = parseAuthParams(rest);
  if (p.realm === undefined || p.nonce === undefined) return undefined;
  const c: DigestChallenge = { realm: p.realm, nonce: p.nonce };
  if (p.opaque !== undefined) c.opaque = p.opaque;
  if (p.algorithm !== undefined) c.algorithm = p.algorithm;
  if (p.qop !== undefined) c.qop = p.qop.split(',').map((x) => x.trim()).filter(Boolean);
  if (p.stale !== undefined) c.stale = p.stale.toLowerCase() === 'true';
  return c;
}

/** Parses an Authorization header value; undefined when not Digest or a required field is missing. */
export function parseCredentials(header: string): DigestCredentials | undefined {
  const rest = stripScheme(header);
  if (rest === undefined) return undefined;
  const p = parseAuthParams(rest);
  for (const k of ['username', 'realm', 'nonce', 'uri', 'response']) if (p[k] === undefined) return undefined;
  const c: DigestCredentials = { username: p.username, realm: p.realm, nonce: p.nonce, uri: p.uri, response: p.response };
  for (const k of ['algorithm', 'opaque', 'qop', 'nc', 'cnonce'] as const) if (p[k] !== undefined) c[k] = p[k];
  return c;
}

/** HA1 = MD5(username:realm:password) (RFC 2617 §3.2.2.2, algorithm MD5). */
export function ha1(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`);
}

/** Computes the request-digest (RFC 2617 §3.2.2.1) from an HA1 the caller already holds. */
export function responseFromHa1(h1: string, d: Omit<DigestInput, 'username' | 'password' | 'realm'>): string {
  const h2 = md5(`${d.method}:${d.uri}`);
  if (d.qop) return md5(`${h1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${h2}`);
  return md5(`${h1}:${d.nonce}:${h2}`);
}

/** Computes the request-digest for a username/password. */
export function computeResponse(d: DigestInput): string {
  return responseFromHa1(ha1(d.username, d.realm, d.password), d);
}

/** Formats a nonce count as 8 lower-case hex digits. */
export function formatNc(count: number): string {
  return (count >>> 0).toString(16).padStart(8, '0');
}

/**
 * Builds an Authorization header value answering `challenge` (client side). Picks qop=auth when
 * offered (never auth-int), echoes opaque, algorithm MD5.
 */
export function buildAuthorization(
  challenge: DigestChallenge,
  a: { username: string; password: string; method: string; uri: string; nc: number; cnonce: string },
): string {
  const qop = challenge.qop?.includes('auth') ? 'auth' : undefined;
  const nc = formatNc(a.nc);
  const response = computeResponse({
    username: a.username, password: a.password, realm: challenge.realm, method: a.method, uri: a.uri,
    nonce: challenge.nonce, qop, nc, cnonce: a.cnonce,
  });
  const q = (v: string): string => v.replace(/["\\]/g, (c) => '\\' + c);
  let h = `Digest username="${q(a.username)}", realm="${q(challenge.realm)}", nonce="${q(challenge.nonce)}", uri="${q(a.uri)}", response="${response}", algorithm=MD5`;
  if (qop) h += `, qop=${qop}, nc=${nc}, cnonce="${q(a.cnonce)}"`;
  if (challenge.opaque !== undefined) h += `, opaque="${q(challenge.opaque)}"`;
  return h;
}

/** Why a server-side check failed; 'ok' when it passed. */
export type DigestVerdict = 'ok' | 'bad-response' | 'unsupported' | 'missing-fields';

/**
 * Server side: checks credentials against the password (or a stored HA1) for `method`.
 * Does not judge nonce freshness or nc replay; the caller owns nonce state.
 */
export function verifyCredentials(
  cred: DigestCredentials,
  method: string,
  secret: { password: string; username: string } | { ha1: string },
): DigestVerdict {
  if (cred.algorithm !== undefined && cred.algorithm.toUpperCase() !== 'MD5') return 'unsupported';
  if (cred.qop !== undefined && cred.qop !== 'auth') return 'unsupported';
  if (cred.qop && (cred.nc === undefined || cred.cnonce === undefined)) return 'missing-fields';
  const h1 = 'ha1' in secret ? secret.ha1 : ha1(secret.username, cred.realm, secret.password);
  const expected = responseFromHa1(h1, { method, uri: cred.uri, nonce: cred.nonce, qop: cred.qop, nc: cred.nc, cnonce: cred.cnonce });
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(cred.response.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'bad-response';
}

/**
 * Parses a nonce count (`nc`, exactly 8 hex digits, RFC 2617 §3.2.2); undefined when malformed
 * or zero (the first request with a nonce counts 00000001).
 */
export function parseNc(nc: string | undefined): number | undefined {
  if (nc === undefined || !/^[0-9a-f]{8}$/i.test(nc)) return undefined;
  const n = parseInt(nc, 16);
  return n === 0 ? undefined : n;
}

// RFC 3261 §19.1.4: parameters that make two URIs differ when only one of them carries it.
const MUST_MATCH_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

interface SipUriParts {
  scheme: string;
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Map<string, string>;
  headers: Map<string, string>;
}

/** %XX of an unreserved character → the character; other escapes with upper-case hex (§19.1.4). */
function normalizeEscapes(s: string): string {
  return s.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

function parseSipUri(s: string): SipUriParts | undefined {
  const m = /^(sips?):(?:([^@]*)@)?([^;?]+)((?:;[^?]*)?)((?:\?.*)?)$/i.exec(s.trim());
  if (!m) return undefined;
  const hp = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(m[3]);
  if (!hp) return undefined;
  const params = new Map<string, string>();
  for (const p of m[4].split(';').slice(1)) {
    const eq = p.indexOf('=');
    const name = normalizeEscapes(eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    if (name && !params.has(name)) params.set(name, normalizeEscapes(eq < 0 ? '' : p.slice(eq + 1)).toLowerCase());
  }
  const headers = new Map<string, string>();
  for (const h of m[5].slice(1).split('&')) {
    if (!h) continue;
    const eq = h.indexOf('=');
    headers.set(normalizeEscapes(eq < 0 ? h : h.slice(0, eq)).toLowerCase(), normalizeEscapes(eq < 0 ? '' : h.slice(eq + 1)));
  }
  return {
    scheme: m[1].toLowerCase(), user: m[2] === undefined ? undefined : normalizeEscapes(m[2]), host: hp[1].toLowerCase(),
    port: hp[2] === undefined ? undefined : Number(hp[2]), params, headers,
  };
}

/**
 * True when the `uri` of an Authorization header names the resource of the request's
 * Request-URI: the server must check this (RFC 2617 §3.2.2.5, RFC 7616 §3.4.6), or a header
 * captured for one request opens any other. SIP and SIPS URIs are compared by RFC 3261 §19.1.4
 * (scheme, host and parameters case-insensitive, user part case-sensitive, escapes of unreserved
 * characters equal to the character, an omitted port differs from an explicit one, transport/
 * user/ttl/method/maddr must be in both or neither, headers never ignored); anything else only
 * byte for byte.
 */
export function digestUriMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return digestUri !== '';
  const a = parseSipUri(digestUri);
  const b = parseSipUri(requestUri);
  if (!a || !b) return false;
  if (a.scheme !== b.scheme || a.user !== b.user || a.host !== b.host || a.port !== b.port) return false;
  for (const [name, value] of a.params) {
    if (b.params.has(name) ? b.params.get(name) !== value : MUST_MATCH_PARAMS.includes(name)) return false;
  }
  for (const name of b.params.keys()) if (!a.params.has(name) && MUST_MATCH_PARAMS.includes(name)) return false;
  if (a.headers.size !== b.headers.size) return false;
  for (const [name, value] of a.headers) if (b.headers.get(name) !== value) return false;
  return true;
}
