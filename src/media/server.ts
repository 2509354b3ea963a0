/**
 * The websocket server that mod_audio_stream connects to (one connection per call).
 *
 * URL path `/<callId>/<token>` (a query string is ignored). The daemon announces each stream with
 * expect() before it runs `uuid_audio_stream … start`, and withdraws it with forget(). Anything
 * else is refused before the upgrade: 404 for an unknown call or a malformed path, 401 for a wrong
 * token, 409 while the call already has an open stream (all counted as MEDIA_UNKNOWN_TOKEN /
 * MEDIA_DUPLICATE_STREAM and in `fsbridge_media_refused_upgrades_total`).
 *
 * Wire facts this relies on (reference/protocols.md §2.4–2.7, fixtures audio-stream/):
 * - libwsc's handshake has no space after header colons, `Connection:upgrade`, an Origin header,
 *   no subprotocol and (in the capture) no permessage-deflate offer; we never negotiate deflate.
 * - Audio is binary L16 little-endian, normally 20 ms per message, but a message may be shorter or
 *   longer, may come before the metadata text, and may carry an odd byte count: an odd trailing
 *   byte is carried over to the next binary message.
 * - The community module ignores binary messages from us; only text (streamAudio JSON) matters.
 *
 * Warnings that can repeat per message or per upgrade (a sink that throws on every frame, a
 * reconnect storm) are counted every time but logged the first time and then at most once per
 * logIntervalMs, per stream (sink and socket errors) or per code (refused upgrades), with the
 * count `suppressed` since the previous line.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock, type Clock } from '../clock.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import type { Logger } from '../observability/logger.js';
import type { Counter, Gauge, MetricsRegistry } from '../observability/metrics.js';
import { PcmFramer } from './pcm-framer.js';

/** The daemon's handle on one open media stream. */
export interface MediaConnection {
  readonly callId: string;
  /** Sends one text message (e.g. a streamAudio JSON). Dropped silently once the socket is closing. */
  sendText(text: string): void;
  /** Closes the websocket with `code` (default 1000); safe to call twice. */
  close(code?: number, reason?: string): void;
}

/** Receives one call's media. Exceptions thrown here are caught and counted (MEDIA_SINK_THREW). */
export interface MediaSink {
  /** The websocket of this call is open. */
  onOpen(conn: MediaConnection): void;
  /**
   * Caller audio: `pcm` is a view that is valid only during this call (copy what you keep);
   * `sampleRateHz` is the rate given to expect(). Stereo streams deliver interleaved samples.
   */
  onAudio(pcm: Int16Array, sampleRateHz: number): void;
  /** A text message (the start metadata, or anything sent with send_text / stop <text>). */
  onText(text: string): void;
  /** The websocket closed (not called after forget()). */
  onClose(code: number, reason: string): void;
}

/** Options of {@link MediaServer}. */
export interface MediaServerOptions {
  logger: Logger;
  metrics: MetricsRegistry;
  /** Listen address. Default 127.0.0.1:8090 (port 0 picks a free port). */
  host?: string;
  port?: number;
  /** Largest websocket message accepted; larger closes the stream with 1009. Default 65 536 bytes. */
  maxMessageBytes?: number;
  /** Time source of the log rate limits. Default the system clock. */
  clock?: Clock;
  /** Shortest time between two log lines of one repeated warning. Default 10 000 ms. */
  logIntervalMs?: number;
}

/** Per-stream options of {@link MediaServer.expect}. */
export interface ExpectOptions {
  /** Rate requested in `uuid_audio_stream … start` (8000 or 16000). Default 8000. */
  sampleRateHz?: number;
}

interface Expectation {
  callId: string;
  token: Buffer;
  sink: MediaSink;
  sampleRateHz: number;
  conn: Connection | null;
}

