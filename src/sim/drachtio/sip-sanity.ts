/**
 * The checks a SIP stack runs on a message from the network before anything else sees it, as
 * sofia-sip does for drachtio-server and FreeSWITCH (nta.c agent_recv_request: header syntax
 * errors or a failed sip_sanity_check give 400 when the Via can be answered, else the message is
 * dropped; a version other than SIP/2.0 gives 505; a bad response is dropped). Pure: text in,
 * verdict out. The rules follow RFC 3261 §7, §8.1.1, §18.3, §20 and §25; RFC 4475 §3.1.2 and
 * §3.3 list the malformed messages they catch.
 */
import type { SipHeader, SipMessage } from './sip-message.js';

/** What the stack does with one message. */
export type SanityVerdict =
  | { action: 'accept' }
  /** Answer `status` (400/505) with `reason`; `msg` is a lenient parse to build the answer from. */
  | { action: 'reply'; status: number; reason: string; msg: SipMessage; why: string }
  | { action: 'drop'; why: string };

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length'];
const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };
/** Header names as sofia-sip prints them in "Bad <name> Header". */
const PRINTED: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', contact: 'Contact',
  'max-forwards': 'Max-Forwards', 'content-length': 'Content-Length', expires: 'Expires',
};

function canon(name: string): string {
  const n = name.trim().toLowerCase();
  return COMPACT[n] ?? n;
}

/** Splits on `sep` outside double quotes and angle brackets. */
function splitOutside(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) cur += s[++i];
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '<') angle = true;
    else if (ch === '>') angle = false;
    if (ch === sep && !angle) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** `name[=value]` generic params after the first `;` (RFC 3261 §25.1 generic-param); false if one is empty. */
function paramsOk(params: string[]): boolean {
  for (const p of params) {
    const [name, ...rest] = p.split('=');
    if (!TOKEN.test(name.trim())) return false;
    if (rest.length > 0 && rest.join('=').trim() === '') return false;
  }
  return true;
}

function uriOk(uri: string): boolean {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(\S+)$/.exec(uri);
  if (!m) return false;
  if (/^sips?$/i.test(m[1])) {
    // host required; user part (if any) before '@'
    const rest = m[2].split(/[;?]/)[0];
    const host = rest.includes('@') ? rest.slice(rest.lastIndexOf('@') + 1) : rest;
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) return false;
  }
  return !/[<>"]/.test(uri);
}

