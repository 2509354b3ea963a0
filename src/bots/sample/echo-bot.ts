import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock, type Clock } from '../../clock.js';
import { ulawEncode } from '../../media/g711.js';
import { Upsampler8kTo16k } from '../../media/resample.js';
import type { BotProtocol } from '../adapter.js';
import { pcmToLeBytes } from '../pcm-bytes.js';

/** Options of {@link startEchoBot}. */
export interface EchoBotOptions {
  protocol: BotProtocol;
  /** TCP port (0 = any free port). */
  port?: number;
  host?: string;
  /** 8 kHz PCM played once right after `start` (resampled/encoded to the session format), then mark "greeting". */
  greeting?: Int16Array;
  /**
   * Send a mark once at least this many ms of audio were echoed since the last mark. Default:
   * a mark after every echoed chunk. Infinity: no marks.
   */
  markEveryMs?: number;
  /** Close with 1000 this long after `start`. */
  hangupAfterMs?: number;
  /** Close with 1000 when this DTMF digit arrives (default '#'; null: never). */
  hangupOnDtmf?: string | null;
  /** Send `clear` (barge-in) when this DTMF digit arrives (default '*'; null: never). */
  clearOnDtmf?: string | null;
  /** Echo caller audio back (default true). */
  echo?: boolean;
  /** Refuse the upgrade with 401 unless these request headers (lowercase names) have these values. */
  requireHeaders?: Record<string, string>;
  /** Largest message accepted (bytes; default 1 MiB). */
  maxPayloadBytes?: number;
  clock?: Clock;
}

/** What an echo bot has seen and done, summed over all its connections. */
export interface EchoBotStats {
  connections: number;
  /** Connections currently open. */
  open: number;
  starts: number;
  stops: number;
  audioMessagesIn: number;
  audioBytesIn: number;
  audioMessagesOut: number;
  marksSent: number;
  /** Mark names fsbridge echoed back, in arrival order (last 1000). */
  marksReceived: string[];
  /** DTMF digits received (last 1000). */
  dtmf: string[];
  clearsSent: number;
  /** Wall-clock time (Date.now()) the last `clear` was sent; 0 before the first. */
  lastClearAtMs: number;
  hangups: number;
  /** Messages the bot could not parse. */
  badMessages: number;
  /** The last `start` message, parsed. */
  lastStart: Record<string, unknown> | null;
  /** The last `stop` message, parsed. */
  lastStop: Record<string, unknown> | null;
  /** Upgrade request headers of the last connection. */
  lastHeaders: IncomingHttpHeaders | null;
  /** Close codes received from fsbridge (last 1000). */
  closeCodes: number[];
}

/** A running echo bot. */
export interface EchoBot {
  /** ws://host:port/ */
  readonly url: string;
  readonly port: number;
  readonly stats: EchoBotStats;
  /** Sends `clear` on every open connection. */
  clearAll(): void;
  /** Closes every open connection with 1000 (the bot hangs up). */
  hangupAll(): void;
  /** Stops listening and terminates every connection. Idempotent. */
  close(): Promise<void>;
}

const KEEP = 1000;
function push<T>(list: T[], v: T): void {
  list.push(v);
  if (list.length > KEEP) list.shift();
}

