import { ulawDecode, ulawEncode } from '../../media/g711.js';
import type { BotAdapter, BotCommand, BotEvent, CallInfo } from '../adapter.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES, MAX_MARK_NAME_CHARS, botError, botIgnored, parseJsonMessage, type JsonObject,
} from '../json-input.js';
import { leBytesToPcm, pcmToLeBytes } from '../pcm-bytes.js';

/** Audio encoding of native binary frames. */
export type NativeEncoding = 'l16' | 'mulaw';

/** Options of {@link NativeAdapter}. */
export interface NativeAdapterOptions {
  /** Binary frame encoding, both directions: 'l16' (16-bit LE, default) or 'mulaw' (G.711 μ-law). */
  encoding?: NativeEncoding;
  /** 8000 (default) or 16000; μ-law is 8000 only. */
  sampleRateHz?: 8000 | 16000;
  /** Largest bot message accepted (bytes), text or binary; bigger ones give BOT_OVERSIZE. */
  maxMessageBytes?: number;
}

/** Version number carried in the native `start` message. */
export const NATIVE_PROTOCOL_VERSION = 1;
/** Nominal caller frame length announced in `start` (frames may differ; see docs/bot-protocols.md). */
export const NATIVE_FRAME_MS = 20;

// DTMF digits FreeSWITCH's uuid_send_dtmf plays: 0-9, *, #, A-D.
const DTMF_DIGITS = /^[0-9A-Da-d*#]{1,32}$/;
// Transfer targets reach a FreeSWITCH command line: no whitespace (argument splitting), no quotes,
// no leading '-' (would read as an option such as -bleg).
const TRANSFER_TARGET = /^(?!-)[A-Za-z0-9+*#@:;=._~%/-]{1,256}$/;
const MAX_REASON_CHARS = 256;

function checkOptions(o: NativeAdapterOptions): void {
  if (o.sampleRateHz !== undefined && o.sampleRateHz !== 8000 && o.sampleRateHz !== 16000) {
    throw new RangeError('native sampleRateHz must be 8000 or 16000');
  }
  if (o.encoding !== undefined && o.encoding !== 'l16' && o.encoding !== 'mulaw') {
    throw new RangeError('native encoding must be l16 or mulaw');
  }
  if (o.encoding === 'mulaw' && o.sampleRateHz === 16000) {
    throw new RangeError('native mulaw is 8000 Hz only');
  }
}

/** Reads an optional top-level string; undefined when absent, a command when invalid. */
function optionalString(msg: JsonObject, key: string, maxChars: number): string | undefined | BotCommand {
  const v = Object.prototype.hasOwnProperty.call(msg, key) ? msg[key] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxChars) return botError('BOT_BAD_FIELD', key);
  return v;
}

/** Reads a required top-level string matching `re` (when given). */
function requiredString(msg: JsonObject, key: string, maxChars: number, re?: RegExp): string | BotCommand {
  const v = optionalString(msg, key, maxChars);
  if (v === undefined) return botError('BOT_MISSING_FIELD', key);
  if (typeof v !== 'string') return v;
  if (re && !re.test(v)) return botError('BOT_BAD_FIELD', key);
  return v;
}

/**
 * fsbridge's own protocol, the fast path: caller and bot audio travel as binary frames (no JSON,
 * no base64), control as small flat JSON text messages. The format is fixed by fsbridge's
 * configuration and announced in `start`. Full description: docs/bot-protocols.md.
 */
export class NativeAdapter implements BotAdapter {
  readonly protocol = 'native' as const;
  readonly sampleRateHz: 8000 | 16000;
  readonly encoding: NativeEncoding;

  private state: 'new' | 'open' | 'stopped' = 'new';
  private readonly maxMessageBytes: number;

  constructor(opts: NativeAdapterOptions = {}) {
    checkOptions(opts);
    this.encoding = opts.encoding ?? 'l16';
    this.sampleRateHz = opts.sampleRateHz ?? 8000;
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** One `start` message. A second call returns []. */
  open(info: CallInfo): string[] {
    if (this.state !== 'new') return [];
    this.state = 'open';
    return [JSON.stringify({
      event: 'start',
      version: NATIVE_PROTOCOL_VERSION,
      callId: info.callId,
      from: info.from,
      to: info.to,
      direction: info.direction,
      params: { ...info.params },
      format: { encoding: this.encoding, sampleRateHz: this.sampleRateHz, frameMs: NATIVE_FRAME_MS },
    })];
  }

  /**
   * One binary frame per caller frame. The Buffer comes from Node's small-buffer pool (a slice,
   * not a fresh allocation); it is the caller's to send.
   */
  audio(pcm: Int16Array): Buffer | null {
    if (this.state !== 'open' || pcm.length === 0) return null;
    if (this.encoding === 'mulaw') {
      const out = Buffer.allocUnsafe(pcm.length);
      ulawEncode(pcm, out, pcm.length);
      return out;
    }
    const out = Buffer.allocUnsafe(pcm.length * 2);
    pcmToLeBytes(pcm, out, 0);
    return out;
  }

  dtmf(digit: string, durationMs?: number): string | null {
    if (this.state !== 'open') return null;
    return JSON.stringify(durationMs === undefined ? { event: 'dtmf', digit } : { event: 'dtmf', digit, durationMs });
  }

  /** `speech_started` / `speech_stopped` / `barge_in` {timestamp}, `amd` {answeredBy, decisionMs}. */
  event(e: BotEvent): string | null {
    if (this.state !== 'open') return null;
    if (e.kind === 'amd') return JSON.stringify({ event: 'amd', answeredBy: e.answeredBy, decisionMs: e.decisionMs });
    return JSON.stringify({ event: e.kind, timestamp: e.atMs });
  }

  markPlayed(name: string): string | null {
    if (this.state !== 'open') return null;
    return JSON.stringify({ event: 'mark', name });
  }

  stop(reason: 'callended' | 'stopped'): string | null {
    if (this.state !== 'open') return null;
    this.state = 'stopped';
    return JSON.stringify({ event: 'stop', reason });
  }

  /** Binary = audio in the announced format; text = `mark`, `clear`, `dtmf`, `hangup`, `transfer`, `dnc`. */
  receive(data: Buffer, isBinary: boolean): BotCommand[] {
    if (isBinary) return this.receiveAudio(data);
    const parsed = parseJsonMessage(data, this.maxMessageBytes);
    if (!parsed.ok) return [parsed.cmd];
    const { msg } = parsed;
    switch (parsed.event) {
      case 'mark': {
        const name = requiredString(msg, 'name', MAX_MARK_NAME_CHARS);
        return [typeof name === 'string' ? { kind: 'mark', name } : name];
      }
      case 'clear':
        return [{ kind: 'clear' }];
      case 'dtmf': {
        const digits = requiredString(msg, 'digits', 32, DTMF_DIGITS);
        return [typeof digits === 'string' ? { kind: 'dtmf', digits: digits.toUpperCase() } : digits];
      }
      case 'hangup': {
        const reason = optionalString(msg, 'reason', MAX_REASON_CHARS);
        if (reason === undefined) return [{ kind: 'hangup' }];
        return [typeof reason === 'string' ? { kind: 'hangup', reason } : reason];
      }
      case 'transfer': {
        const target = requiredString(msg, 'target', 256, TRANSFER_TARGET);
        return [typeof target === 'string' ? { kind: 'transfer', target } : target];
      }
      case 'dnc':
        return [{ kind: 'dnc' }];
      default:
        return [botIgnored('BOT_UNKNOWN_EVENT')];
    }
  }

  private receiveAudio(data: Buffer): BotCommand[] {
    if (data.length > this.maxMessageBytes) return [botError('BOT_OVERSIZE')];
    if (data.length === 0) return [];
    if (this.encoding === 'mulaw') {
      const pcm = new Int16Array(data.length);
      ulawDecode(data, pcm, data.length);
      return [{ kind: 'audio', pcm, sampleRateHz: this.sampleRateHz }];
    }
    if (data.length % 2 !== 0) return [botError('BOT_BAD_AUDIO_LENGTH')];
    return [{ kind: 'audio', pcm: leBytesToPcm(data, data.length), sampleRateHz: this.sampleRateHz }];
  }
}
