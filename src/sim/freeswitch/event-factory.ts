import type { Clock } from '../../clock.js';
import type { EventHeader } from './event.js';

/** Where an event was fired in FreeSWITCH (Event-Calling-File/-Function/-Line-Number). */
export interface EventSource { readonly file: string; readonly func: string; readonly line: number }

/** Identity of the simulated switch, as it appears in every event prologue. */
export interface SwitchIdentity {
  readonly coreUuid: string;
  readonly hostname: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** "%Y-%m-%d %H:%M:%S" in local time, as Event-Date-Local and the *_stamp variables. */
export function fsLocalStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** RFC 822 date as Event-Date-GMT ("Sun, 22 Nov 2026 03:22:21 GMT"). */
export function fsGmtStamp(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

/**
 * Builds the standard prologue (`switch_event_prep_for_delivery_detailed`): Event-Name,
 * Core-UUID, hostname/switchname, IPv4/IPv6, the three dates, calling file/function/line and a
 * monotonically increasing Event-Sequence. CUSTOM events put Event-Subclass first (captured).
 */
export class EventFactory {
  private seq = 0;
  constructor(readonly identity: SwitchIdentity, private readonly clock: Clock, firstSequence = 400) {
    this.seq = firstSequence;
  }

  /** Microseconds since the epoch (Event-Date-Timestamp and *-Time headers). */
  nowUs(): number {
    return Math.floor(this.clock.wallMs() * 1000);
  }

  prologue(name: string, src: EventSource, subclass?: string): EventHeader[] {
    const ms = this.clock.wallMs();
    const h: EventHeader[] = [];
    if (subclass !== undefined) h.push(['Event-Subclass', subclass]);
    h.push(
      ['Event-Name', name],
      ['Core-UUID', this.identity.coreUuid],
      ['FreeSWITCH-Hostname', this.identity.hostname],
      ['FreeSWITCH-Switchname', this.identity.hostname],
      ['FreeSWITCH-IPv4', this.identity.ipv4],
      ['FreeSWITCH-IPv6', this.identity.ipv6],
      ['Event-Date-Local', fsLocalStamp(ms)],
      ['Event-Date-GMT', fsGmtStamp(ms)],
      ['Event-Date-Timestamp', String(Math.floor(ms * 1000))],
      ['Event-Calling-File', src.file],
      ['Event-Calling-Function', src.func],
      ['Event-Calling-Line-Number', String(src.line)],
      ['Event-Sequence', String(++this.seq)],
    );
    return h;
  }
}

/** Calling locations seen in the captures (FreeSWITCH 1.10.12). */
export const SRC = {
  outgoing: { file: 'switch_core_session.c', func: 'switch_core_session_outgoing_channel', line: 768 },
  runningState: { file: 'switch_channel.c', func: 'switch_channel_perform_set_running_state', line: 2408 },
  create: { file: 'switch_core_state_machine.c', func: 'switch_core_session_run', line: 626 },
  originate: { file: 'switch_core_state_machine.c', func: 'switch_core_session_run', line: 632 },
  callstate: { file: 'switch_channel.c', func: 'switch_channel_perform_set_callstate', line: 301 },
  execute: { file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2944 },
  executeComplete: { file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2967 },
  answer: { file: 'switch_channel.c', func: 'switch_channel_perform_mark_answered', line: 3846 },
  preAnswer: { file: 'switch_channel.c', func: 'switch_channel_perform_mark_pre_answered', line: 3560 },
  callUpdate: { file: 'switch_channel.c', func: 'switch_channel_flip_cid', line: 3277 },
  api: { file: 'switch_loadable_module.c', func: 'switch_api_execute', line: 2954 },
  park: { file: 'switch_ivr.c', func: 'switch_ivr_park', line: 1002 },
  unpark: { file: 'switch_ivr.c', func: 'switch_ivr_park', line: 1213 },
  hangup: { file: 'switch_channel.c', func: 'switch_channel_perform_hangup', line: 3445 },
  hangupComplete: { file: 'switch_core_state_machine.c', func: 'switch_core_session_reporting_state', line: 943 },
  destroy: { file: 'switch_core_session.c', func: 'switch_core_session_perform_destroy', line: 1584 },
  playbackStart: { file: 'switch_ivr_play_say.c', func: 'switch_ivr_play_file', line: 1646 },
  playbackStop: { file: 'switch_ivr_play_say.c', func: 'switch_ivr_play_file', line: 2020 },
  privateCommand: { file: 'switch_ivr.c', func: 'switch_ivr_parse_next_event', line: 804 },
  mediaBugStart: { file: 'switch_core_media_bug.c', func: 'switch_core_media_bug_add', line: 1014 },
  mediaBugStop: { file: 'switch_core_media_bug.c', func: 'switch_core_media_bug_destroy', line: 84 },
  custom: { file: 'mod_audio_stream.c', func: 'responseHandler', line: 16 },
  dtmf: { file: 'switch_channel.c', func: 'switch_channel_dequeue_dtmf', line: 677 },
  backgroundJob: { file: 'mod_event_socket.c', func: 'api_exec', line: 1572 },
  channelData: { file: 'mod_event_socket.c', func: 'parse_command', line: 2021 },
  uuidDump: { file: 'mod_commands.c', func: 'uuid_dump_function', line: 6468 },
  sendevent: { file: 'mod_event_socket.c', func: 'parse_command', line: 1902 },
} as const satisfies Record<string, EventSource>;