/** One websocket connection, bot side. */
class EchoSession {
  private sid = '';
  private rateHz = 8000;
  private encoding: 'mulaw' | 'l16' = 'l16';
  private started = false;
  private markSeq = 0;
  private msSinceMark = 0;
  private cancelHangup: (() => void) | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: EchoBotOptions,
    private readonly stats: EchoBotStats,
    private readonly clock: Clock,
  ) {}

  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.opts.protocol === 'native' && isBinary) {
      if (!this.started) return;
      this.stats.audioMessagesIn++;
      this.stats.audioBytesIn += data.length;
      if (this.opts.echo !== false) {
        this.ws.send(data);
        this.stats.audioMessagesOut++;
        this.afterEcho(this.encoding === 'mulaw' ? data.length / 8 : (data.length / 2) * 1000 / this.rateHz);
      }
      return;
    }
    if (isBinary) { this.stats.badMessages++; return; }
    const text = data.toString('utf8');
    // Fast path for caller audio: base64 has no quote or escape, so the payload ends at the next quote.
    if (this.opts.protocol !== 'native' && text.startsWith('{"event":"media"')) {
      const at = text.indexOf('"payload":"');
      if (at > 0) {
        const from = at + 11;
        const payload = text.slice(from, text.indexOf('"', from));
        this.onMedia(payload);
        return;
      }
    }
    let msg: Record<string, any>;
    try {
      msg = JSON.parse(text);
    } catch {
      this.stats.badMessages++;
      return;
    }
    if (msg === null || typeof msg !== 'object') { this.stats.badMessages++; return; }
    switch (msg.event) {
      case 'connected': return;
      case 'start': this.onStart(msg); return;
      case 'media': if (typeof msg.media?.payload === 'string') this.onMedia(msg.media.payload); return;
      case 'dtmf': this.onDtmf(String(this.opts.protocol === 'native' ? msg.digit : msg.dtmf?.digit)); return;
      case 'mark': push(this.stats.marksReceived, String(this.opts.protocol === 'native' ? msg.name : msg.mark?.name)); return;
      case 'stop': this.stats.stops++; this.stats.lastStop = msg; return;
      default: this.stats.badMessages++;
    }
  }

  /** Sends `clear`. */
  clear(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.stats.clearsSent++;
    this.stats.lastClearAtMs = Date.now();
    this.ws.send(this.control('clear', undefined));
  }

  /** Closes with 1000. */
  hangup(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.stats.hangups++;
    this.ws.close(1000, 'bot hangup');
  }

  dispose(): void {
    if (this.cancelHangup) { this.cancelHangup(); this.cancelHangup = null; }
  }

  private onStart(msg: Record<string, any>): void {
    if (this.started) return;
    this.started = true;
    this.stats.starts++;
    this.stats.lastStart = msg;
    const p = this.opts.protocol;
    if (p === 'twilio') {
      this.sid = String(msg.start?.streamSid ?? msg.streamSid ?? '');
      this.encoding = 'mulaw';
    } else if (p === 'exotel') {
      this.sid = String(msg.start?.stream_sid ?? msg.stream_sid ?? '');
      this.rateHz = Number(msg.start?.media_format?.sample_rate) === 16000 ? 16000 : 8000;
    } else {
      this.rateHz = msg.format?.sampleRateHz === 16000 ? 16000 : 8000;
      this.encoding = msg.format?.encoding === 'mulaw' ? 'mulaw' : 'l16';
    }
    if (this.opts.greeting && this.opts.greeting.length > 0) this.sendGreeting(this.opts.greeting);
    if (this.opts.hangupAfterMs !== undefined) {
      this.cancelHangup = this.clock.setTimeout(() => { this.cancelHangup = null; this.hangup(); }, this.opts.hangupAfterMs);
    }
  }

  private onMedia(payload: string): void {
    if (!this.started) return;
    this.stats.audioMessagesIn++;
    const bytes = Math.floor((payload.length * 3) / 4);
    this.stats.audioBytesIn += bytes;
    if (this.opts.echo === false) return;
    this.ws.send(this.mediaMessage(payload));
    this.stats.audioMessagesOut++;
    this.afterEcho(this.encoding === 'mulaw' ? bytes / 8 : (bytes / 2) * 1000 / this.rateHz);
  }

  private onDtmf(digit: string): void {
    push(this.stats.dtmf, digit);
    if (digit === (this.opts.clearOnDtmf === undefined ? '*' : this.opts.clearOnDtmf)) this.clear();
    if (digit === (this.opts.hangupOnDtmf === undefined ? '#' : this.opts.hangupOnDtmf)) this.hangup();
  }

  private afterEcho(ms: number): void {
    const every = this.opts.markEveryMs;
    this.msSinceMark += ms;
    if (every === undefined || this.msSinceMark >= every) {
      this.msSinceMark = 0;
      this.sendMark(`echo-${++this.markSeq}`);
    }
  }

  private sendMark(name: string): void {
    this.stats.marksSent++;
    this.ws.send(this.control('mark', name));
  }

  private control(event: 'mark' | 'clear', name: string | undefined): string {
    const p = this.opts.protocol;
    if (p === 'native') return JSON.stringify(name === undefined ? { event } : { event, name });
    const o: Record<string, unknown> = { event, [p === 'twilio' ? 'streamSid' : 'stream_sid']: this.sid };
    if (name !== undefined) o.mark = { name };
    return JSON.stringify(o);
  }

  private mediaMessage(payload: string): string {
    return this.opts.protocol === 'twilio'
      ? '{"event":"media","streamSid":"' + this.sid + '","media":{"payload":"' + payload + '"}}'
      : '{"event":"media","stream_sid":"' + this.sid + '","media":{"payload":"' + payload + '"}}';
  }

  /** The greeting in the session's format: twilio 20 ms μ-law messages, exotel 3200-byte L16 chunks, native 20 ms frames. */
  private sendGreeting(pcm8k: Int16Array): void {
    let pcm = pcm8k;
    if (this.rateHz === 16000) {
      pcm = new Int16Array(pcm8k.length * 2);
      new Upsampler8kTo16k().process(pcm8k, pcm);
    }
    let bytes: Buffer;
    if (this.encoding === 'mulaw') {
      bytes = Buffer.alloc(pcm.length);
      ulawEncode(pcm, bytes);
    } else {
      bytes = Buffer.alloc(pcm.length * 2);
      pcmToLeBytes(pcm, bytes);
    }
    const p = this.opts.protocol;
    const step = p === 'exotel' ? 3200 : this.encoding === 'mulaw' ? 160 : (this.rateHz / 50) * 2;
    for (let off = 0; off < bytes.length; off += step) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + step));
      this.ws.send(p === 'native' ? Buffer.from(part) : this.mediaMessage(part.toString('base64')));
      this.stats.audioMessagesOut++;
    }
    this.sendMark('greeting');
  }
}

