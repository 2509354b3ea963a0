import { nameEvent, type FsEvent } from './event.js';

export type EventFormat = 'plain' | 'json' | 'xml';

/** Events that `myevents` subscribes (mod_event_socket.c). */
export const MYEVENTS = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
];

interface Filter { header: string; value: string }

/**
 * A listener's event subscription: the event set (with ALL), CUSTOM subclasses, the myevents
 * uuid and header filters, with FreeSWITCH's delivery rules (`event_handler`).
 */
export class Subscription {
  events = new Set<string>();
  all = false;
  subclasses = new Set<string>();
  /** myevents: only events whose Unique-ID is this uuid. */
  uuid: string | undefined;
  myevents = false;
  filters: Filter[] = [];
  /** True once something subscribed (nixevent also counts, captured). */
  listening = false;

  /**
   * `event [fmt] <names...> [CUSTOM <subclasses...>]` tokens (after the format); returns how
   * many keywords were accepted.
   */
  add(tokens: readonly string[]): number {
    let custom = false;
    let keys = 0;
    for (const t of tokens) {
      if (custom) { this.subclasses.add(t); keys++; continue; }
      const n = nameEvent(t);
      if (!n) continue;
      keys++;
      if (n === 'CUSTOM') { custom = true; this.events.add('CUSTOM'); continue; }
      if (n === 'ALL') { this.all = true; continue; }
      this.events.add(n);
    }
    if (keys > 0) this.listening = true;
    return keys;
  }

  /** `nixevent <names...> [CUSTOM <subclasses...>]`; returns the keyword count. */
  remove(tokens: readonly string[]): number {
    let custom = false;
    let keys = 0;
    for (const t of tokens) {
      if (custom) { this.subclasses.delete(t); keys++; continue; }
      const n = nameEvent(t);
      if (!n) continue;
      keys++;
      if (n === 'CUSTOM') { custom = true; continue; }
      if (n === 'ALL') { this.all = false; this.events.clear(); this.subclasses.clear(); continue; }
      if (this.all) {
        // ALL is expanded to every type before removing one.
        this.all = false;
        for (const e of ALL_TYPES) this.events.add(e);
      }
      this.events.delete(n);
    }
    this.listening = true;
    return keys;
  }

  clear(): void {
    this.events.clear();
    this.subclasses.clear();
    this.all = false;
    this.listening = false;
    this.myevents = false;
    this.uuid = undefined;
  }

  /** Whether the event goes to this listener. */
  wants(ev: FsEvent): boolean {
    const name = ev.name;
    let send = false;
    // myevents also delivers the BACKGROUND_JOBs owned by the session.
    if (this.myevents && this.uuid !== undefined && name === 'BACKGROUND_JOB' && ev.get('Job-Owner-UUID') === this.uuid) return true;
    if (this.all) send = true;
    else if (this.events.has(name)) {
      if (name === 'CUSTOM') {
        const sub = ev.subclass;
        send = sub === undefined || this.subclasses.has(sub);
      } else {
        send = true;
      }
    }
    if (!send) return false;
    if (this.myevents && this.uuid !== undefined) {
      const uid = ev.get('Unique-ID');
      if (uid !== this.uuid && !(name === 'BACKGROUND_JOB' && ev.get('Job-Owner-UUID') === this.uuid)) return false;
    }
    if (this.filters.length > 0) {
      let pos = false;
      for (const f of this.filters) {
        const hv = ev.get(f.header);
        if (hv === undefined) continue;
        if (f.value.startsWith('-')) {
          if (matches(f.value.slice(1), hv)) return false;
        } else if (matches(f.value, hv)) {
          pos = true;
        }
      }
      return pos;
    }
    return true;
  }
}

function matches(pattern: string, value: string): boolean {
  if (pattern.startsWith('/')) {
    const body = pattern.endsWith('/') && pattern.length > 1 ? pattern.slice(1, -1) : pattern.slice(1);
    try { return new RegExp(body).test(value); } catch { return false; }
  }
  return pattern.toLowerCase() === value.toLowerCase();
}

const ALL_TYPES = [
  'CUSTOM', 'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_STATE', 'CHANNEL_CALLSTATE', 'CHANNEL_ANSWER',
  'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_PARK',
  'CHANNEL_UNPARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_OUTGOING', 'CHANNEL_ORIGINATE', 'API',
  'DTMF', 'BACKGROUND_JOB', 'PRIVATE_COMMAND', 'HEARTBEAT', 'RE_SCHEDULE', 'CHANNEL_DATA', 'PLAYBACK_START',
  'PLAYBACK_STOP', 'CALL_UPDATE', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CODEC', 'COMMAND',
];
