/**
 * The pure validator: takes the parsed YAML value, walks it against CONFIG_SCHEMA, applies
 * defaults, resolves secrets, then checks the cross-field rules. Every problem is collected; none
 * stops the walk. No I/O: the environment and credential reader come in through SecretContext.
 */
import { CONFIG_SCHEMA, type Config, type SchemaNode, type ObjectNode } from './schema.js';
import { describeFound, formatPath, type PathSegments, type RawConfigError } from './config-error.js';
import { FORMAT_EXPECTED, checkFormat, checkHeaderName, isName, isWildcardHost, parseHostPort } from './formats.js';
import { resolveSecret, type SecretContext } from './secret-ref.js';
import { closest } from './suggest.js';
import { parseMasterKey } from '../recordings/data-keys.js';

/** Gives the original YAML text of a scalar, so "0801234567" is shown as written, not as 801234567. */
export type SourceLookup = (segments: PathSegments) => string | undefined;

export interface ValidateContext extends SecretContext {
  sourceOf?: SourceLookup;
}

export interface ValidateResult {
  /** Present only when there are no errors. */
  config?: Config;
  errors: RawConfigError[];
}

const INVALID = Symbol('invalid');
type Out = unknown | typeof INVALID;

class Walker {
  readonly errors: RawConfigError[] = [];
  constructor(private readonly ctx: ValidateContext) {}

  fail(segments: PathSegments, expected: string, found: string, hint?: string, code: RawConfigError['code'] = 'CONFIG_INVALID'): typeof INVALID {
    this.errors.push({ code, segments: [...segments], expected, found, hint });
    return INVALID;
  }

  /** Records an error whose found value is close to a known one. */
  failNear(segments: PathSegments, expected: string, found: string, near: string | undefined, code: RawConfigError['code'] = 'CONFIG_INVALID'): typeof INVALID {
    this.errors.push({
      code, segments: [...segments], expected, found,
      ...(near !== undefined ? { hint: `did you mean ${JSON.stringify(near)}?`, suggestion: near } : {}),
    });
    return INVALID;
  }

  found(segments: PathSegments, value: unknown, secret = false): string {
    if (!secret && typeof value === 'number') {
      const src = this.ctx.sourceOf?.(segments);
      if (src !== undefined) return `the number ${src}`;
    }
    return describeFound(value, secret);
  }

