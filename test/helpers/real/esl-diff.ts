// Differential comparison of what an Event Socket client receives from two servers (the real
// FreeSWITCH and the twin) for the same bytes sent. Pure: transcripts in, differences out.
//
// What is compared, and why only that:
// - Non-event frames (auth/request, command/reply, api/response, text/disconnect-notice), in
//   order: Content-Type, the header names in wire order, every header value but Content-Length
//   (normalised), and the body (normalised). Content-Length is left out because a body that
//   differs only by volatile values (a uuid, a date) has another length; the body itself is compared.
// - Events (text/event-json), per channel: the order of event names (Event-Name, plus the subclass
//   for CUSTOM), the SET of header names of each event, the values of KEY_HEADERS and the body.
//   Per channel, not overall: FreeSWITCH fires the events of the two loopback legs from two threads,
//   so how they interleave differs from run to run; the order within one channel does not.
//   Events are paired by name and occurrence (the 2nd CHANNEL_EXECUTE_COMPLETE with the 2nd), so a
//   difference in order is reported once and the header comparison still lines up.
//   Other header values (timestamps, codec figures, most variables) are not compared: only their
//   presence is.
// - Whether the server closed the connection.
// Two races of the real program are not differences (RACY_VALUES, settleHangupRace): the state a
// loopback A leg shows when its B leg answers, and whether an application ends before or after
// its channel's CHANNEL_HANGUP when the other leg hangs up.
//
// Volatile values are normalised on both sides: the uuid of a channel becomes `<Channel-Name>`
// (learnt from the events), a uuid given in `roles` its label, any other uuid `<uuid>`, local and
// GMT dates `<date>`, numbers of 10 or more digits not starting with 0 (epochs, microsecond
// timestamps; a caller id such as 0000000000 stays) `<time>`,
// the switch's hostname and addresses `<host>` / `<ip>`, directories of absolute paths `<dir>/`.
import type { EslFrame } from '../../../src/esl/frame-parser.js';

/** What one client received during one scenario. */
export interface Transcript {
  /** Frames in arrival order. */
  readonly frames: readonly EslFrame[];
  /** True when the server closed the connection (before the client did). */
  readonly closedByServer: boolean;
}

/** Options of {@link diffTranscripts}. */
export interface DiffOptions {
  /** uuid → label for uuids that are no channel of the events (e.g. a uuid that was never created). */
  roles?: Readonly<Record<string, string>>;
  /**
   * Further normalisation of a body (api/response or event body) after the volatile values, e.g.
   * only the shape of `status`. `where` is the Content-Type, or the event name for event bodies.
   */
  body?: (text: string, where: string) => string;
  /** Event headers whose values are compared (default {@link KEY_HEADERS}); 'all' compares every one. */
  keyHeaders?: readonly string[] | 'all';
  /** Values taken as equal (default {@link RACY_VALUES}). */
  equivalent?: readonly RacyValues[];
}

/** Values of one header of one event that the real FreeSWITCH gives in either form, run to run. */
export interface RacyValues {
  readonly event: string;
  readonly header: string;
  readonly values: readonly string[];
  /** Why (for the reader). */
  readonly why: string;
}

/** Known races of the real program: a difference among these values is no difference. */
export const RACY_VALUES: readonly RacyValues[] = [
  {
    event: 'CHANNEL_ANSWER', header: 'Channel-State', values: ['CS_INIT', 'CS_ROUTING', 'CS_CONSUME_MEDIA'],
    why: 'a loopback A leg is marked answered by the B leg\'s thread, while its own thread moves from CS_INIT through CS_ROUTING to CS_CONSUME_MEDIA (CS_INIT seen once under load, 2026-12-07)',
  },
  { event: 'CHANNEL_ANSWER', header: 'Channel-State-Number', values: ['2', '7'], why: 'the same race (the requested state)' },
];

/** One difference: where, and what each side had (`(none)` when absent). */
export interface Difference {
  readonly where: string;
  readonly real: string;
  readonly twin: string;
}

/**
 * Event headers whose values matter to a client (and are stable between runs once normalised):
 * what fsbridge and the protocol reference read, plus where the event was fired.
 */
