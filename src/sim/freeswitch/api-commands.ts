import type { Clock } from '../../clock.js';
import { parseHangupCause } from './channel-state.js';
import type { FsCore } from './core.js';
import type { ApiRunner } from './esl-connection.js';
import { ChannelsTable, SHOW_COLUMNS } from './channels-table.js';
import { FsEvent } from './event.js';
import { SRC } from './event-factory.js';
import type { Session } from './session.js';

/** The audio-stream module as seen by the API layer. */
export interface AudioStreamApi {
  api(args: string, session: (uuid: string) => Session | undefined): Promise<string>;
}

const MODULES = new Set([
  'mod_event_socket', 'mod_sofia', 'mod_loopback', 'mod_commands', 'mod_dptools', 'mod_dialplan_xml', 'mod_sndfile',
  'mod_tone_stream', 'mod_native_file', 'mod_audio_stream',
]);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * mod_commands API functions with FreeSWITCH 1.10.12's literal outputs (captured where
 * possible: esl/api-replies.txt). Unknown commands return undefined (the caller writes
 * `-ERR <cmd> Command not found!\n`).
 */
export class ApiCommands implements ApiRunner {
  audioStream: AudioStreamApi | undefined;
  /** The core db's channels table (`show channels`), kept from the events. */
  private readonly channels = new ChannelsTable();

  constructor(private readonly core: FsCore, private readonly clock: Clock) {
    core.subscribe((ev) => this.channels.apply(ev));
  }

  async run(cmd: string, args: string, _session?: Session): Promise<string | undefined> {
    const argv = args.trim() === '' ? [] : args.trim().split(/\s+/);
    const core = this.core;
    switch (cmd.toLowerCase()) {
      case 'status': return this.status();
      case 'version': return 'FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n';
      case 'hostname': return core.factory.identity.hostname;
      case 'originate': return core.originate(args);
      case 'module_exists': return MODULES.has(argv[0] ?? '') ? 'true' : 'false';
      case 'uuid_exists': return argv[0] && core.get(argv[0]) ? 'true' : 'false';
      case 'show': return this.show(argv);
      case 'uuid_answer': {
        const s = argv[0] ? core.get(argv[0]) : undefined;
        if (!s) return '-ERROR\n';
        s.answer();
        return '+OK\n';
      }
      case 'uuid_pre_answer': {
        const s = argv[0] ? core.get(argv[0]) : undefined;
        if (!s) return '-ERROR\n';
        s.preAnswer();
        return '+OK\n';
      }
      case 'uuid_kill': {
        if (!argv[0]) return '-USAGE: <uuid> [cause]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        s.hangup(parseHangupCause(argv[1]) ?? 'NORMAL_CLEARING');
        return '+OK\n';
      }
      case 'uuid_broadcast': {
        if (argv.length < 2) return '-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR invalid uuid\n';
        const which = (argv[2] ?? 'aleg').toLowerCase();
        const targets = which === 'both' ? [s, s.peerSession] : which === 'bleg' ? [s.peerSession] : [s];
        for (const t of targets) {
          if (!t) continue;
          // switch_ivr_broadcast queues an execute message (seen again in PRIVATE_COMMAND).
          const headers = [
            ...core.factory.prologue('COMMAND', { file: 'switch_ivr_async.c', func: 'switch_ivr_broadcast', line: 5731 }),
            ['call-command', 'execute'], ['execute-app-name', 'playback'], ['execute-app-arg', argv[1]],
            ['event-lock', 'true'], ['lead-frames', '5'],
          ] as const;
          t.queueMessage({ headers: [...headers] });
        }
        return '+OK Message sent\n';
      }
      case 'uuid_break': {
        if (!argv[0]) return '-USAGE: <uuid> [all]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        if ((argv[1] ?? '').toLowerCase() === 'all') s.clearMessages();
        s.media.breakPlayback();
        return '+OK\n';
      }
      case 'uuid_setvar': {
        if (argv.length < 2) return '-USAGE: <uuid> <var> [value]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        const rest = args.trim().split(/\s+/);
        const value = rest.length > 2 ? args.trim().replace(/^\S+\s+\S+\s+/, '') : undefined;
        s.channel.setVar(argv[1], value === 'undef' ? undefined : value);
        return '+OK\n';
      }
      case 'uuid_getvar': {
        if (argv.length < 2) return '-USAGE: <uuid> <var>\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        return s.getVar(argv[1]) ?? '_undef_';
      }
      case 'uuid_send_dtmf': {
        if (argv.length < 2) return '-USAGE: <uuid> <dtmf_data>\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR Cannot locate session!\n';
        s.sendDtmf(argv[1]);
        return `+OK ${argv[0]} sent DTMF ${argv[1]}.\n`;
      }
      case 'uuid_dump': {
        if (!argv[0]) return '-USAGE: <uuid> [format]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        const ev = new FsEvent([...core.factory.prologue('CHANNEL_DATA', SRC.uuidDump), ...s.channel.channelDataHeaders(false)]);
        const fmt = (argv[1] ?? '').toLowerCase();
        return fmt === 'json' ? ev.json() : fmt === 'xml' ? ev.xml() : ev.plain();
      }
      case 'uuid_transfer': {
        const rest = argv.slice(1).filter((x) => x !== '-bleg' && x !== '-both');
        if (!argv[0] || rest.length < 1) return '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n';
        const s = core.get(argv[0]);
        if (!s) return '-ERR No such channel!\n';
        const target = argv.includes('-bleg') ? s.peerSession : s;
        target?.transfer(rest[0], rest[2] ?? 'default');
        return '+OK\n';
      }
      case 'global_setvar': {
        const m = /^([^=\s]+)\s*=\s*(.*)$/s.exec(args.trim());
        if (!m) return '-ERR: Bad Syntax';
        if (m[2] === '') core.globals.delete(m[1]); else core.globals.set(m[1], m[2]);
        return '+OK';
      }
      case 'global_getvar': return core.globals.get(args.trim()) ?? '';
      case 'hupall': {
        const cause = parseHangupCause(argv[0]) ?? 'MANAGER_REQUEST';
        const varName = argv[1];
        const varVal = argv[2];
        for (const s of core.all()) {
          if (varName && s.getVar(varName) !== varVal) continue;
          s.hangup(cause);
        }
        return `+OK hangup all channels with cause ${cause}\n`;
      }
      case 'uuid_audio_stream': {
        if (!this.audioStream) return '-ERR Operation Failed\n';
        return this.audioStream.api(args, (u) => core.get(u));
      }
      default: return undefined;
    }
  }