/** name-addr / addr-spec with params (From, To, Contact element; RFC 3261 §20.10). */
function nameAddrOk(v: string): boolean {
  let s = v.trim();
  if (s.startsWith('"')) {
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === '\\') { i++; continue; }
      if (s[i] === '"') break;
    }
    if (i >= s.length) return false; // unterminated quoted display name (RFC 4475 §3.1.2.6)
    s = s.slice(i + 1).trim();
    if (!s.startsWith('<')) return false;
  }
  const lt = s.indexOf('<');
  let params: string;
  if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    if (gt < 0) return false; // '<' without '>'
    if (lt > 0 && !/^[A-Za-z0-9\-.!%*_+`'~ \t]+$/.test(s.slice(0, lt).trim() || 'x')) return false;
    if (!uriOk(s.slice(lt + 1, gt).trim())) return false;
    params = s.slice(gt + 1).trim();
  } else {
    if (s.includes('>')) return false;
    const [spec, ...rest] = s.split(';');
    if (/\s/.test(spec.trim()) || !uriOk(spec.trim())) return false; // RFC 4475 §3.1.2.14: no LWS in addr-spec
    params = rest.length ? ';' + rest.join(';') : '';
  }
  if (params === '') return true;
  if (!params.startsWith(';')) return false;
  return paramsOk(params.slice(1).split(';'));
}

function viaOk(v: string): boolean {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(\s*:\s*\d{1,5})?\s*(;.*)?$/.exec(v.trim());
  if (!m) return false;
  return m[3] === undefined || paramsOk(m[3].slice(1).split(';'));
}

/**
 * Checks one message (`reliable`: it came over TCP, so the length framing is the stream's).
 * Requests: bad header syntax, missing/duplicated single-value headers, CSeq method mismatch,
 * overlarge scalars, a bad Request-URI or a body shorter than Content-Length give 400 when the
 * top Via is usable (none for ACK), else drop; a version other than 2.0 gives 505. Responses
 * with any of these faults are dropped.
 */
export function checkSip(text: string, reliable: boolean): SanityVerdict {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep >= 0 ? text.slice(0, sep) : text.replace(/\r\n$/, '');
  const body = sep >= 0 ? text.slice(sep + 4) : '';
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  const resp = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(start);
  const req = resp ? null : /^([^ ]+) ([^ ]+) SIP\/(\d+\.\d+)$/.exec(start);
  if (!resp && !req) return { action: 'drop', why: 'start line' };
  const headers: SipHeader[] = [];
  const bad: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) { headers[headers.length - 1].value += ' ' + line.trim(); continue; }
    const c = line.indexOf(':');
    if (c <= 0 || !TOKEN.test(line.slice(0, c).trim())) { bad.push('Unknown'); continue; }
    headers.push({ name: line.slice(0, c).trim(), value: line.slice(c + 1).trim() });
  }
  const all = (n: string): string[] => headers.filter((h) => canon(h.name) === n).map((h) => h.value);
  const flag = (n: string): void => { bad.push(PRINTED[n] ?? n); };

  const vias = all('via').flatMap((v) => splitOutside(v, ','));
  const viaUsable = vias.length > 0 && viaOk(vias[0]);
  if (vias.some((v) => !viaOk(v))) flag('via');
  for (const n of SINGLE) {
    const vs = all(n);
    if (vs.length > 1 || vs.some((v) => splitOutside(v, ',').length > 1)) flag(n); // RFC 4475 §3.3.? multiple values in single-value headers
    else if (vs.length === 0 && n !== 'max-forwards' && n !== 'content-length') bad.push(`missing ${n}`);
  }
  for (const n of ['from', 'to']) for (const v of all(n)) if (!nameAddrOk(v)) flag(n);
  for (const v of all('contact')) {
    if (v.trim() === '*') continue;
    if (splitOutside(v, ',').some((e) => !nameAddrOk(e))) flag('contact');
  }
  const callId = all('call-id')[0];
  if (callId !== undefined && !/^\S+$/.test(callId)) flag('call-id');
  const cseq = all('cseq')[0];
  const cs = cseq === undefined ? null : /^(\d{1,10})\s+(\S+)$/.exec(cseq);
  if (cseq !== undefined && (!cs || Number(cs[1]) >= 2 ** 31)) flag('cseq'); // RFC 3261 §8.1.1.5: below 2**31
  const mf = all('max-forwards')[0];
  if (mf !== undefined && (!/^\d{1,3}$/.test(mf) || Number(mf) > 255)) flag('max-forwards');
  for (const v of all('expires')) if (!/^\d{1,10}$/.test(v) || Number(v) > 2 ** 32 - 1) flag('expires');
  const cl = all('content-length')[0];
  if (cl !== undefined) {
    if (!/^\d{1,10}$/.test(cl)) flag('content-length'); // e.g. negative (RFC 4475 §3.1.2.3)
    else if (!reliable && Buffer.byteLength(body, 'utf8') < Number(cl)) bad.push('truncated body'); // §3.1.2.2
  }

  if (resp) {
    const status = Number(resp[2]);
    if (bad.length || resp[1] !== '2.0' || status < 100 || status > 699 || !viaUsable) return { action: 'drop', why: bad[0] ?? 'status line' };
    return { action: 'accept' };
  }
  const r = req as RegExpExecArray;
  const method = r[1];
  if (!TOKEN.test(method)) return { action: 'drop', why: 'method' };
  if (!uriOk(r[2]) || (/^sips?:/i.test(r[2]) && r[2].includes('?'))) bad.push('request-uri'); // RFC 3261 §19.1.1: no headers in a Request-URI
  if (cs && cs[2] !== method) bad.push('cseq method'); // RFC 4475 §3.1.2.17
  const msg: SipMessage = { kind: 'request', method: method.toUpperCase(), uri: r[2], status: 0, reason: '', headers, body };
  if (bad.length) {
    if (!viaUsable || method === 'ACK') return { action: 'drop', why: bad[0] };
    const printed = Object.values(PRINTED).includes(bad[0]) ? `Bad ${bad[0]} Header` : 'Bad Request';
    return { action: 'reply', status: 400, reason: printed, msg, why: bad[0] };
  }
  if (r[3] !== '2.0') {
    if (method === 'ACK') return { action: 'drop', why: 'version' };
    return { action: 'reply', status: 505, reason: 'Version Not Supported', msg, why: 'version' };
  }
  return { action: 'accept' };
}