  /** Validates `value` (undefined when absent) against `node`; returns the output or INVALID/undefined. */
  walk(node: SchemaNode, value: unknown, segments: PathSegments): Out {
    const isContainer = node.kind === 'object' || node.kind === 'list' || node.kind === 'map';
    // An empty YAML section (`log:` with nothing under it) reads as null: treat it as absent.
    const v = isContainer && value === null ? undefined : value;
    if (v === undefined) {
      if (node.required) return this.fail(segments, this.expected(node), 'nothing', undefined, node.kind === 'secret' ? 'CONFIG_SECRET_MISSING' : 'CONFIG_INVALID');
      if (node.kind === 'object' && !node.optional) return this.walkObject(node, {}, segments);
      if (node.default !== undefined) return structuredClone(node.default);
      return undefined;
    }
    switch (node.kind) {
      case 'object': return this.walkObject(node, v, segments);
      case 'list': {
        if (!Array.isArray(v)) return this.fail(segments, this.expected(node), this.found(segments, v));
        if (v.length > node.maxItems) return this.fail(segments, `a list of at most ${node.maxItems} entries`, `${v.length} entries`);
        const out: unknown[] = [];
        let ok = true;
        v.forEach((item, i) => {
          const r = item == null
            ? this.fail([...segments, i], this.expected(node.item), 'an empty value')
            : this.walk(node.item, item, [...segments, i]);
          if (r === INVALID || r === undefined) ok = false;
          else out.push(r);
        });
        return ok ? out : INVALID;
      }
      case 'map': {
        if (!isPlainObject(v)) return this.fail(segments, this.expected(node), this.found(segments, v));
        const entries = Object.entries(v);
        if (entries.length > node.maxEntries) return this.fail(segments, `a mapping of at most ${node.maxEntries} entries`, `${entries.length} entries`);
        const out: Record<string, unknown> = {};
        let ok = true;
        const seenLower = new Map<string, string>();
        for (const [key, item] of entries) {
          const keyPath = [...segments, key];
          if (node.keyFormat === 'name') {
            if (!isName(key)) { ok = this.fail(keyPath, FORMAT_EXPECTED.name + ' as the key', JSON.stringify(key)) !== INVALID; continue; }
          } else {
            const hint = checkHeaderName(key);
            if (hint !== undefined) { ok = this.fail(keyPath, 'an HTTP header name that fsbridge does not set itself', JSON.stringify(key), hint) !== INVALID; continue; }
            // Header names are case-insensitive (RFC 9110 section 5.1): two spellings would collide.
            const prior = seenLower.get(key.toLowerCase());
            if (prior !== undefined) { ok = this.fail(keyPath, 'each header once (names are case-insensitive)', `a second "${prior}"`) !== INVALID; continue; }
            seenLower.set(key.toLowerCase(), key);
          }
          const r = item == null
            ? this.fail(keyPath, this.expected(node.value), 'an empty value')
            : this.walk(node.value, item, keyPath);
          if (r === INVALID || r === undefined) ok = false;
          else out[key] = r;
        }
        return ok ? out : INVALID;
      }
      case 'string': {
        if (typeof v !== 'string') {
          const hint = typeof v === 'number' || typeof v === 'boolean' ? 'write it in quotes' : undefined;
          return this.fail(segments, FORMAT_EXPECTED[node.format], this.found(segments, v), hint);
        }
        if (v === '') return this.fail(segments, FORMAT_EXPECTED[node.format], 'an empty string');
        const hint = checkFormat(node.format, v);
        if (hint !== undefined) return this.fail(segments, FORMAT_EXPECTED[node.format], this.found(segments, v), hint || undefined);
        return v;
      }
      case 'secret': {
        if (typeof v !== 'string' || v === '') {
          const hint = typeof v === 'number' || typeof v === 'boolean' ? 'write it in quotes' : undefined;
          return this.fail(segments, this.expected(node), this.found(segments, v, true), hint);
        }
        const r = resolveSecret(v, this.ctx);
        if (r.ok) return r.value;
        return this.fail(segments, r.expected, r.found, undefined, r.missing ? 'CONFIG_SECRET_MISSING' : 'CONFIG_INVALID');
      }
      case 'integer': {
        if (node.auto && v === 'auto') return v;
        const ok = typeof v === 'number' && Number.isInteger(v) && v >= node.min && v <= node.max
          && (node.multipleOf === undefined || v % node.multipleOf === 0);
        return ok ? v : this.fail(segments, this.expected(node), this.found(segments, v));
      }
      case 'number': {
        const ok = typeof v === 'number' && Number.isFinite(v) && v >= node.min && v <= node.max;
        return ok ? v : this.fail(segments, this.expected(node), this.found(segments, v));
      }
      case 'boolean': {
        if (typeof v === 'boolean') return v;
        const hint = typeof v === 'string' && /^(yes|no|on|off|y|n)$/i.test(v) ? 'YAML 1.2 reads this as text; write true or false' : undefined;
        return this.fail(segments, this.expected(node), this.found(segments, v), hint);
      }
      case 'enum': {
        if (node.values.includes(v as string | number)) return v;
        const near = typeof v === 'string' || typeof v === 'number' ? closest(String(v), node.values.map(String)) : undefined;
        return this.failNear(segments, this.expected(node), this.found(segments, v), near);
      }
    }
  }

  walkObject(node: ObjectNode, v: unknown, segments: PathSegments): Out {
    if (!isPlainObject(v)) return this.fail(segments, this.expected(node), this.found(segments, v));
    const out: Record<string, unknown> = {};
    let ok = true;
    const known = Object.keys(node.fields);
    for (const key of Object.keys(v)) {
      if (Object.hasOwn(node.fields, key)) continue;
      const near = closest(key, known);
      const where = segments.length === 0 ? 'at the top level' : `in ${formatPath(segments)}`;
      this.failNear([...segments, key], `one of the keys ${known.join(', ')} ${where}`, `the unknown key ${JSON.stringify(key)}`,
        near, 'CONFIG_UNKNOWN_KEY');
      ok = false;
    }
    for (const [key, child] of Object.entries(node.fields)) {
      const r = this.walk(child, v[key], [...segments, key]);
      if (r === INVALID) ok = false;
      else if (r !== undefined) out[key] = r;
    }
    return ok ? out : INVALID;
  }

