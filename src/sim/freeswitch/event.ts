import { fsUrlEncode } from './url-encode.js';

/** One header of a FreeSWITCH event; order matters and duplicates are allowed (Hangup-Cause). */
export type EventHeader = readonly [name: string, value: string];

/**
 * A fired FreeSWITCH event: an ordered header list (a snapshot taken when it fired) and an
 * optional body. Serialisations are computed once and shared by every listener.
 */
export class FsEvent {
  private plainCache: string | undefined;
  private jsonCache: string | undefined;
  constructor(readonly headers: readonly EventHeader[], readonly body?: string) {}

  /** First value of a header (case-insensitive, like switch_event_get_header). */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [k, v] of this.headers) if (k.toLowerCase() === lower) return v;
    return undefined;
  }

  get name(): string { return this.get('Event-Name') ?? ''; }
  get subclass(): string | undefined { return this.get('Event-Subclass'); }

  /**
   * `switch_event_serialize(encode=TRUE)`: `Name: <url-encoded>\n` per header, `_undef_` for
   * an empty value, then either one extra `\n` or `Content-Length: <bytes>\n\n<body>`.
   */
  plain(): string {
    if (this.plainCache === undefined) {
      let s = '';
      for (const [k, v] of this.headers) s += `${k}: ${v === '' ? '_undef_' : fsUrlEncode(v)}\n`;
      if (this.body !== undefined && this.body !== '') {
        s += `Content-Length: ${Buffer.byteLength(this.body)}\n\n${this.body}`;
      } else {
        s += '\n';
      }
      this.plainCache = s;
    }
    return this.plainCache;
  }

  /**
   * `switch_event_serialize_json`: unformatted, string values only, duplicate keys kept
   * (CHANNEL_HANGUP_COMPLETE holds Hangup-Cause twice), body as `Content-Length` + `_body`, also
   * when the body is empty (a bgapi job with no output: `"Content-Length":"0","_body":""`, seen on
   * 1.10.12; the plain form leaves both out).
   */
  json(): string {
    if (this.jsonCache === undefined) {
      const parts = this.headers.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      if (this.body !== undefined) {
        parts.push(`"Content-Length":${JSON.stringify(String(Buffer.byteLength(this.body)))}`);
        parts.push(`"_body":${JSON.stringify(this.body)}`);
      }
      this.jsonCache = `{${parts.join(',')}}`;
    }
    return this.jsonCache;
  }

  /** `switch_event_serialize_xml` (minimal: headers, Content-Length, body). */
  xml(): string {
    const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
    let s = '<event>\n  <headers>\n';
    for (const [k, v] of this.headers) s += `    <${k}>${esc(v)}</${k}>\n`;
    s += '  </headers>\n';
    if (this.body !== undefined && this.body !== '') {
      s += `  <Content-Length>${Buffer.byteLength(this.body)}</Content-Length>\n  <body>${esc(this.body)}</body>\n`;
    }
    return s + '</event>';
  }
}

/** Event names of switch_event.c's table, in order (index = SWITCH_EVENT_* value). */
export const EVENT_NAMES = [
  'CUSTOM', 'CLONE', 'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_STATE', 'CHANNEL_CALLSTATE',
  'CHANNEL_ANSWER', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
  'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_UNPARK',
  'CHANNEL_APPLICATION', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'API', 'LOG', 'INBOUND_CHAN',
  'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH', 'UNPUBLISH', 'TALK', 'NOTALK', 'SESSION_CRASH',
  'MODULE_LOAD', 'MODULE_UNLOAD', 'DTMF', 'MESSAGE', 'PRESENCE_IN', 'NOTIFY_IN', 'PRESENCE_OUT',
  'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY', 'ROSTER', 'CODEC', 'BACKGROUND_JOB',
  'DETECTED_SPEECH', 'DETECTED_TONE', 'PRIVATE_COMMAND', 'HEARTBEAT', 'TRAP', 'ADD_SCHEDULE',
  'DEL_SCHEDULE', 'EXE_SCHEDULE', 'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE',
  'PHONE_FEATURE_SUBSCRIBE', 'SEND_MESSAGE', 'RECV_MESSAGE', 'REQUEST_PARAMS', 'CHANNEL_DATA',
  'GENERAL', 'COMMAND', 'SESSION_HEARTBEAT', 'CLIENT_DISCONNECTED', 'SERVER_DISCONNECTED',
  'SEND_INFO', 'RECV_INFO', 'RECV_RTCP_MESSAGE', 'SEND_RTCP_MESSAGE', 'CALL_SECURE', 'NAT',
  'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CALL_UPDATE', 'FAILURE',
  'SOCKET_DATA', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA',
  'CALL_SETUP_REQ', 'CALL_SETUP_RESULT', 'CALL_DETAIL', 'DEVICE_STATE', 'TEXT',
  'SHUTDOWN_REQUESTED', 'CERT_RELOAD', 'ALL',
] as const;

/**
 * `switch_name_event`: case-insensitive match against the table; a name with a 13-character
 * prefix (meant for `SWITCH_EVENT_XXX`) also matches. Unknown names give undefined.
 */
export function nameEvent(token: string): string | undefined {
  const up = token.toUpperCase();
  for (const n of EVENT_NAMES) {
    if (n === up) return n;
    if (up.length > 13 && up.slice(13) === n) return n;
  }
  return undefined;
}
