// Pure comparison logic for the drachtio-server differential test
// (test/real/differential-drachtio.real.test.ts): turns what a client saw (admin frames, SIP
// messages) into values with the volatile parts replaced by placeholders, and diffs two such
// observations into a readable list. No I/O here.

/** Ports and literals that differ between the two runs, with the placeholder each becomes. */
export interface NormaliseContext {
  /** port number -> name, e.g. 45012 -> 'sip-port' (becomes `<sip-port>`). */
  ports: Map<number, string>;
  /** literal -> name, e.g. a Call-ID chosen by the server (becomes `<call-id>`). */
  literals: Map<string, string>;
  /** `Call-ID|From-tag` -> the first large CSeq number seen with it (later ones are shown relative to it). */
  cseqBase: Map<string, number>;
}

/** A fresh context knowing the given ports. */
export function normaliseContext(ports: Record<string, number>): NormaliseContext {
  const ctx: NormaliseContext = { ports: new Map(), literals: new Map(), cseqBase: new Map() };
  for (const [name, port] of Object.entries(ports)) ctx.ports.set(port, name);
  return ctx;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIME = /\b\d{2}:\d{2}:\d{2}\.\d{6}\b/g;

/**
 * Replaces volatile values in any text: known literals (Call-IDs…), UUIDs, `hh:mm:ss.uuuuuu`
 * times, `tag=`, `branch=`, digest `nonce`/`cnonce`/`response`, and known port numbers (after
 * `:`, `=`, `|` or `/`). Unknown numbers stay, so a port the twin invented shows as a difference.
 */
export function normaliseText(text: string, ctx: NormaliseContext): string {
  let s = text;
  // longest first, so that a literal containing another is replaced whole
  for (const [lit, name] of [...ctx.literals].sort((a, b) => b[0].length - a[0].length)) {
    if (lit) s = s.split(lit).join(`<${name}>`);
  }
  s = s.replace(UUID, '<uuid>').replace(TIME, '<time>');
  s = s.replace(/\b(from-)?tag=[^;,\s>|"]+/gi, (_m, p: string | undefined) => `${p ?? ''}tag=<tag>`);
  s = s.replace(/\bbranch=z9hG4bK[^;,\s>|]*/gi, 'branch=z9hG4bK<branch>');
  s = s.replace(/\b(cnonce|response)="[^"]*"/gi, (_m, k: string) => `${k}="<${k.toLowerCase()}>"`);
  s = s.replace(/([:=|/])(\d{2,5})\b/g, (m, sep: string, n: string) => {
    const name = ctx.ports.get(Number(n));
    return name ? `${sep}<${name}>` : m;
  });
  return s;
}

/** A SIP message reduced to what the comparison looks at. */
export interface SipShape {
  /** `INVITE <uri> SIP/2.0` or `SIP/2.0 200 OK`, normalised. */
  start: string;
  /** Header names as written on the wire, sorted, duplicates once. */
  headerNames: string[];
  /** Normalised value of every header, keyed by lower-case name; repeated headers joined with ' // '. */
  values: Record<string, string>;
  /** Body present (non-empty). */
  hasBody: boolean;
}

/**
 * Shape of one SIP message (CRLF text). The Call-ID is learned into ctx as `<call-id>` (or
 * `<call-id-N>`) so that it is also replaced in the admin frames that carry it.
 */
export function sipShape(text: string, ctx: NormaliseContext): SipShape {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep >= 0 ? text.slice(0, sep) : text;
  const body = sep >= 0 ? text.slice(sep + 4) : '';
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length) { headers[headers.length - 1][1] += ' ' + line.trim(); continue; }
    const c = line.indexOf(':');
    if (c > 0) headers.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
  }
  let callId = '';
  let fromTag = '';
  for (const [n, v] of headers) {
    if (/^(call-id|i)$/i.test(n)) { learnLiteral(ctx, v, 'call-id'); callId = v; }
    if (/^(from|f)$/i.test(n)) fromTag = /;\s*tag=([^;\s]+)/i.exec(v.slice(v.lastIndexOf('>') + 1))?.[1] ?? '';
  }
  const values: Record<string, string> = {};
  for (const [n, v] of headers) {
    const k = n.toLowerCase();
    const nv = k === 'cseq' ? relativeCSeq(v, `${callId}|${fromTag}`, ctx) : normaliseText(v, ctx);
    values[k] = k in values ? `${values[k]} // ${nv}` : nv;
  }
  return {
    start: normaliseText(start, ctx),
    headerNames: [...new Set(headers.map(([n]) => n))].sort(),
    values,
    hasBody: body.length > 0,
  };
}

/**
 * A CSeq number a SIP stack picked at random (65536 or more) becomes `<cseq>`, `<cseq+1>`…:
 * relative to the first one seen with this Call-ID and From tag (one sender's sequence). Small
 * numbers (chosen by a test peer or the application, or derived from them) are kept.
 */
function relativeCSeq(value: string, key: string, ctx: NormaliseContext): string {
  const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(value);
  if (!m) return normaliseText(value, ctx);
  const n = Number(m[1]);
  if (n < 65_536) return `${n} ${m[2]}`;
  if (!ctx.cseqBase.has(key)) ctx.cseqBase.set(key, n);
  const d = n - ctx.cseqBase.get(key)!;
  return `<cseq${d === 0 ? '' : d > 0 ? `+${d}` : `${d}`}> ${m[2]}`;
}

/** Registers a volatile literal under `<name>` (or `<name-2>`… for further distinct values). */
export function learnLiteral(ctx: NormaliseContext, literal: string, name: string): void {
  if (!literal || ctx.literals.has(literal)) return;
  const taken = [...ctx.literals.values()].filter((v) => v === name || v.startsWith(`${name}-`)).length;
  ctx.literals.set(literal, taken === 0 ? name : `${name}-${taken + 1}`);
}

/**
 * An admin-protocol frame (`<len>#<payload>`) reduced to its normalised payload, after checking
 * that the length prefix is the payload's UTF-8 byte length. SIP text after the first CRLF is
 * replaced by its shape's start line (the SIP part is compared separately).
 */
export function adminFrameShape(payload: string, ctx: NormaliseContext): string {
  const nl = payload.indexOf('\r\n');
  const tokens = (nl >= 0 ? payload.slice(0, nl) : payload).split('|');
  const sip = nl >= 0 ? payload.slice(nl + 2) : '';
  // The byte count varies with the volatile values in the SIP text: shown relative to the text's
  // own size (a request from the network is counted as it came off the wire, before its Via was
  // stamped, so it is smaller than the text).
  const bytes = (i: number) => {
    const d = Number(tokens[i]) - Buffer.byteLength(sip, 'utf8');
    tokens[i] = d === 0 ? '<bytes>' : `<bytes${d > 0 ? '+' : ''}${d}>`;
  };
  if (tokens[1] === 'sip' && tokens.length > 3) bytes(3);
  if (tokens[1] === 'response' && tokens[4] === 'application' && tokens.length > 5) bytes(5);
  const leader = tokens.join('|');
  if (sip) sipShape(sip, ctx); // learn the Call-ID first
  const head = normaliseText(leader, ctx);
  return sip ? `${head} + ${normaliseText(sip.split('\r\n')[0], ctx)}` : head;
}

/** One difference between the two observations. */
export interface Difference {
  path: string;
  real: unknown;
  twin: unknown;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep comparison of two JSON-like observations. Arrays of primitives are compared whole (one
 * difference each); arrays of objects element by element; objects key by key (a key missing on
 * one side shows as `undefined`).
 */
export function diffObservations(real: unknown, twin: unknown, path = ''): Difference[] {
  if (Array.isArray(real) && Array.isArray(twin)) {
    const prim = [...real, ...twin].every((x) => !isPlain(x) && !Array.isArray(x));
    if (prim) return JSON.stringify(real) === JSON.stringify(twin) ? [] : [{ path, real, twin }];
    const out: Difference[] = [];
    for (let i = 0; i < Math.max(real.length, twin.length); i++) out.push(...diffObservations(real[i], twin[i], `${path}[${i}]`));
    return out;
  }
  if (isPlain(real) && isPlain(twin)) {
    const out: Difference[] = [];
    for (const k of [...new Set([...Object.keys(real), ...Object.keys(twin)])]) {
      out.push(...diffObservations(real[k], twin[k], path ? `${path}.${k}` : k));
    }
    return out;
  }
  return Object.is(real, twin) || JSON.stringify(real) === JSON.stringify(twin) ? [] : [{ path, real, twin }];
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/** The differences as text, one block per path; string arrays also list what only one side has. */
export function formatDiff(title: string, diffs: Difference[]): string {
  if (diffs.length === 0) return `${title}: twin matches the real drachtio-server`;
  const lines = [`${title}: ${diffs.length} difference(s), real drachtio-server vs twin`];
  for (const d of diffs) {
    lines.push(`  ${d.path || '(root)'}`, `    real: ${show(d.real)}`, `    twin: ${show(d.twin)}`);
    if (Array.isArray(d.real) && Array.isArray(d.twin)) {
      const r = new Set(d.real.map((x) => JSON.stringify(x)));
      const w = new Set(d.twin.map((x) => JSON.stringify(x)));
      const onlyReal = [...r].filter((x) => !w.has(x));
      const onlyTwin = [...w].filter((x) => !r.has(x));
      if (onlyReal.length) lines.push(`    only real: ${onlyReal.join(', ')}`);
      if (onlyTwin.length) lines.push(`    only twin: ${onlyTwin.join(', ')}`);
    }
  }
  return lines.join('\n');
}