  expected(node: SchemaNode): string {
    switch (node.kind) {
      case 'object': return 'a mapping of keys';
      case 'list': return 'a list';
      case 'map': return 'a mapping of names to entries';
      case 'string': return FORMAT_EXPECTED[node.format];
      case 'secret': return 'a secret: text, env:NAME or cred:NAME';
      case 'integer':
        return (node.multipleOf !== undefined
          ? `an integer multiple of ${node.multipleOf} from ${node.min} to ${node.max}`
          : `an integer from ${node.min} to ${node.max}`) + (node.auto ? ', or auto' : '');
      case 'number': return `a number from ${node.min} to ${node.max}`;
      case 'boolean': return 'true or false';
      case 'enum': return `one of ${node.values.join(', ')}`;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value at `segments` in any plain tree (input or partial output), or undefined. */
function at(root: unknown, ...segments: (string | number)[]): any {
  let cur: any = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[s];
  }
  return cur;
}

/**
 * The cross-field rules. `raw` is the input (to see what exists even where a subtree failed),
 * `out` the output where it is valid. Rules only fire when the fields they compare are valid.
 */
function crossCheck(w: Walker, raw: unknown, out: Record<string, any>): void {
  checkRecordings(w, raw, out);
  if (out.cluster && typeof out.store?.url === 'string' && !out.store.url.startsWith('postgres')) {
    w.fail(['cluster'], 'nothing, or a PostgreSQL store.url (the nodes of a cluster share one PostgreSQL database)', `a section with store.url ${JSON.stringify(out.store.url)}`);
  }
  const esl = out.freeswitch?.esl;
  if (typeof esl?.reconnect?.initialDelayMs === 'number' && typeof esl.reconnect.maxDelayMs === 'number'
    && esl.reconnect.maxDelayMs < esl.reconnect.initialDelayMs) {
    w.fail(['freeswitch', 'esl', 'reconnect', 'maxDelayMs'],
      `an integer at least freeswitch.esl.reconnect.initialDelayMs (${esl.reconnect.initialDelayMs})`, `the number ${esl.reconnect.maxDelayMs}`);
  }

  let media = out.media;
  if (media && typeof media.listen === 'string') {
    const explicit = at(raw, 'media', 'advertise') !== undefined;
    // Rebuilt so that advertise keeps its schema position (print-config shows it after listen).
    const { listen, advertise, ...rest } = media;
    out.media = { listen, advertise: explicit ? advertise : listen, ...rest };
    if (advertise === undefined && explicit) delete out.media.advertise;
    media = out.media;
    const adv = typeof media.advertise === 'string' ? parseHostPort(media.advertise) : undefined;
    if (adv && isWildcardHost(adv.host)) {
      w.fail(['media', 'advertise'], 'a host:port that FreeSWITCH can connect to (not a wildcard address)',
        explicit ? JSON.stringify(media.advertise) : `nothing, and media.listen is the wildcard ${JSON.stringify(media.listen)}`,
        explicit ? undefined : 'set media.advertise to the address FreeSWITCH should use');
    }
  }
  if (typeof media?.segmentMs === 'number' && typeof media.playoutBufferMs === 'number' && media.playoutBufferMs < media.segmentMs) {
    w.fail(['media', 'playoutBufferMs'], `an integer at least media.segmentMs (${media.segmentMs})`, `the number ${media.playoutBufferMs}`);
  }

  // Two listeners on one address would fail at start with EADDRINUSE; say so now.
  const listeners: [PathSegments, string | undefined][] = [
    [['media', 'listen'], media?.listen],
    [['api', 'listen'], out.api?.listen],
    [['freeswitch', 'outboundSocket', 'port'],
      typeof out.freeswitch?.outboundSocket?.port === 'number' && typeof out.freeswitch.outboundSocket.host === 'string'
        ? `${out.freeswitch.outboundSocket.host.includes(':') ? `[${out.freeswitch.outboundSocket.host}]` : out.freeswitch.outboundSocket.host}:${out.freeswitch.outboundSocket.port}`
        : undefined],
  ];
  const bound: { host: string; port: number; segs: PathSegments }[] = [];
  for (const [segs, addr] of listeners) {
    const hp = typeof addr === 'string' ? parseHostPort(addr, 0) : undefined;
    if (!hp || hp.port === 0) continue; // port 0: the system picks a free port, no clash
    // A wildcard bind takes the port on every address, so it clashes with any bind on that port.
    const clash = bound.find((b) => b.port === hp.port && (b.host === hp.host || isWildcardHost(b.host) || isWildcardHost(hp.host)));
    if (clash) w.fail(segs, `an address not already used by ${formatPath(clash.segs)}`, JSON.stringify(addr));
    bound.push({ ...hp, segs });
  }

  const rawTrunks = at(raw, 'trunks');
  const trunkNames = new Set<string>();
  if (Array.isArray(rawTrunks)) {
    const firstIndex = new Map<string, number>();
    rawTrunks.forEach((t: unknown, i: number) => {
      const name = at(t, 'name');
      if (typeof name !== 'string') return;
      trunkNames.add(name);
      const prior = firstIndex.get(name);
      if (prior !== undefined) w.fail(['trunks', i, 'name'], `a name not used by another trunk (trunks[${prior}] is already ${JSON.stringify(name)})`, JSON.stringify(name));
      else firstIndex.set(name, i);
    });
    if (rawTrunks.length > 0 && at(raw, 'drachtio') == null) {
      w.fail(['drachtio'], 'a drachtio section, because trunks are configured and reach the network through drachtio-server', 'nothing');
    }
  }
  (Array.isArray(out.trunks) ? out.trunks : []).forEach((t: any, i: number) => {
    if (t === null || typeof t !== 'object') return;
    // Presence is read from the input so that an invalid value does not also count as missing.
    const has = (key: string): boolean => at(rawTrunks, i, key) != null;
    if (has('password') && !has('username')) {
      w.fail(['trunks', i, 'username'], `a username, because trunks[${i}].password is set`, 'nothing');
    }
    if (t.inbound?.digest === true && !has('password')) {
      w.fail(['trunks', i, 'password'], `a password, because trunks[${i}].inbound.digest is true`, 'nothing');
    }
  });

  const rawBots = at(raw, 'bots');
  const botNames = isPlainObject(rawBots) ? Object.keys(rawBots) : [];
  if (isPlainObject(out.bots)) {
    for (const [name, bot] of Object.entries(out.bots as Record<string, any>)) {
      if (bot === null || typeof bot !== 'object') continue;
      if (bot.onDisconnect === 'fallback' && at(rawBots, name, 'fallbackAudio') == null) {
        w.fail(['bots', name, 'fallbackAudio'], 'an audio file path, because onDisconnect is fallback', 'nothing');
      }
      if (bot.silenceTimeout?.action === 'prompt' && at(rawBots, name, 'silenceTimeout', 'prompt') == null) {
        w.fail(['bots', name, 'silenceTimeout', 'prompt'], 'a WAV file path, because silenceTimeout.action is prompt', 'nothing');
      }
      const playback = (out as { freeswitch?: { playback?: unknown } }).freeswitch?.playback;
      if (bot.comfortNoise != null && playback !== undefined && playback !== 'pipe') {
        w.fail(['bots', name, 'comfortNoise'], 'nothing, because comfort noise needs freeswitch.playback pipe (fsbridge writes every frame only there)', `a section with freeswitch.playback ${String(playback)}`);
      }
      if (bot.protocol === 'twilio' && typeof bot.sampleRate === 'number' && bot.sampleRate !== 8000) {
        w.fail(['bots', name, 'sampleRate'], '8000, the only rate of the twilio protocol (μ-law 8 kHz)', `the number ${bot.sampleRate}`);
      }
      if (typeof bot.protocol === 'string' && bot.protocol !== 'native' && typeof bot.encoding === 'string' && bot.encoding !== 'l16') {
        w.fail(['bots', name, 'encoding'], `l16 (only native bots choose their encoding; ${bot.protocol} fixes its own)`, JSON.stringify(bot.encoding));
      }
      if (bot.protocol === 'native' && bot.encoding === 'mulaw' && typeof bot.sampleRate === 'number' && bot.sampleRate !== 8000) {
        w.fail(['bots', name, 'sampleRate'], '8000, because μ-law (encoding mulaw) is 8 kHz only', `the number ${bot.sampleRate}`);
      }
    }
  }

  const rawRoutes = at(raw, 'routes');
  if (Array.isArray(rawRoutes)) {
    const seenRoute = new Map<string, number>();
    rawRoutes.forEach((r: unknown, i: number) => {
      const bot = at(r, 'bot');
      if (typeof bot === 'string' && isName(bot) && !botNames.includes(bot)) {
        const near = closest(bot, botNames);
        w.failNear(['routes', i, 'bot'], botNames.length ? `the name of a bot (${botNames.join(', ')})` : 'the name of a bot, but no bots are configured',
          JSON.stringify(bot), near);
      }
      const trunk = at(r, 'trunk');
      if (typeof trunk === 'string' && isName(trunk) && !trunkNames.has(trunk)) {
        const near = closest(trunk, trunkNames);
        w.failNear(['routes', i, 'trunk'], trunkNames.size ? `the name of a trunk (${[...trunkNames].join(', ')})` : 'the name of a trunk, but no trunks are configured',
          JSON.stringify(trunk), near);
      }
      const did = at(r, 'did');
      if (typeof did === 'string') {
        const key = `${did}\u0000${typeof trunk === 'string' ? trunk : ''}`;
        const prior = seenRoute.get(key);
        if (prior !== undefined) w.fail(['routes', i, 'did'], `a number not already routed by routes[${prior}]${typeof trunk === 'string' ? ' on the same trunk' : ''}`, JSON.stringify(did));
        else seenRoute.set(key, i);
      }
    });
  }
}

/** The master keys are 32 bytes; something recorded needs one. */
function checkRecordings(w: Walker, raw: unknown, out: Record<string, any>): void {
  const rec = out.recordings;
  for (const k of ['masterKey', 'previousMasterKey'] as const) {
    if (typeof rec?.[k] === 'string' && !parseMasterKey(rec[k])) {
      w.fail(['recordings', k], '32 bytes as 64 hex digits or base64 (e.g. from `openssl rand -hex 32`)', 'a value of another length or alphabet', undefined);
    }
  }
  if (at(raw, 'recordings', 'masterKey') !== undefined) return;
  const bots = isPlainObject(at(raw, 'bots')) ? Object.entries(at(raw, 'bots') as Record<string, unknown>) : [];
  const recordedBot = bots.find(([, b]) => at(b, 'record') === true);
  if (recordedBot) w.fail(['recordings', 'masterKey'], `a master key, because bots.${recordedBot[0]}.record is true`, 'nothing', 'set recordings.masterKey (usually cred:NAME); docs/recordings.md');
  const routes = at(raw, 'routes');
  const recordedRoute = Array.isArray(routes) ? routes.findIndex((r) => at(r, 'record') === true) : -1;
  if (!recordedBot && recordedRoute >= 0) w.fail(['recordings', 'masterKey'], `a master key, because routes[${recordedRoute}].record is true`, 'nothing', 'set recordings.masterKey (usually cred:NAME); docs/recordings.md');
}

/**
 * Validates a parsed configuration value. Returns the typed configuration (defaults applied,
 * secrets resolved, not yet frozen) when there are no errors; otherwise every error found.
 */
export function validateConfig(raw: unknown, ctx: ValidateContext): ValidateResult {
  const w = new Walker(ctx);
  if (raw === undefined || raw === null) {
    w.fail([], 'a mapping of configuration sections (at least freeswitch.esl.password and api.token)', 'an empty file');
    return { errors: w.errors };
  }
  // Walk the root even when parts fail, collecting a partial output for the cross-field rules.
  const out: Record<string, any> = {};
  if (!isPlainObject(raw)) {
    w.fail([], 'a mapping of configuration sections', describeFound(raw));
    return { errors: w.errors };
  }
  const rootResult = w.walkObject(CONFIG_SCHEMA, raw, []);
  // When something failed, re-walk with a second walker (so nothing is reported twice) and keep
  // every valid part, so that the cross-field rules still run on the rest.
  Object.assign(out, rootResult !== INVALID ? rootResult : partial(new Walker(ctx), CONFIG_SCHEMA, raw, []));
  crossCheck(w, raw, out);
  if (w.errors.length > 0) return { errors: w.errors };
  return { config: out as Config, errors: [] };
}

/**
 * The valid parts of an invalid subtree: objects keep their valid keys, maps their valid entries,
 * lists keep their indexes (an invalid entry becomes its own valid parts, or undefined).
 */
function partial(w: Walker, node: SchemaNode, value: unknown, segments: PathSegments): any {
  const sub = (child: SchemaNode, v: unknown, segs: PathSegments): unknown => {
    if (v == null && (node.kind === 'list' || node.kind === 'map')) return undefined;
    const r = w.walk(child, v, segs);
    return r === INVALID ? partial(w, child, v, segs) : r;
  };
  if (node.kind === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node.fields)) {
      const r = sub(child, value[key], [...segments, key]);
      if (r !== undefined) out[key] = r;
    }
    return out;
  }
  if (node.kind === 'map' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const r = sub(node.value, v, [...segments, key]);
      if (r !== undefined) out[key] = r;
    }
    return out;
  }
  if (node.kind === 'list' && Array.isArray(value)) {
    return value.map((v, i) => sub(node.item, v, [...segments, i]));
  }
  return undefined;
}