export const KEY_HEADERS: readonly string[] = [
  'Event-Name', 'Event-Subclass', 'Event-Calling-File', 'Event-Calling-Function', 'Event-Calling-Line-Number',
  'Channel-State', 'Channel-State-Number', 'Channel-Call-State', 'Answer-State', 'Call-Direction', 'Channel-Name', 'Unique-ID',
  'Channel-HIT-Dialplan', 'Channel-Call-UUID', 'Caller-Destination-Number', 'Caller-Context', 'Caller-Caller-ID-Number',
  'Caller-Callee-ID-Number', 'Caller-Logical-Direction', 'Original-Channel-Call-State',
  'Application', 'Application-Data', 'Application-Response', 'Hangup-Cause',
  'Playback-File-Path', 'Playback-File-Type', 'Playback-Status', 'DTMF-Digit', 'DTMF-Duration', 'DTMF-Source',
  'Job-Command', 'Job-Command-Arg', 'Media-Bug-Function', 'Media-Bug-Target',
  'variable_endpoint_disposition', 'variable_loopback_leg', 'variable_hangup_cause', 'variable_current_application',
  'variable_playback_seconds', 'variable_playback_samples', 'variable_caller_id', 'variable_digits_dialed',
];

const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
const LOCAL_DATE = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/g;
const GMT_DATE = /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/g;
const LONG_NUMBER = /(?<![\w.])[1-9]\d{9,}(?![\w.])/g;
// An absolute path (not the `//` of a URL): its directory part.
const ABS_DIR = /(^|[\s"'=(])\/(?:[^\s"'/]+\/)+/g;

/** Labels learnt from one side's frames: channel uuid → `<Channel-Name>`, hostname, addresses. */
export interface Labels {
  readonly uuids: ReadonlyMap<string, string>;
  readonly words: ReadonlyMap<string, string>;
}

/** Parses a text/event-json body; undefined when it is not a JSON object. */
export function eventHeaders(frame: EslFrame): Record<string, string> | undefined {
  if (frame.contentType !== 'text/event-json') return undefined;
  try {
    const o = JSON.parse(frame.body.toString('utf8')) as unknown;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  } catch {
    return undefined;
  }
}

/** Learns the labels of one side: channels from Unique-ID + Channel-Name, the switch's names from the prologue. */
export function learnLabels(frames: readonly EslFrame[], roles: Readonly<Record<string, string>> = {}): Labels {
  const uuids = new Map<string, string>(Object.entries(roles));
  const words = new Map<string, string>();
  for (const f of frames) {
    const h = eventHeaders(f);
    if (!h) continue;
    const id = h['Unique-ID'];
    const name = h['Channel-Name'];
    if (id && name && !uuids.has(id)) uuids.set(id, `<${name}>`);
    for (const [k, label] of [['FreeSWITCH-Hostname', '<host>'], ['FreeSWITCH-Switchname', '<host>'], ['FreeSWITCH-IPv4', '<ip>'], ['FreeSWITCH-IPv6', '<ip>']] as const) {
      const v = h[k];
      if (v && v.length > 1) words.set(v, label);
    }
  }
  return { uuids, words };
}

/** Replaces the volatile values of one header value or body. */
export function normalise(text: string, labels: Labels): string {
  let s = text.replace(UUID, (u) => labels.uuids.get(u) ?? labels.uuids.get(u.toLowerCase()) ?? '<uuid>');
  s = s.replace(GMT_DATE, '<date>').replace(LOCAL_DATE, '<date>').replace(LONG_NUMBER, '<time>');
  s = s.replace(ABS_DIR, (_m, lead: string) => `${lead}<dir>/`);
  for (const [w, label] of labels.words) s = replaceWord(s, w, label);
  return s;
}

function replaceWord(s: string, word: string, label: string): string {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return s.replace(new RegExp(`(?<![\\w.-])${esc}(?![\\w-])`, 'g'), label);
}

interface EventView {
  readonly key: string;
  readonly channel: string;
  readonly names: ReadonlySet<string>;
  readonly values: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** Set by {@link settleHangupRace} on an application's end that came before the channel's CHANNEL_HANGUP. */
  raced?: boolean;
  /** Set by {@link settleLateHangup} on a CHANNEL_HANGUP fired after CHANNEL_HANGUP_COMPLETE. */
  late?: boolean;
}

/** What may differ on an application's end that raced the channel's hang-up (see settleHangupRace). */
const RACED_HEADERS = new Set(['Hangup-Cause', 'Channel-State-Number', 'Answer-State']);

/**
 * A known race of the real program, within one channel: when the other loopback leg hangs up, the
 * running application (park) may return before this leg's CHANNEL_HANGUP is fired (its end then
 * shows the channel still answered) or after it (it shows the hang-up). Both orders are FreeSWITCH's;
 * the first is rewritten into the second, and the raced event's hang-up headers are not compared.
 */
/** What differs on a CHANNEL_HANGUP fired late (see settleLateHangup): the channel's state then. */
const LATE_HEADERS = new Set(['Channel-State', 'Channel-State-Number', 'Channel-Call-State']);

/**
 * Another race of the real program, seen under load (a channel with a media bug killed by
 * uuid_kill): its CHANNEL_HANGUP is fired only after CHANNEL_HANGUP_COMPLETE, showing the channel
 * already in CS_REPORTING with its end variables set. It is moved back to where it is usually
 * fired (before the running application's end), and its state headers and header names are not
 * compared.
 */
function settleLateHangup(events: readonly EventView[]): EventView[] {
  const out = [...events];
  const done = out.findIndex((e) => e.key === 'CHANNEL_HANGUP_COMPLETE');
  if (done < 0 || out.slice(0, done).some((e) => e.key === 'CHANNEL_HANGUP')) return out;
  const late = out.findIndex((e, i) => i > done && e.key === 'CHANNEL_HANGUP');
  if (late < 0) return out;
  const [h] = out.splice(late, 1);
  out.splice(out[done - 1]?.key === 'CHANNEL_EXECUTE_COMPLETE' ? done - 1 : done, 0, { ...h, late: true });
  return out;
}

function settleHangupRace(events: readonly EventView[]): EventView[] {
  const out = [...events];
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i];
    const b = out[i + 1];
    // Only the application that was running: in the usual order another one's end follows the hang-up.
    const next = out[i + 2];
    if (a.key === 'CHANNEL_EXECUTE_COMPLETE' && b.key === 'CHANNEL_HANGUP' && !a.names.has('Hangup-Cause') && next?.key !== 'CHANNEL_EXECUTE_COMPLETE') {
      out[i] = b;
      out[i + 1] = { ...a, raced: true };
      i++;
    }
  }
  return out;
}

