/**
 * A small SIP message model for the drachtio twin (RFC 3261 §7): parse, serialise and header
 * helpers. Pure. The twin keeps its own copy so that src/sim never imports the daemon's SIP code.
 */

/** One header line as received (name spelling kept). */
export interface SipHeader {
  name: string;
  value: string;
}

/** A parsed SIP request or response. */
export interface SipMessage {
  kind: 'request' | 'response';
  method: string; // request method, or the CSeq method for a response
  uri: string; // request-URI ('' for responses)
  status: number; // 0 for requests
  reason: string;
  headers: SipHeader[];
  body: string;
}

// RFC 3261 §7.3.3 compact forms.
const COMPACT: Record<string, string> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
  k: 'supported', s: 'subject', e: 'content-encoding', o: 'event', r: 'refer-to', u: 'allow-events',
};

/** Canonical lower-case header name (compact forms expanded). */
export function canonicalName(name: string): string {
  const n = name.trim().toLowerCase();
  return COMPACT[n] ?? n;
}

/** Parses one SIP message; undefined if the start line or a header line is malformed. */
export function parseSip(text: string): SipMessage | undefined {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep >= 0 ? text.slice(0, sep) : text.replace(/\r\n$/, '');
  let body = sep >= 0 ? text.slice(sep + 4) : '';
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  let msg: SipMessage;
  const resp = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (resp) {
    msg = { kind: 'response', method: '', uri: '', status: Number(resp[1]), reason: resp[2], headers: [], body };
  } else {
    const req = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(start);
    if (!req) return undefined;
    msg = { kind: 'request', method: req[1].toUpperCase(), uri: req[2], status: 0, reason: '', headers: [], body };
  }
  for (const line of lines) {
    if (/^[ \t]/.test(line) && msg.headers.length > 0) {
      msg.headers[msg.headers.length - 1].value += ' ' + line.trim(); // folded line (RFC 3261 §7.3.1)
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) return undefined;
    msg.headers.push({ name: line.slice(0, c).trim(), value: line.slice(c + 1).trim() });
  }
  const cl = getHeader(msg, 'content-length');
  if (cl !== undefined && /^\d+$/.test(cl)) {
    const bytes = Buffer.from(body, 'utf8');
    if (bytes.length > Number(cl)) body = bytes.subarray(0, Number(cl)).toString('utf8');
    msg.body = body;
  }
  if (msg.kind === 'response') {
    const cseq = getHeader(msg, 'cseq');
    msg.method = cseq?.split(/\s+/)[1]?.toUpperCase() ?? '';
  }
  return msg;
}

/** Serialises with CRLF line ends; Content-Length must already be among the headers if wanted. */
export function serializeSip(m: SipMessage): string {
  const start = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`;
  return [start, ...m.headers.map((h) => `${h.name}: ${h.value}`)].join('\r\n') + '\r\n\r\n' + m.body;
}

/** First value of a header (compact forms understood). */
export function getHeader(m: SipMessage, name: string): string | undefined {
  const n = canonicalName(name);
  return m.headers.find((h) => canonicalName(h.name) === n)?.value;
}

/** All values of a header, in order. */
export function getHeaders(m: SipMessage, name: string): string[] {
  const n = canonicalName(name);
  return m.headers.filter((h) => canonicalName(h.name) === n).map((h) => h.value);
}

/** Removes every instance of a header. */
export function removeHeader(m: SipMessage, name: string): void {
  const n = canonicalName(name);
  m.headers = m.headers.filter((h) => canonicalName(h.name) !== n);
}

/** Replaces (or appends) a header, keeping the position of the first instance. */
export function setHeader(m: SipMessage, name: string, value: string): void {
  const n = canonicalName(name);
  const i = m.headers.findIndex((h) => canonicalName(h.name) === n);
  removeHeader(m, name);
  if (i >= 0) m.headers.splice(i, 0, { name, value });
  else m.headers.push({ name, value });
}

/** The `tag` parameter of a From/To value. */
export function tagOf(nameAddr: string | undefined): string | undefined {
  if (!nameAddr) return undefined;
  const gt = nameAddr.lastIndexOf('>');
  const params = gt >= 0 ? nameAddr.slice(gt + 1) : nameAddr;
  return /;\s*tag=([^;\s,]+)/i.exec(params)?.[1];
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`) or an addr-spec without params. */
export function uriOf(nameAddr: string): string {
  const m = /<([^>]*)>/.exec(nameAddr);
  if (m) return m[1];
  return nameAddr.split(';')[0].trim();
}