class Connection implements MediaConnection {
  readonly framer: PcmFramer;
  /** Rate limit of this stream's repeated warnings. */
  readonly logs: LogLimiter;
  detached = false;
  constructor(readonly callId: string, readonly ws: WebSocket, maxMessageBytes: number, clock: Clock, logIntervalMs: number | undefined) {
    this.framer = new PcmFramer(maxMessageBytes);
    this.logs = new LogLimiter({ clock, intervalMs: logIntervalMs });
  }
  sendText(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}

/** Status line of each refusal. */
const REFUSALS = {
  notFound: 'HTTP/1.1 404 Not Found',
  unauthorized: 'HTTP/1.1 401 Unauthorized',
  conflict: 'HTTP/1.1 409 Conflict',
  unavailable: 'HTTP/1.1 503 Service Unavailable',
} as const;

export class MediaServer {
  private readonly log: Logger;
  private readonly metrics: MetricsRegistry;
  private readonly clock: Clock;
  private readonly logIntervalMs: number | undefined;
  /** Rate limit of refused-upgrade lines, per code (they belong to no open stream). */
  private readonly refusalLogs: LogLimiter;
  private readonly host: string;
  private readonly port: number;
  private readonly maxMessageBytes: number;
  private readonly expected = new Map<string, Expectation>();
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private closing: Promise<void> | null = null;
  private framesIn!: Counter;
  private bytesIn!: Counter;
  private textIn!: Counter;
  private refused!: Counter;
  private open!: Gauge;

  constructor(opts: MediaServerOptions) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.clock = opts.clock ?? systemClock;
    this.logIntervalMs = opts.logIntervalMs;
    this.refusalLogs = new LogLimiter({ clock: this.clock, intervalMs: opts.logIntervalMs });
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 8090;
    this.maxMessageBytes = opts.maxMessageBytes ?? 65_536;
  }

