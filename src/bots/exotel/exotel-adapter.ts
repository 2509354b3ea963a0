import type { BotAdapter, BotCommand, BotEvent, CallInfo } from '../adapter.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES, ScratchBuffer, botError, botIgnored, decodeBase64Into, isCommand,
  parseJsonMessage, requireString, carrierControl,
} from '../json-input.js';
import { leBytesToPcm, pcmToLeBytes } from '../pcm-bytes.js';
import { exotelCallSid, exotelStreamSid } from '../sids.js';

/** Exotel's chunk granularity: every media payload is a multiple of 320 bytes (20 ms at 8 kHz L16). */
export const EXOTEL_CHUNK_UNIT_BYTES = 320;
/** Exotel's smallest recommended media payload (bytes). */
export const EXOTEL_MIN_CHUNK_BYTES = 3200;
/** Exotel's largest accepted media payload (bytes). */
export const EXOTEL_MAX_CHUNK_BYTES = 100 * 1024;

/** Options of {@link ExotelAdapter}. */
export interface ExotelAdapterOptions {
  /** Caller/bot audio rate: 8000 (default) or 16000. */
  sampleRateHz?: 8000 | 16000;
  /**
   * Target size of each media payload sent to the bot (bytes): a multiple of 320 in
   * [3200, 102400]; default 3200 (200 ms at 8 kHz, 100 ms at 16 kHz).
   */
  chunkBytes?: number;
  /** DTMF duration reported when FreeSWITCH gave none (ms); default 250. */
  defaultDtmfDurationMs?: number;
  /** Largest bot message accepted (bytes); bigger ones give BOT_OVERSIZE. */
  maxMessageBytes?: number;
  /** Reconnect attempt number (0 first); changes stream_sid, not call_sid. */
  attempt?: number;
}

/** Throws a RangeError when options are out of range (checked once, at construction). */
function checkOptions(o: ExotelAdapterOptions): void {
  if (o.sampleRateHz !== undefined && o.sampleRateHz !== 8000 && o.sampleRateHz !== 16000) {
    throw new RangeError('exotel sampleRateHz must be 8000 or 16000');
  }
  const c = o.chunkBytes;
  if (c !== undefined && (!Number.isInteger(c) || c % EXOTEL_CHUNK_UNIT_BYTES !== 0 ||
    c < EXOTEL_MIN_CHUNK_BYTES || c > EXOTEL_MAX_CHUNK_BYTES)) {
    throw new RangeError('exotel chunkBytes must be a multiple of 320 between 3200 and 102400');
  }
}

/**
 * Exotel AgentStream / Voicebot, per Exotel's developer documentation: snake_case, base64 L16
 * little-endian mono. Caller audio is aggregated so that every media payload is a multiple of
 * 320 bytes and at least chunkBytes long (Exotel's chunk rules). Both camelCase and snake_case
 * ids are accepted from the bot (Exotel's own sample bridge sends either).
 */
export class ExotelAdapter implements BotAdapter {
  readonly protocol = 'exotel' as const;
  readonly sampleRateHz: 8000 | 16000;

  private state: 'new' | 'open' | 'stopped' = 'new';
  private seq = 0;
  private chunk = 0;
  private bytesSent = 0;
  private streamSid = '';
  private callSid = '';
  private accountSid = '';
  private mediaTail = '';
  private readonly chunkBytes: number;
  private readonly maxMessageBytes: number;
  /** Pending caller audio (L16 LE); bounded: at most one full payload plus one frame. */
  private acc: Buffer;
  private accBytes = 0;
  private readonly scratch: ScratchBuffer;

  constructor(private readonly opts: ExotelAdapterOptions = {}) {
    checkOptions(opts);
    this.sampleRateHz = opts.sampleRateHz ?? 8000;
    this.chunkBytes = opts.chunkBytes ?? EXOTEL_MIN_CHUNK_BYTES;
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.acc = Buffer.allocUnsafeSlow(this.chunkBytes * 2);
    this.scratch = new ScratchBuffer(8192, this.maxMessageBytes);
  }

  /** The stream_sid sent in `start` (empty before open). */
  get sid(): string { return this.streamSid; }

  /** `connected` then `start`. A second call returns []. */
  open(info: CallInfo): string[] {
    if (this.state !== 'new') return [];
    this.state = 'open';
    this.streamSid = exotelStreamSid(info.callId, this.opts.attempt ?? 0);
    this.callSid = exotelCallSid(info.callId);
    this.accountSid = info.accountSid;
    this.mediaTail = '"}}';
    const start = JSON.stringify({
      event: 'start',
      sequence_number: this.nextSeq(),
      stream_sid: this.streamSid,
      start: {
        stream_sid: this.streamSid,
        call_sid: this.callSid,
        account_sid: this.accountSid,
        from: info.from,
        to: info.to,
        custom_parameters: { ...info.params },
        media_format: { encoding: 'audio/x-raw', sample_rate: String(this.sampleRateHz), bit_rate: '16' },
      },
    });
    return [JSON.stringify({ event: 'connected' }), start];
  }

