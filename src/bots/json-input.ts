import type { BotCommand } from './adapter.js';

/**
 * Shared checks for bot messages that arrive as JSON text: size bound, strict UTF-8, JSON object,
 * field types, strict base64. Pure functions; every failure is a BotCommand with a BOT_* code.
 */

/** Default bound on one bot message (bytes). A 100 KB Exotel chunk is ~137 KB as base64. */
export const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024;

/** Longest mark name accepted from a bot (characters). */
export const MAX_MARK_NAME_CHARS = 1024;

// One decoder for the process: decode() without {stream:true} keeps no state between calls.
// fatal:true makes invalid UTF-8 throw instead of producing U+FFFD, in the same pass as decoding.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object as parsed from the wire (values not yet checked). */
export type JsonObject = Record<string, unknown>;

/** Result of {@link parseJsonMessage}: the object, or the one command that reports the problem. */
export type ParsedMessage = { ok: true; msg: JsonObject; event: string } | { ok: false; cmd: BotCommand };

/** Builds the error command for a malformed message. */
export function botError(code: string, detail?: string): BotCommand {
  return detail === undefined ? { kind: 'error', code } : { kind: 'error', code, detail };
}

/** Builds the command for a well-formed message fsbridge does not act on. */
export function botIgnored(code: string): BotCommand {
  return { kind: 'ignored', code };
}

/**
 * Decodes a text message into a JSON object with a string `event`.
 * Errors: BOT_OVERSIZE (more than maxBytes), BOT_BAD_UTF8, BOT_BAD_JSON (not JSON or not an object),
 * BOT_MISSING_FIELD / BOT_BAD_FIELD (`event`).
 */
export function parseJsonMessage(data: Buffer, maxBytes: number): ParsedMessage {
  if (data.length > maxBytes) return { ok: false, cmd: botError('BOT_OVERSIZE') };
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { ok: false, cmd: botError('BOT_BAD_UTF8') };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, cmd: botError('BOT_BAD_JSON') };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, cmd: botError('BOT_BAD_JSON', 'not an object') };
  }
  const msg = value as JsonObject;
  const event = msg.event;
  if (event === undefined) return { ok: false, cmd: botError('BOT_MISSING_FIELD', 'event') };
  if (typeof event !== 'string') return { ok: false, cmd: botError('BOT_BAD_FIELD', 'event') };
  return { ok: true, msg, event };
}

/** `msg[key]` when it is a plain object, else undefined. */
export function objectField(msg: JsonObject, key: string): JsonObject | undefined {
  const v = Object.prototype.hasOwnProperty.call(msg, key) ? msg[key] : undefined;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/**
 * Reads a required string field `parent.key` (path used in error details).
 * Returns the string, or the error command (BOT_MISSING_FIELD, BOT_BAD_FIELD when not a string or
 * longer than maxChars).
 */
export function requireString(
  msg: JsonObject, parent: string, key: string, maxChars: number,
): string | BotCommand {
  const container = objectField(msg, parent);
  if (container === undefined) {
    return Object.prototype.hasOwnProperty.call(msg, parent) && msg[parent] !== undefined
      ? botError('BOT_BAD_FIELD', parent)
      : botError('BOT_MISSING_FIELD', `${parent}.${key}`);
  }
  const v = Object.prototype.hasOwnProperty.call(container, key) ? container[key] : undefined;
  if (v === undefined || v === null) return botError('BOT_MISSING_FIELD', `${parent}.${key}`);
  if (typeof v !== 'string' || v.length > maxChars) return botError('BOT_BAD_FIELD', `${parent}.${key}`);
  return v;
}

// 0..63 for the standard base64 alphabet, 255 otherwise.
const B64 = new Uint8Array(128).fill(255);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  .split('')
  .forEach((c, i) => { B64[c.charCodeAt(0)] = i; });

/**
 * Number of bytes the strict base64 string `s` decodes to, or -1 when it is not strict base64:
 * standard alphabet only (no whitespace, no URL-safe characters), `=` padding only at the end and
 * only to a multiple of 4; unpadded input is accepted unless its length is 1 mod 4.
 * Node's own decoder silently skips bad characters, so it cannot be used to validate.
 */
export function base64DecodedLength(s: string): number {
  let len = s.length;
  let pad = 0;
  while (len > 0 && pad < 2 && s.charCodeAt(len - 1) === 61 /* = */) { len--; pad++; }
  if (pad > 0 && s.length % 4 !== 0) return -1;
  if (len % 4 === 1) return -1;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B64[c] === 255) return -1;
  }
  return Math.floor((len * 3) / 4);
}

/**
 * A reusable byte buffer that grows (up to `maxBytes`) so that decoding base64 payloads does not
 * allocate per message once warmed up.
 */
export class ScratchBuffer {
  private buf: Buffer;
  constructor(initialBytes: number, private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.min(initialBytes, maxBytes));
  }
  /** A buffer of at least `n` bytes (n ≤ maxBytes), valid until the next call. */
  get(n: number): Buffer {
    if (n > this.buf.length) {
      if (n > this.maxBytes) throw new RangeError('scratch buffer bound exceeded');
      this.buf = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, Math.max(n, this.buf.length * 2)));
    }
    return this.buf;
  }
}

/**
 * Validates and decodes a base64 payload into `scratch`. Returns the decoded byte count, or the
 * error command (BOT_BAD_BASE64, BOT_OVERSIZE when it would exceed maxBytes).
 */
export function decodeBase64Into(
  payload: string, scratch: ScratchBuffer, maxBytes: number,
): { bytes: Buffer; n: number } | BotCommand {
  const n = base64DecodedLength(payload);
  if (n < 0) return botError('BOT_BAD_BASE64', 'media.payload');
  if (n > maxBytes) return botError('BOT_OVERSIZE', 'media.payload');
  const bytes = scratch.get(Math.max(n, 1));
  const written = bytes.write(payload, 0, n, 'base64');
  if (written !== n) return botError('BOT_BAD_BASE64', 'media.payload');
  return { bytes, n };
}

/** True when `x` is one of the command objects produced above (not a decoded value). */
export function isCommand(x: unknown): x is BotCommand {
  return typeof x === 'object' && x !== null && 'kind' in x;
}

/**
 * The bot → fsbridge control messages that Twilio Media Streams and Exotel share: `mark` and
 * `clear` act; `dtmf`, `hangup`, `transfer` and `dnc` (native-only) are ignored with
 * BOT_UNSUPPORTED_EVENT; anything else is BOT_UNKNOWN_EVENT. `media` is each adapter's own.
 */
export function carrierControl(event: string, msg: Record<string, unknown>): BotCommand[] {
  switch (event) {
    case 'mark': {
      const name = requireString(msg, 'mark', 'name', MAX_MARK_NAME_CHARS);
      return typeof name === 'string' ? [{ kind: 'mark', name }] : [name];
    }
    case 'clear':
      return [{ kind: 'clear' }];
    case 'dtmf':
    case 'hangup':
    case 'transfer':
    case 'dnc':
      return [botIgnored('BOT_UNSUPPORTED_EVENT')];
    default:
      return [botIgnored('BOT_UNKNOWN_EVENT')];
  }
}