  /** Starts listening; resolves with the bound address (use it when port 0 was asked for). */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.http) throw new Error('MediaServer.listen() called twice');
    this.framesIn = this.metrics.counter('fsbridge_media_frames_in_total', 'Binary audio messages received from mod_audio_stream');
    this.bytesIn = this.metrics.counter('fsbridge_media_bytes_in_total', 'Audio bytes received from mod_audio_stream');
    this.textIn = this.metrics.counter('fsbridge_media_text_in_total', 'Text messages received from mod_audio_stream');
    this.refused = this.metrics.counter('fsbridge_media_refused_upgrades_total', 'Media websocket upgrades refused, by reason');
    this.open = this.metrics.gauge('fsbridge_media_streams_open', 'Open media websockets');
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: this.maxMessageBytes,
      clientTracking: true,
      // libwsc offers no subprotocol; if a client offers one we accept none.
      handleProtocols: () => false,
    });
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('websocket only\n');
    });
    this.http = http;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    http.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.port, this.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const addr = http.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.port;
    this.log.info({ host: this.host, port }, 'media server listening');
    return { host: this.host, port };
  }

  /**
   * Announces the stream of `callId`: the next upgrade on `/<callId>/<token>` is accepted and
   * delivered to `sink`. Calling it again for the same callId replaces token, sink and rate (an
   * open connection delivers to the new sink from then on). The token must be unguessable
   * (e.g. 16 random bytes, base64url); it is compared in constant time and never logged.
   */
  expect(callId: string, token: string, sink: MediaSink, opts: ExpectOptions = {}): void {
    const e = this.expected.get(callId);
    const tokenBytes = Buffer.from(token, 'utf8');
    const sampleRateHz = opts.sampleRateHz ?? 8000;
    if (e) {
      e.token = tokenBytes;
      e.sink = sink;
      e.sampleRateHz = sampleRateHz;
      return;
    }
    this.expected.set(callId, { callId, token: tokenBytes, sink, sampleRateHz, conn: null });
  }

  /**
   * Withdraws `callId`: later upgrades for it are refused, an open connection is closed with 1000,
   * and its sink gets no further callbacks (not even onClose). Safe for unknown ids.
   */
  forget(callId: string): void {
    const e = this.expected.get(callId);
    if (!e) return;
    this.expected.delete(callId);
    if (e.conn) {
      e.conn.detached = true;
      e.conn.close(1000, 'call ended');
    }
  }

  /** Streams currently open. */
  get openStreams(): number {
    let n = 0;
    for (const e of this.expected.values()) if (e.conn) n++;
    return n;
  }

  /**
   * Stops listening and terminates every media websocket (their sinks get onClose with 1006).
   * Resolves when the listener is closed; safe to call twice and before listen().
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const http = this.http;
    const wss = this.wss;
    this.closing = (async () => {
      if (wss) for (const ws of wss.clients) ws.terminate();
      if (http) {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections(); // half-open requests that never upgraded
        await closed;
      }
      if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
      this.refusalLogs.flush((code, suppressed) => this.log.warn({ code, suppressed }, 'media upgrades refused'));
    })();
    return this.closing;
  }

  private refuse(socket: Duplex, status: keyof typeof REFUSALS, code: 'MEDIA_UNKNOWN_TOKEN' | 'MEDIA_DUPLICATE_STREAM', callId: string | undefined): void {
    this.refused.inc({ reason: status });
    this.metrics.error(code);
    const suppressed = this.refusalLogs.hit(code);
    if (suppressed !== SUPPRESSED) this.log.warn({ code, callId, status: REFUSALS[status], suppressed }, 'media upgrade refused');
    if (socket.writable) socket.end(`${REFUSALS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closing || !this.wss) {
      this.refused.inc({ reason: 'unavailable' });
      if (socket.writable) socket.end(`${REFUSALS.unavailable}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    const parsed = parsePath(req.url ?? '');
    const e = parsed ? this.expected.get(parsed.callId) : undefined;
    if (!parsed || !e) return this.refuse(socket, 'notFound', 'MEDIA_UNKNOWN_TOKEN', parsed?.callId);
    const given = Buffer.from(parsed.token, 'utf8');
    if (given.length !== e.token.length || !timingSafeEqual(given, e.token)) {
      return this.refuse(socket, 'unauthorized', 'MEDIA_UNKNOWN_TOKEN', e.callId);
    }
    if (e.conn) return this.refuse(socket, 'conflict', 'MEDIA_DUPLICATE_STREAM', e.callId);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(e, ws));
  }

  private onConnection(e: Expectation, ws: WebSocket): void {
    // The expectation may have been forgotten or replaced while the handshake completed.
    if (this.expected.get(e.callId) !== e || e.conn || this.closing) {
      ws.close(1008, 'not expected');
      return;
    }
    const conn = new Connection(e.callId, ws, this.maxMessageBytes, this.clock, this.logIntervalMs);
    e.conn = conn;
    this.open.inc();
    const sink = (): MediaSink | null => (conn.detached ? null : e.sink);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const s = sink();
      if (isBinary) {
        this.framesIn.inc();
        this.bytesIn.inc(undefined, data.length);
        if (!s) return;
        const pcm = conn.framer.push(data);
        if (pcm.length === 0) return;
        try {
          s.onAudio(pcm, e.sampleRateHz);
        } catch (err) {
          this.sinkThrew(conn, err);
        }
      } else {
        this.textIn.inc();
        if (!s) return;
        try {
          s.onText(data.toString('utf8'));
        } catch (err) {
          this.sinkThrew(conn, err);
        }
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'MEDIA_OVERSIZE_MESSAGE' : 'MEDIA_SOCKET_ERROR';
      this.metrics.error(code);
      const suppressed = conn.logs.hit(code);
      if (suppressed !== SUPPRESSED) this.log.warn({ code, callId: e.callId, wsCode: err.code, err: err.message, suppressed }, 'media websocket error');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.open.dec();
      if (e.conn === conn) e.conn = null;
      const s = sink();
      conn.detached = true;
      if (s) {
        try {
          s.onClose(code, reason.toString('utf8'));
        } catch (err) {
          this.sinkThrew(conn, err);
        }
      }
      conn.logs.flush((c, suppressed) => this.log.warn({ code: c, callId: e.callId, suppressed }, 'repeated media warnings suppressed'));
    });
    try {
      e.sink.onOpen(conn);
    } catch (err) {
      this.sinkThrew(conn, err);
    }
  }

  /** A sink callback threw: counted every time; logged first, then rate limited per stream. */
  private sinkThrew(conn: Connection, err: unknown): void {
    this.metrics.error('MEDIA_SINK_THREW');
    const suppressed = conn.logs.hit('MEDIA_SINK_THREW');
    if (suppressed !== SUPPRESSED) this.log.error({ code: 'MEDIA_SINK_THREW', callId: conn.callId, err, suppressed }, 'media sink threw');
  }
}

/** Splits `/<callId>/<token>[?query]`; both parts non-empty, URL-safe, bounded. Pure. */
export function parsePath(url: string): { callId: string; token: string } | null {
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const m = /^\/([A-Za-z0-9._~-]{1,128})\/([A-Za-z0-9._~-]{1,256})\/?$/.exec(path);
  return m ? { callId: m[1], token: m[2] } : null;
}