  private status(): string {
    const core = this.core;
    let ms = Math.max(0, this.clock.wallMs() - core.startedMs);
    const totalUs = Math.floor(ms * 1000);
    const us = totalUs % 1000;
    ms = Math.floor(totalUs / 1000);
    const msec = ms % 1000;
    let s = Math.floor(ms / 1000);
    const sec = s % 60; s = Math.floor(s / 60);
    const min = s % 60; s = Math.floor(s / 60);
    const hr = s % 24; s = Math.floor(s / 24);
    const day = s % 365;
    const yr = Math.floor(s / 365);
    const count = core.all().length;
    return `UP ${plural(yr, 'year')}, ${plural(day, 'day')}, ${plural(hr, 'hour')}, ${plural(min, 'minute')}, ${plural(sec, 'second')}, ${plural(msec, 'millisecond')}, ${plural(us, 'microsecond')}\n`
      + 'FreeSWITCH (Version 1.10.12-release  64bit) is ready\n'
      + `${core.sessionsSinceStartup} session(s) since startup\n`
      + `${count} session(s) - peak ${core.peakSessions}, last 5min ${core.peakSessions} \n`
      + `0 session(s) per Sec out of max 30, peak ${core.peakSessions}, last 5min ${core.peakSessions} \n`
      + '1000 session(s) max\n'
      + 'min idle cpu 0.00/98.57\n'
      + 'Current Stack Size/Max 240K/8192K\n';
  }

  /**
   * `show channels [as json]` and `show channels count`. No channel: `\n0 total.\n` (no header
   * line) and `{"row_count": 0}\n` (FreeSWITCH prints that one by hand; with rows it is cJSON's
   * unformatted output, no newline).
   */
  private show(argv: string[]): string {
    const what = (argv[0] ?? '').toLowerCase();
    if (what !== 'channels' && what !== 'calls') return '-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n';
    const rows = this.channels.list();
    if ((argv[1] ?? '').toLowerCase() === 'count') return `\n${rows.length} total.\n`;
    const asJson = (argv[1] ?? '').toLowerCase() === 'as' && (argv[2] ?? '').toLowerCase() === 'json';
    if (asJson) {
      if (rows.length === 0) return '{"row_count": 0}\n';
      return JSON.stringify({ row_count: rows.length, rows });
    }
    if (rows.length === 0) return '\n0 total.\n';
    let out = SHOW_COLUMNS.join(',') + '\n';
    for (const r of rows) out += SHOW_COLUMNS.map((c) => r[c]).join(',') + '\n';
    return out + `\n${rows.length} total.\n`;
  }
}
