/**
 * Builders for the API command lines fsbridge sends (pure). Each returns the text after `bgapi `, or
 * undefined when an argument would break the framing: a line break ends the command early
 * (mod_event_socket.c read_packet), and a space inside a uuid or file shifts FreeSWITCH's arguments.
 */
const UUID_RE = /^[0-9A-Za-z-]{1,64}$/;
const NO_SPACE = /^[^\s]+$/;
const NO_LINE_BREAK = /^[^\r\n]*$/;

/** mod_audio_stream mix types. */
export type AudioStreamMix = 'mono' | 'mixed' | 'stereo';
/** Legs for uuid_broadcast. */
export type BroadcastLeg = 'aleg' | 'bleg' | 'both';

function ok(...parts: string[]): string | undefined {
  for (const p of parts) if (!NO_LINE_BREAK.test(p)) return undefined;
  return parts.join(' ');
}

/**
 * Makes JSON safe as one FreeSWITCH command argument: FreeSWITCH's argument splitter cuts at spaces and
 * strips single quotes (reference §6 item 18), so the JSON is re-serialised compactly (no whitespace
 * outside strings) and spaces, quotes and control characters inside strings become `\uXXXX` escapes,
 * which decode to the same value. Returns undefined for text that is not JSON.
 */
export function argSafeJson(json: string): string | undefined {
  let v: unknown;
  try { v = JSON.parse(json); } catch { return undefined; }
  return JSON.stringify(v).replace(/[\s'\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function isValidUuid(uuid: string): boolean { return UUID_RE.test(uuid); }

export const buildCommand = {
  uuidAnswer: (uuid: string) => (isValidUuid(uuid) ? ok('uuid_answer', uuid) : undefined),
  uuidKill: (uuid: string, cause: string) =>
    (isValidUuid(uuid) && /^[A-Z_0-9]+$/.test(cause) ? ok('uuid_kill', uuid, cause) : undefined),
  uuidBroadcast: (uuid: string, file: string, leg: BroadcastLeg) =>
    (isValidUuid(uuid) && NO_SPACE.test(file) ? ok('uuid_broadcast', uuid, file, leg) : undefined),
  uuidBreak: (uuid: string, all: 'all' | undefined) =>
    (isValidUuid(uuid) ? ok(...(all ? ['uuid_break', uuid, all] : ['uuid_break', uuid])) : undefined),
  uuidSetvar: (uuid: string, name: string, value: string) =>
    (isValidUuid(uuid) && NO_SPACE.test(name) ? ok('uuid_setvar', uuid, name, value) : undefined),
  uuidGetvar: (uuid: string, name: string) =>
    (isValidUuid(uuid) && NO_SPACE.test(name) ? ok('uuid_getvar', uuid, name) : undefined),
  uuidExists: (uuid: string) => (isValidUuid(uuid) ? ok('uuid_exists', uuid) : undefined),
  uuidSendDtmf: (uuid: string, digits: string) =>
    (isValidUuid(uuid) && /^[0-9A-Da-d*#wW@]+(@\d+)?$/.test(digits) ? ok('uuid_send_dtmf', uuid, digits) : undefined),
  /** `uuid_audio_stream <uuid> start <url> <mix> <8k|16k> [metadata]`; rate in Hz, multiple of 8000. */
  audioStreamStart: (uuid: string, url: string, mix: AudioStreamMix, sampleRateHz: number, metadataJson?: string) => {
    if (!isValidUuid(uuid) || !NO_SPACE.test(url) || sampleRateHz % 8000 !== 0 || sampleRateHz <= 0) return undefined;
    const rate = `${sampleRateHz / 1000}k`;
    if (metadataJson === undefined) return ok('uuid_audio_stream', uuid, 'start', url, mix, rate);
    const meta = argSafeJson(metadataJson);
    return meta === undefined ? undefined : ok('uuid_audio_stream', uuid, 'start', url, mix, rate, meta);
  },
  audioStreamStop: (uuid: string) => (isValidUuid(uuid) ? ok('uuid_audio_stream', uuid, 'stop') : undefined),
  /**
   * `originate <dial string> <app or &app(arg)>`, e.g. `originate {origination_uuid=...}loopback/9999 &park`.
   * An app with spaces (`&socket(host:port async full)`) is single-quoted: FreeSWITCH's argument
   * splitter groups quoted text and drops the quotes; so the app must not hold a quote itself.
   */
  originate: (dialString: string, app: string) => {
    if (!NO_SPACE.test(dialString) || app.includes("'")) return undefined;
    return ok('originate', dialString, /\s/.test(app) ? `'${app}'` : app);
  },
  showChannelsJson: () => 'show channels as json',
};

/**
 * Builders for Event Socket commands that are not API calls (sent as they are, not after `bgapi`).
 * Syntax and replies as mod_event_socket.c parse_command (1.10.12) has them.
 */
export const socketCommand = {
  /**
   * `event json <NAME...> CUSTOM <subclass...>`: one command; every token after `CUSTOM` is a
   * subclass. FreeSWITCH answers `+OK event listener enabled json`.
   */
  subscribe: (names: readonly string[], subclasses: readonly string[]): string =>
    ['event', 'json', ...names, ...(subclasses.length > 0 ? ['CUSTOM', ...subclasses] : [])].join(' '),
  /**
   * `filter <Header> <value>`: once any filter exists, an event reaches this connection only if a
   * filter matches it (filters are ORed; one whose header the event lacks does not match).
   * FreeSWITCH answers `+OK filter added. [Header]=[value]`. Undefined for a value that would
   * break the command (line break) or a header with a space.
   */
  filterAdd: (header: string, value: string): string | undefined =>
    (NO_SPACE.test(header) && value !== '' && NO_LINE_BREAK.test(value) ? `filter ${header} ${value}` : undefined),
  /**
   * `filter delete <Header> <value>`: removes every filter with that header and value (duplicates
   * too). FreeSWITCH answers `+OK filter deleted. [Header][value]`.
   */
  filterDelete: (header: string, value: string): string | undefined =>
    (NO_SPACE.test(header) && value !== '' && NO_LINE_BREAK.test(value) ? `filter delete ${header} ${value}` : undefined),
};