function viewEvent(h: Record<string, string>, labels: Labels, o: DiffOptions): EventView {
  const name = h['Event-Name'] ?? '(no Event-Name)';
  const key = name === 'CUSTOM' ? `CUSTOM ${h['Event-Subclass'] ?? ''}` : name;
  const id = h['Unique-ID'];
  const channel = id ? normalise(id, labels) : '(no channel)';
  const values: Record<string, string> = {};
  const keys = o.keyHeaders === 'all' ? Object.keys(h).filter((k) => k !== '_body') : o.keyHeaders ?? KEY_HEADERS;
  for (const k of keys) if (h[k] !== undefined) values[k] = normalise(h[k], labels);
  const names = new Set(Object.keys(h).filter((k) => k !== '_body'));
  let body = h._body === undefined ? undefined : normalise(h._body, labels);
  if (body !== undefined && o.body) body = o.body(body, key);
  return { key, channel, names, values, body };
}

const show = (v: string | undefined): string => (v === undefined ? '(none)' : JSON.stringify(v));

function diffFrames(real: EslFrame[], twin: EslFrame[], lr: Labels, lt: Labels, o: DiffOptions, out: Difference[]): void {
  const n = Math.max(real.length, twin.length);
  for (let i = 0; i < n; i++) {
    const r = real[i];
    const w = twin[i];
    const where = `frame ${i + 1}`;
    if (!r || !w) {
      const desc = (f: EslFrame | undefined, l: Labels): string => (f ? `${f.contentType} ${show(normalise(f.headers['Reply-Text'] ?? f.body.toString('utf8'), l))}` : '(none)');
      out.push({ where, real: desc(r, lr), twin: desc(w, lt) });
      continue;
    }
    const at = `${where} (${r.contentType})`;
    if (r.contentType !== w.contentType) { out.push({ where: `${where} Content-Type`, real: r.contentType, twin: w.contentType }); continue; }
    const layoutR = r.headerList.map(([k]) => k).join(', ');
    const layoutW = w.headerList.map(([k]) => k).join(', ');
    if (layoutR !== layoutW) out.push({ where: `${at} header layout`, real: layoutR, twin: layoutW });
    for (const [k, v] of r.headerList) {
      if (k === 'Content-Length') continue;
      const a = normalise(v, lr);
      const b = w.headers[k] === undefined ? undefined : normalise(w.headers[k], lt);
      if (a !== b) out.push({ where: `${at} ${k}`, real: show(a), twin: show(b) });
    }
    let br = normalise(r.body.toString('utf8'), lr);
    let bw = normalise(w.body.toString('utf8'), lt);
    if (o.body) { br = o.body(br, r.contentType); bw = o.body(bw, w.contentType); }
    if (br !== bw) out.push({ where: `${at} body`, real: show(br), twin: show(bw) });
  }
}