/** Host, port and transport parameter of a SIP URI. */
export interface UriTarget {
  host: string;
  port: number | undefined;
  transport: string | undefined;
}

/** Parses `sip:user@host:port;transport=tcp` (IPv6 in brackets allowed). */
export function uriTarget(uri: string): UriTarget | undefined {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?([^?>]*)/i.exec(uri.trim());
  if (!m) return undefined;
  const transport = /;\s*transport=([a-z]+)/i.exec(m[3] ?? '')?.[1]?.toLowerCase();
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : undefined, transport };
}

/** The branch parameter of the top Via value. */
export function viaBranch(via: string | undefined): string | undefined {
  if (!via) return undefined;
  return /;\s*branch=([^;,\s]+)/i.exec(via.split(',')[0])?.[1];
}

/** The sent-by (`host[:port]`, lower-case) of the top Via value; '' if unparsable. */
export function viaSentBy(via: string | undefined): string {
  if (!via) return '';
  return /^\s*SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+([^;,\s]+)/i.exec(via)?.[1]?.toLowerCase() ?? '';
}

/**
 * The top Via value as sofia-sip leaves it on a request received from `address:port` (seen on
 * drachtio-server v0.9.4-rc1, RFC 3261 §18.2.1 and RFC 3581 §4): `received=<address>` set (in
 * place, else appended) when the sent-by host differs from the source address and removed when
 * it is the same; `rport` given the source port in place, else `;rport=<port>` appended. Only
 * the first value of a comma-separated Via line changes.
 */
export function stampVia(via: string, address: string, port: number): string {
  const comma = via.indexOf(',');
  const top = comma >= 0 ? via.slice(0, comma) : via;
  const rest = comma >= 0 ? via.slice(comma) : '';
  const [head, ...params] = top.trim().split(';');
  const host = viaSentBy(head).replace(/^\[([^\]]+)\].*$/, '$1').replace(/:\d+$/, '');
  const name = (p: string) => p.split('=')[0].trim().toLowerCase();
  let out = params;
  const rec = out.findIndex((p) => name(p) === 'received');
  if (host === address.toLowerCase()) {
    if (rec >= 0) out = out.filter((_p, i) => i !== rec);
  } else if (rec >= 0) {
    out[rec] = `received=${address}`;
  } else {
    out.push(`received=${address}`);
  }
  const rp = out.findIndex((p) => name(p) === 'rport');
  if (rp >= 0) out[rp] = `rport=${port}`;
  else out.push(`rport=${port}`);
  return [head.trim(), ...out].join(';') + rest;
}

/** Header-name spelling used by the server for names it does not know (capitalizeAfterDash). */
export function capitalizeAfterDash(name: string): string {
  return name.split('-').map((p) => (p.length ? p[0].toUpperCase() + p.slice(1) : p)).join('-');
}

/**
 * Splits a SIP byte stream (TCP) into messages by Content-Length (RFC 3261 §18.3). Bare CRLF
 * keep-alives are skipped. Buffers at most `maxBytes`; beyond that push() reports overflow.
 */
export class SipStreamSplitter {
  private buf = Buffer.alloc(0);
  private broken = false;
  constructor(private readonly maxBytes = 65_536) {}

  /**
   * `framingError`: a Content-Length that is not a non-negative integer (RFC 4475 §3.1.2.3); the
   * message's head is returned (for a 400) and the stream is unusable from then on: the owner
   * should close the connection. Later pushes return nothing.
   */
  push(chunk: Buffer): { messages: string[]; overflow: boolean; framingError?: boolean } {
    if (this.broken) return { messages: [], overflow: false, framingError: true };
    this.buf = Buffer.concat([this.buf, chunk]);
    const messages: string[] = [];
    for (;;) {
      while (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) this.buf = this.buf.subarray(2);
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = this.buf.subarray(0, end).toString('utf8');
      const cl = /\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec('\r\n' + head);
      if (cl && !/^\d+[ \t]*$/.test(cl[1])) {
        messages.push(this.buf.subarray(0, end + 4).toString('utf8'));
        this.buf = Buffer.alloc(0);
        this.broken = true;
        return { messages, overflow: false, framingError: true };
      }
      const len = cl ? Number(cl[1].trim()) : 0;
      if (this.buf.length < end + 4 + len) break;
      messages.push(this.buf.subarray(0, end + 4 + len).toString('utf8'));
      this.buf = this.buf.subarray(end + 4 + len);
    }
    return { messages, overflow: this.buf.length > this.maxBytes };
  }
}
