import { safeUrlDecode } from './url-decode.js';
import type { EslFrame } from './frame-parser.js';

/**
 * A FreeSWITCH event, typed. `headers` holds every header as a string (JSON arrays are joined with `|`);
 * when FreeSWITCH repeats a header (CHANNEL_HANGUP_COMPLETE sends `Hangup-Cause` twice, captured on
 * 1.10.12) the last value wins, which is what JSON.parse does with a duplicate key.
 */
export interface FsEvent {
  /** `Event-Name`, e.g. CHANNEL_ANSWER, CUSTOM. */
  name: string;
  /** `Event-Subclass` of CUSTOM events, e.g. `mod_audio_stream::play`. */
  subclass?: string;
  /** `Unique-ID` of the channel, when the event belongs to one. */
  uuid?: string;
  headers: Record<string, string>;
  /** The event body (`_body` in JSON), e.g. a BACKGROUND_JOB result or a mod_audio_stream JSON payload. */
  body?: string;
}

/**
 * The event names the control connection subscribes to, and why each: PLAYBACK_START / PLAYBACK_STOP
 * drive the media leg's playback (calls/media-leg.ts onFsEvent), BACKGROUND_JOB carries every
 * command's result (esl-lite matches it to its bgapi by Job-UUID). Channel life cycle and DTMF come
 * to fsbridge on the call's own outbound socket (`myevents`), never from here (issue 8).
 */
export const CONTROL_EVENT_NAMES = ['BACKGROUND_JOB', 'PLAYBACK_START', 'PLAYBACK_STOP'] as const;

/**
 * The CUSTOM subclasses the control connection subscribes to (mod_audio_stream, community edition),
 * exactly those calls/media-leg.ts acts on: `::play` (a streamed file is ready), `::json` (a text
 * message it did not take as audio), `::error` (the websocket failed). `::connect` / `::disconnect`
 * are not used. A subclassed CUSTOM event is delivered only when its subclass is named
 * (mod_event_socket.c event_handler), so these names are the whole CUSTOM subscription.
 */
export const CONTROL_CUSTOM_SUBCLASSES = ['mod_audio_stream::play', 'mod_audio_stream::json', 'mod_audio_stream::error'] as const;

function fromHeaders(headers: Record<string, string>, body: string | undefined): FsEvent | undefined {
  const name = headers['Event-Name'];
  if (!name) return undefined;
  const ev: FsEvent = { name, headers };
  const sub = headers['Event-Subclass'];
  if (sub !== undefined && sub !== '') ev.subclass = sub;
  const uuid = headers['Unique-ID'];
  if (uuid !== undefined && uuid !== '') ev.uuid = uuid;
  if (body !== undefined) ev.body = body;
  return ev;
}

/**
 * Parses a `text/event-json` body. Returns undefined when it is not a JSON object with an Event-Name
 * (the caller reports ESL_BAD_EVENT). Values are not URL-decoded (FreeSWITCH does not encode JSON).
 */
export function parseJsonEvent(body: Buffer | string): FsEvent | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const headers: Record<string, string> = {};
  let evBody: string | undefined;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k === '_body') {
      if (typeof v === 'string') evBody = v;
      continue;
    }
    if (typeof v === 'string') headers[k] = v;
    else if (Array.isArray(v)) headers[k] = v.map(String).join('|');
    else if (typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
  }
  return fromHeaders(headers, evBody);
}

/**
 * Parses a `text/event-plain` body: URL-encoded `Name: value` lines, then optionally an inner
 * `Content-Length` and a body (a byte count, so the body is cut from the Buffer, not the string).
 */
export function parsePlainEvent(body: Buffer): FsEvent | undefined {
  let end = body.indexOf('\n\n');
  const headEnd = end < 0 ? body.length : end;
  const headers: Record<string, string> = {};
  for (const line of body.toString('utf8', 0, headEnd).split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let v = colon + 1;
    while (line.charCodeAt(v) === 0x20) v++;
    headers[line.slice(0, colon)] = safeUrlDecode(line.slice(v));
  }
  let evBody: string | undefined;
  const cl = headers['Content-Length'];
  if (cl !== undefined && /^\d+$/.test(cl) && end >= 0) {
    end += 2;
    evBody = body.toString('utf8', end, Math.min(body.length, end + Number(cl)));
  }
  return fromHeaders(headers, evBody);
}

/** Turns an event frame (`text/event-json` or `text/event-plain`) into an FsEvent, or undefined if invalid. */
export function eventFromFrame(frame: EslFrame): FsEvent | undefined {
  if (frame.contentType === 'text/event-json') return parseJsonEvent(frame.body);
  if (frame.contentType === 'text/event-plain') return parsePlainEvent(frame.body);
  return undefined;
}

/** True for the Content-Types that carry events. */
export function isEventFrame(frame: EslFrame): boolean {
  return frame.contentType === 'text/event-json' || frame.contentType === 'text/event-plain' || frame.contentType === 'text/event-xml';
}
