/**
 * Checks for the string formats of the schema (StringFormat). Each returns undefined when the
 * value is fine, or a hint explaining what is wrong. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { StringFormat } from './schema.js';
import { parseStoreUrl } from './store-url.js';

const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?=.{1,253}$)${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DID = /^\+?[0-9]{1,20}$/;
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the websocket client sets itself (RFC 6455 section 4.1); a bot may not override them. */
const RESERVED_HEADERS = new Set(['host', 'upgrade', 'connection', 'content-length', 'transfer-encoding']);

/** What a value of each format looks like, for "expected ..." sentences. */
export const FORMAT_EXPECTED: Readonly<Record<StringFormat, string>> = {
  host: 'a host name or IP address',
  hostport: 'host:port with a port from 1 to 65535 (an IPv6 address as [addr]:port)',
  listen: 'host:port with a port from 0 to 65535, 0 picking any free port (an IPv6 address as [addr]:port)',
  sipUri: 'a sip: or sips: URI such as "sip:sip.example.net:5060"',
  wsUrl: 'a ws:// or wss:// URL',
  regex: 'a regular expression',
  cidr: 'an IP address or CIDR block such as "203.0.113.0/24"',
  did: 'a dialled number in quotes: digits with an optional leading +',
  name: 'a name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  path: 'a file path',
  storeUrl: 'sqlite:PATH or postgres://user@host:port/database',
  httpUrl: 'an http:// or https:// URL',
  text: 'a non-empty string',
};

/** True for an IPv4/IPv6 address or DNS name (IPv6 without brackets). */
export function isHost(s: string): boolean {
  return isIPv4(s) || isIPv6(s) || DNS_NAME.test(s);
}

function validPort(s: string, min = 1): boolean {
  if (!/^[0-9]{1,5}$/.test(s)) return false;
  const n = Number(s);
  return n >= min && n <= 65535;
}

/** Splits "host:port" / "[v6]:port"; undefined when malformed. `minPort` 0 allows port 0 (listen addresses). */
export function parseHostPort(s: string, minPort = 1): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:([^:]+)$/.exec(s) ?? /^([^:[\]]+):([^:]+)$/.exec(s);
  if (!m) return undefined;
  const host = m[1];
  const bracketed = s.startsWith('[');
  if (bracketed ? !isIPv6(host) : !(isIPv4(host) || DNS_NAME.test(host))) return undefined;
  if (!validPort(m[2], minPort)) return undefined;
  return { host, port: Number(m[2]) };
}

/** True when the host is a wildcard bind address that no peer can connect to. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^(0{1,4}:){7}0{1,4}$/.test(host) || host === '0:0:0:0:0:0:0:0';
}

function checkSipUri(s: string): string | undefined {
  const m = /^sips?:(?:[^@\s;]+@)?(\[[^\]]+\]|[^:;@\s[\]]+)(?::([^;\s]*))?(?:;\S*)?$/i.exec(s);
  if (!m) return 'it must start with sip: or sips: followed by [user@]host[:port][;params]';
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  if (m[1].startsWith('[') ? !isIPv6(host) : !(isIPv4(host) || DNS_NAME.test(host))) return `"${m[1]}" is not a host name or IP address`;
  if (m[2] !== undefined && !validPort(m[2])) return `"${m[2]}" is not a port from 1 to 65535`;
  return undefined;
}

function checkWsUrl(s: string): string | undefined {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `the scheme is ${url.protocol.replace(/:$/, '')}, not ws or wss`;
  if (url.hostname === '') return 'it names no host';
  return undefined;
}

/** Parses an IPv6 address (no zone) to a 128-bit number. */
function ipv6ToBigInt(s: string): bigint {
  let text = s;
  // Embedded IPv4 tail, e.g. ::ffff:192.0.2.1.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  let out = 0n;
  for (const part of [...headParts, ...fill, ...tailParts]) out = (out << 16n) | BigInt(parseInt(part, 16));
  return out;
}

function checkCidr(s: string): string | undefined {
  const [addr, prefix, extra] = s.split('/');
  if (extra !== undefined) return 'it has more than one "/"';
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return `"${addr}" is not an IP address`;
  if (prefix === undefined) return undefined;
  const bits = v4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > bits) return `the prefix length must be from 0 to ${bits}`;
  const p = BigInt(prefix);
  const value = v4 ? addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) : ipv6ToBigInt(addr);
  const hostMask = (1n << (BigInt(bits) - p)) - 1n;
  if ((value & hostMask) !== 0n) {
    const network = value & ~hostMask;
    const shown = v4
      ? [24n, 16n, 8n, 0n].map((sh) => String((network >> sh) & 255n)).join('.')
      : undefined;
    return shown ? `the address has host bits set; did you mean "${shown}/${prefix}"?` : 'the address has host bits set below the prefix';
  }
  return undefined;
}

/** Returns undefined when `s` has the format, else a hint saying what is wrong ('' when no detail). */
export function checkFormat(format: StringFormat, s: string): string | undefined {
  switch (format) {
    case 'host': return isHost(s) ? undefined : '';
    case 'hostport': return parseHostPort(s) ? undefined : '';
    case 'listen': return parseHostPort(s, 0) ? undefined : '';
    case 'sipUri': return checkSipUri(s);
    case 'wsUrl': return checkWsUrl(s);
    case 'cidr': return checkCidr(s);
    case 'did': return DID.test(s) ? undefined : '';
    case 'name': return NAME.test(s) ? undefined : '';
    case 'path': return s.includes('\0') ? 'it contains a NUL character' : undefined;
    case 'storeUrl': { const r = parseStoreUrl(s); return typeof r === 'string' ? r : undefined; }
    case 'httpUrl': return checkHttpUrl(s);
    case 'text': return undefined;
    case 'regex': return checkRegex(s);
  }
}

function checkHttpUrl(s: string): string | undefined {
  if (!/^https?:\/\//i.test(s)) return 'it must start with http:// or https://';
  try { new URL(s); } catch { return 'it is not a valid URL'; }
  return undefined;
}

function checkRegex(s: string): string | undefined {
  if (s.length > 256) return 'it is longer than 256 characters';
  try { new RegExp(s); return undefined; } catch (e) { return (e as Error).message; }
}

/** Returns undefined when `name` may be sent as a header on the websocket upgrade, else a hint. */
export function checkHeaderName(name: string): string | undefined {
  if (!HEADER_TOKEN.test(name)) return 'header names are letters, digits and !#$%&\'*+.^_`|~-';
  const lower = name.toLowerCase();
  if (RESERVED_HEADERS.has(lower) || lower.startsWith('sec-websocket-')) return 'fsbridge sets this header itself';
  return undefined;
}

/** Returns true when `name` is a valid bot/trunk name. */
export function isName(name: string): boolean {
  return NAME.test(name);
}
