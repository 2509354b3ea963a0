import { ulawDecode, ulawEncode } from '../../media/g711.js';
import type { BotAdapter, BotCommand, BotEvent, CallInfo } from '../adapter.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES, ScratchBuffer, botIgnored, decodeBase64Into, isCommand, parseJsonMessage,
  requireString, carrierControl,
} from '../json-input.js';
import { twilioCallSid, twilioStreamSid } from '../sids.js';

/** Options of {@link TwilioAdapter}. */
export interface TwilioAdapterOptions {
  /** Largest bot message accepted (bytes); bigger ones give BOT_OVERSIZE. */
  maxMessageBytes?: number;
  /** Reconnect attempt number of this stream (0 first); changes the streamSid, not the callSid. */
  attempt?: number;
}

const RATE_HZ = 8000;

/**
 * Twilio Media Streams (bidirectional `<Connect><Stream>`), spoken the way Twilio speaks it:
 * JSON text frames, camelCase, base64 μ-law 8 kHz, sequenceNumber strings from "1" on every
 * message but `connected`. Caller audio is sent one media message per frame; the JSON is built
 * by concatenation into a reused μ-law buffer (no JSON.stringify on the hot path).
 */
export class TwilioAdapter implements BotAdapter {
  readonly protocol = 'twilio' as const;
  readonly sampleRateHz = RATE_HZ;

  private state: 'new' | 'open' | 'stopped' = 'new';
  private seq = 0;
  private chunk = 0;
  private samplesSent = 0;
  private streamSid = '';
  private callSid = '';
  private accountSid = '';
  private mediaHead = '';
  private mediaTail = '';
  private ulaw = Buffer.allocUnsafeSlow(320);
  private readonly maxMessageBytes: number;
  private readonly scratch: ScratchBuffer;

  constructor(private readonly opts: TwilioAdapterOptions = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.scratch = new ScratchBuffer(4096, this.maxMessageBytes);
  }

  /** The streamSid sent in `start` (empty before open). */
  get sid(): string { return this.streamSid; }

  /** `connected` then `start`. A second call returns []. */
  open(info: CallInfo): string[] {
    if (this.state !== 'new') return [];
    this.state = 'open';
    this.streamSid = twilioStreamSid(info.callId, this.opts.attempt ?? 0);
    this.callSid = twilioCallSid(info.callId);
    this.accountSid = info.accountSid;
    this.mediaHead = '{"event":"media","sequenceNumber":"';
    this.mediaTail = '"},"streamSid":"' + this.streamSid + '"}';
    const connected = JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = JSON.stringify({
      event: 'start',
      sequenceNumber: this.nextSeq(),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        // Pipecat and similar runners read the numbers from these two parameters.
        customParameters: { ...info.params, from_number: info.from, to_number: info.to },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: RATE_HZ, channels: 1 },
      },
      streamSid: this.streamSid,
    });
    return [connected, start];
  }

  /** One `media` message per frame; `timestamp` is the frame's start in ms of audio sent. */
  audio(pcm: Int16Array): string | null {
    if (this.state !== 'open') return null;
    const n = pcm.length;
    if (n === 0) return null;
    if (n > this.ulaw.length) this.ulaw = Buffer.allocUnsafeSlow(n);
    ulawEncode(pcm, this.ulaw, n);
    const timestampMs = Math.floor(this.samplesSent / 8);
    this.samplesSent += n;
    return this.mediaHead + (++this.seq) + '","media":{"track":"inbound","chunk":"' + (++this.chunk) +
      '","timestamp":"' + timestampMs + '","payload":"' + this.ulaw.toString('base64', 0, n) + this.mediaTail;
  }

  dtmf(digit: string): string | null {
    if (this.state !== 'open') return null;
    return JSON.stringify({
      event: 'dtmf', streamSid: this.streamSid, sequenceNumber: this.nextSeq(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  /**
   * Speech events, for a bot that opted in (fsbridge's own, shaped like this protocol's messages:
   * `{"event":"speech_started","sequenceNumber":…,"streamSid":…,"speech":{"timestamp":"…"}}`); nothing else.
   */
  event(e: BotEvent): string | null {
    if (this.state !== 'open' || (e.kind !== 'speech_started' && e.kind !== 'speech_stopped')) return null;
    return JSON.stringify({ event: e.kind, sequenceNumber: this.nextSeq(), streamSid: this.streamSid, speech: { timestamp: String(e.atMs) } });
  }

  markPlayed(name: string): string | null {
    if (this.state !== 'open') return null;
    return JSON.stringify({ event: 'mark', sequenceNumber: this.nextSeq(), streamSid: this.streamSid, mark: { name } });
  }

  /** `stop` {accountSid, callSid}; Twilio's stop has no reason field. */
  stop(_reason: 'callended' | 'stopped'): string | null {
    if (this.state !== 'open') return null;
    this.state = 'stopped';
    return JSON.stringify({
      event: 'stop', sequenceNumber: this.nextSeq(), streamSid: this.streamSid,
      stop: { accountSid: this.accountSid, callSid: this.callSid },
    });
  }

  /**
   * Accepts `media` (base64 μ-law of any length), `mark`, `clear`. The streamSid on incoming
   * messages is not checked (bots copy it from `start`; checking only breaks bots that omit it).
   */
  receive(data: Buffer, isBinary: boolean): BotCommand[] {
    // Twilio answers binary frames with warning 31950 and drops them.
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
        const pcm = new Int16Array(dec.n);
        ulawDecode(dec.bytes, pcm, dec.n);
        return [{ kind: 'audio', pcm, sampleRateHz: RATE_HZ }];
      }
      default:
        return carrierControl(parsed.event, msg);
    }
  }

  private nextSeq(): string {
    return String(++this.seq);
  }
}