  /**
   * Appends one caller frame; returns a `media` message once at least chunkBytes are pending
   * (payload = the largest multiple of 320 bytes pending, at most 100 KB), else null. Audio still
   * pending at stop() is not sent.
   */
  audio(pcm: Int16Array): string | null {
    if (this.state !== 'open' || pcm.length === 0) return null;
    const add = pcm.length * 2;
    if (this.accBytes + add > this.acc.length) {
      // Only a frame larger than chunkBytes gets here; grow once, bounded by Exotel's maximum.
      const need = this.accBytes + add;
      if (need > EXOTEL_MAX_CHUNK_BYTES + this.chunkBytes) return null;
      const bigger = Buffer.allocUnsafeSlow(need);
      this.acc.copy(bigger, 0, 0, this.accBytes);
      this.acc = bigger;
    }
    this.accBytes += pcmToLeBytes(pcm, this.acc, this.accBytes);
    if (this.accBytes < this.chunkBytes) return null;
    let n = this.accBytes - (this.accBytes % EXOTEL_CHUNK_UNIT_BYTES);
    if (n > EXOTEL_MAX_CHUNK_BYTES) n = EXOTEL_MAX_CHUNK_BYTES;
    const timestampMs = Math.floor((this.bytesSent / 2) * 1000 / this.sampleRateHz);
    this.bytesSent += n;
    const msg = '{"event":"media","sequence_number":"' + (++this.seq) + '","stream_sid":"' + this.streamSid +
      '","media":{"chunk":"' + (++this.chunk) + '","timestamp":"' + timestampMs + '","payload":"' +
      this.acc.toString('base64', 0, n) + this.mediaTail;
    this.acc.copyWithin(0, n, this.accBytes);
    this.accBytes -= n;
    return msg;
  }

  dtmf(digit: string, durationMs?: number): string | null {
    if (this.state !== 'open') return null;
    const duration = String(Math.round(durationMs ?? this.opts.defaultDtmfDurationMs ?? 250));
    return JSON.stringify({
      event: 'dtmf', sequence_number: this.nextSeq(), stream_sid: this.streamSid, dtmf: { digit, duration },
    });
  }

  /**
   * Speech events, for a bot that opted in (fsbridge's own, shaped like this protocol's messages:
   * `{"event":"speech_started","sequence_number":…,"stream_sid":…,"speech":{"timestamp":"…"}}`); nothing else.
   */
  event(e: BotEvent): string | null {
    if (this.state !== 'open' || (e.kind !== 'speech_started' && e.kind !== 'speech_stopped')) return null;
    return JSON.stringify({ event: e.kind, sequence_number: this.nextSeq(), stream_sid: this.streamSid, speech: { timestamp: String(e.atMs) } });
  }

  markPlayed(name: string): string | null {
    if (this.state !== 'open') return null;
    return JSON.stringify({ event: 'mark', sequence_number: this.nextSeq(), stream_sid: this.streamSid, mark: { name } });
  }

  stop(reason: 'callended' | 'stopped'): string | null {
    if (this.state !== 'open') return null;
    this.state = 'stopped';
    this.accBytes = 0;
    return JSON.stringify({
      event: 'stop', sequence_number: this.nextSeq(), stream_sid: this.streamSid,
      stop: { call_sid: this.callSid, account_sid: this.accountSid, reason },
    });
  }

  /**
   * Accepts `media` (base64 L16 LE at sampleRateHz, any even length), `mark`, `clear`. Ids
   * (stream_sid/streamSid, sequence_number/sequenceNumber, ...) are not checked, so either
   * casing works.
   */
  receive(data: Buffer, isBinary: boolean): BotCommand[] {
    if (isBinary) return [botIgnored('BOT_BINARY_IGNORED')];
    const parsed = parseJsonMessage(data, this.maxMessageBytes);
    if (!parsed.ok) return [parsed.cmd];
    const { msg } = parsed;
    switch (parsed.event) {
      case 'media': {
        const payload = requireString(msg, 'media', 'payload', this.maxMessageBytes);
        if (typeof payload !== 'string') return [payload];
        const dec = decodeBase64Into(payload, this.scratch, this.maxMessageBytes);
        if (isCommand(dec)) return [dec];
        if (dec.n === 0) return [];
        if (dec.n % 2 !== 0) return [botError('BOT_BAD_AUDIO_LENGTH', 'media.payload')];
        return [{ kind: 'audio', pcm: leBytesToPcm(dec.bytes, dec.n), sampleRateHz: this.sampleRateHz }];
      }
      default:
        return carrierControl(parsed.event, msg);
    }
  }

  private nextSeq(): string {
    return String(++this.seq);
  }
}
