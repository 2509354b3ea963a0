import { isUtf8 } from 'node:buffer';
import { separateString } from './separate-string.js';
import { parseWsUrl, type WsTarget } from './ws-url.js';

/** The module's syntax string, exactly as the real module prints it after `-USAGE: `. */
export const STREAM_API_SYNTAX =
  '<uuid> [start | stop | send_text | pause | resume | graceful-shutdown ] [wss-url | path] [mono | mixed | stereo] [8000 | 16000] [metadata]';

/** Literal api/response bodies of `uuid_audio_stream`. */
export const API_REPLY = {
  ok: '+OK Success\n',
  fail: '-ERR Operation Failed\n',
  usage: `-USAGE: ${STREAM_API_SYNTAX}\n`,
  /** Some validation failures jump past the reply in the module's code: the body is empty. */
  silent: '',
} as const;

/** `mono` = caller audio; `mixed` = caller + channel output summed; `stereo` = L caller, R output. */
export type MixType = 'mono' | 'mixed' | 'stereo';

/** What one `uuid_audio_stream` call asks for, after the checks that need no channel. */
export type StreamAction =
  | { op: 'start'; target: WsTarget; mix: MixType; rateHz: number; metadata: string | undefined }
  | { op: 'stop'; text: string | undefined }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'send_text'; text: string }
  /** A failure detected by validation; `reply` is the body to answer once the uuid exists. */
  | { op: 'reject'; reply: string; reason: string };

/** Parsed API call: either the usage text, or a uuid plus an action. */
export type StreamApiCall = { kind: 'usage' } | { kind: 'call'; uuid: string; action: StreamAction };

// cJSON/C strings cannot hold lone surrogates; that is what "invalid UTF-8" means for a JS string.
function validUtf8(s: string): boolean {
  return isUtf8(Buffer.from(s, 'utf8')) && Buffer.from(s, 'utf8').toString('utf8') === s;
}

// C atoi: optional blanks and sign, then leading digits; anything else gives 0.
function atoi(s: string): number {
  const m = /^[ \t\n\r\f\v]*([+-]?[0-9]+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

/**
 * Parses `uuid_audio_stream <args>` the way the module does (mod_audio_stream.c stream_function):
 * `switch_separate_string(args, ' ', argv, 6)`; usage when fewer than 2 tokens or `start` with fewer
 * than 4 (checked before the uuid is looked up). Subcommands compare case-insensitively.
 * `stop`/`send_text` take argv[2] only (first word unless quoted or `^^X`); start metadata is argv[5]
 * (rest of the line). Rate: `8k`, `16k`, else atoi, must be a multiple of 8000 (0 is refused here;
 * the real module would accept it and fail later). `graceful-shutdown` is not implemented.
 */
export function parseStreamApi(args: string): StreamApiCall {
  const argv = args.length > 0 ? separateString(args, ' ', 6) : [];
  if (argv.length < 2 || (argv[1] === 'start' && argv.length < 4)) return { kind: 'usage' };
  const uuid = argv[0]!;
  const sub = argv[1]!.toLowerCase();
  const silent = (reason: string): StreamApiCall => ({ kind: 'call', uuid, action: { op: 'reject', reply: API_REPLY.silent, reason } });
  const fail = (reason: string): StreamApiCall => ({ kind: 'call', uuid, action: { op: 'reject', reply: API_REPLY.fail, reason } });
  switch (sub) {
    case 'stop': {
      const text = argv[2];
      if (text !== undefined && !validUtf8(text)) return silent('invalid utf8');
      return { kind: 'call', uuid, action: { op: 'stop', text } };
    }
    case 'pause': return { kind: 'call', uuid, action: { op: 'pause' } };
    case 'resume': return { kind: 'call', uuid, action: { op: 'resume' } };
    case 'send_text': {
      const text = argv[2];
      if (text === undefined) return silent('send_text requires text');
      if (!validUtf8(text)) return silent('invalid utf8');
      return { kind: 'call', uuid, action: { op: 'send_text', text } };
    }
    case 'start': {
      if (argv.length < 4) return fail('start needs url and mix');
      const metadata = argv[5];
      if (metadata !== undefined && !validUtf8(metadata)) return silent('invalid utf8');
      const mixArg = argv[3]!;
      if (mixArg !== 'mono' && mixArg !== 'mixed' && mixArg !== 'stereo') return silent('invalid mix type');
      let rateHz = 8000;
      const rateArg = argv[4];
      if (rateArg !== undefined) rateHz = rateArg === '16k' ? 16000 : rateArg === '8k' ? 8000 : atoi(rateArg);
      const target = parseWsUrl(argv[2]!);
      if (!target) return fail('invalid websocket uri');
      if (rateHz % 8000 !== 0 || rateHz <= 0) return fail('invalid sample rate');
      return { kind: 'call', uuid, action: { op: 'start', target, mix: mixArg, rateHz, metadata } };
    }
    default:
      return fail('unsupported subcommand');
  }
}