function diffEvents(real: EventView[], twin: EventView[], racy: readonly RacyValues[], out: Difference[]): void {
  const same = (event: string, header: string, a: string, b: string): boolean =>
    a === b || racy.some((r) => r.event === event && r.header === header && r.values.includes(a) && r.values.includes(b));
  const channels = [...new Set([...real.map((e) => e.channel), ...twin.map((e) => e.channel)])];
  for (const ch of channels) {
    const r = settleHangupRace(settleLateHangup(real.filter((e) => e.channel === ch)));
    const w = settleHangupRace(settleLateHangup(twin.filter((e) => e.channel === ch)));
    const seqR = r.map((e) => e.key).join(' → ');
    const seqW = w.map((e) => e.key).join(' → ');
    if (seqR !== seqW) out.push({ where: `events of ${ch}: order`, real: seqR || '(none)', twin: seqW || '(none)' });
    // Pair the k-th event of a name with the k-th of the same name on the other side.
    const seen = new Map<string, number>();
    for (const a of r) {
      const k = (seen.get(a.key) ?? 0) + 1;
      seen.set(a.key, k);
      const b = w.filter((e) => e.key === a.key)[k - 1];
      if (!b) continue;
      const where = `events of ${ch}: ${a.key} #${k}`;
      const late = a.late === true || b.late === true;
      const raced = (h: string): boolean => ((a.raced === true || b.raced === true) && RACED_HEADERS.has(h)) || (late && LATE_HEADERS.has(h));
      const onlyR = [...a.names].filter((x) => !b.names.has(x) && !raced(x)).sort();
      const onlyW = [...b.names].filter((x) => !a.names.has(x) && !raced(x)).sort();
      if (!late && (onlyR.length || onlyW.length)) out.push({ where: `${where} header names`, real: `only here: ${onlyR.join(', ') || '-'}`, twin: `only here: ${onlyW.join(', ') || '-'}` });
      for (const h of new Set([...Object.keys(a.values), ...Object.keys(b.values)])) {
        if (a.values[h] !== undefined && b.values[h] !== undefined && !same(a.key, h, a.values[h], b.values[h]) && !raced(h)) {
          out.push({ where: `${where} ${h}`, real: show(a.values[h]), twin: show(b.values[h]) });
        }
      }
      if (a.body !== b.body) out.push({ where: `${where} body`, real: show(a.body), twin: show(b.body) });
    }
  }
}

/**
 * Compares what a client received from the real FreeSWITCH and from the twin for the same bytes
 * sent. Returns every difference (empty when the twin answered as the real program did).
 */
export function diffTranscripts(real: Transcript, twin: Transcript, o: DiffOptions = {}): Difference[] {
  const out: Difference[] = [];
  const lr = learnLabels(real.frames, o.roles);
  const lt = learnLabels(twin.frames, o.roles);
  const isEvent = (f: EslFrame): boolean => f.contentType.startsWith('text/event-');
  diffFrames(real.frames.filter((f) => !isEvent(f)), twin.frames.filter((f) => !isEvent(f)), lr, lt, o, out);
  const evR = real.frames.filter(isEvent);
  const evW = twin.frames.filter(isEvent);
  // The event frames' own layout (Content-Length first, then Content-Type).
  const lay = (f: EslFrame | undefined): string => (f ? f.headerList.map(([k]) => k).join(', ') + ` (${f.contentType})` : '(none)');
  for (const ct of new Set([...evR, ...evW].map((f) => f.contentType))) {
    const a = lay(evR.find((f) => f.contentType === ct));
    const b = lay(evW.find((f) => f.contentType === ct));
    if (a !== b) out.push({ where: 'event frame layout', real: a, twin: b });
  }
  const views = (fs: EslFrame[], l: Labels): EventView[] => fs.flatMap((f) => {
    const h = eventHeaders(f);
    return h ? [viewEvent(h, l, o)] : [];
  });
  diffEvents(views(evR, lr), views(evW, lt), o.equivalent ?? RACY_VALUES, out);
  if (real.closedByServer !== twin.closedByServer) {
    out.push({ where: 'connection', real: real.closedByServer ? 'closed by the server' : 'left open', twin: twin.closedByServer ? 'closed by the server' : 'left open' });
  }
  return out;
}

/** A readable report of the differences of one scenario (for t.comment). */
export function formatDiff(scenario: string, diffs: readonly Difference[]): string {
  if (diffs.length === 0) return `${scenario}: no difference`;
  const lines = [`${scenario}: ${diffs.length} difference(s), real FreeSWITCH vs twin`];
  for (const d of diffs) lines.push(`  ${d.where}`, `    real: ${d.real}`, `    twin: ${d.twin}`);
  return lines.join('\n');
}