/**
 * Starts a sample bot server that speaks `protocol` from the bot side: it records `start`, plays
 * the greeting, echoes caller audio back as its own audio with a mark after each echoed chunk,
 * records DTMF and marks fsbridge echoes, sends `clear` on '*', and hangs up (close 1000) on '#'
 * or after hangupAfterMs. For tests, the demo and benchmarks; listens on 127.0.0.1 by default.
 */
export async function startEchoBot(opts: EchoBotOptions): Promise<EchoBot> {
  const clock = opts.clock ?? systemClock;
  const stats: EchoBotStats = {
    connections: 0, open: 0, starts: 0, stops: 0, audioMessagesIn: 0, audioBytesIn: 0, audioMessagesOut: 0,
    marksSent: 0, marksReceived: [], dtmf: [], clearsSent: 0, lastClearAtMs: 0, hangups: 0, badMessages: 0,
    lastStart: null, lastStop: null, lastHeaders: null, closeCodes: [],
  };
  const required = opts.requireHeaders;
  const wss = new WebSocketServer({
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    maxPayload: opts.maxPayloadBytes ?? 1024 * 1024,
    perMessageDeflate: false,
    verifyClient: required
      ? (info: { req: IncomingMessage }) => Object.entries(required).every(([k, v]) => info.req.headers[k.toLowerCase()] === v)
      : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  wss.on('error', () => {});
  const sessions = new Set<EchoSession>();
  wss.on('connection', (ws, req) => {
    stats.connections++;
    stats.open++;
    stats.lastHeaders = req.headers;
    const s = new EchoSession(ws, opts, stats, clock);
    sessions.add(s);
    ws.on('message', (data, isBinary) => s.onMessage(data as Buffer, isBinary));
    ws.on('error', () => {});
    ws.on('close', (code) => {
      stats.open--;
      push(stats.closeCodes, code);
      s.dispose();
      sessions.delete(s);
    });
  });
  const addr = wss.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `ws://${host}:${addr.port}/`,
    port: addr.port,
    stats,
    clearAll: () => { for (const s of sessions) s.clear(); },
    hangupAll: () => { for (const s of sessions) s.hangup(); },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sessions) s.dispose();
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
  };
}
