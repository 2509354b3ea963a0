import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { systemClock, type Clock } from '../clock.js';
import { FsbridgeError } from '../errors.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { reportListenerErrors, TypedEmitter } from '../typed-emitter.js';
import type { BotErrorCode } from './error-codes.js';

/** Options of {@link BotConnection}. */
export interface BotConnectionOptions {
  /** ws:// or wss:// URL of the bot. */
  url: string;
  /** Extra upgrade request headers (e.g. Authorization). Never logged. */
  headers?: Record<string, string>;
  /** Time allowed for TCP + TLS + upgrade (ms); default 5000. */
  connectTimeoutMs?: number;
  /** Time allowed for the bot to answer our close frame before the socket is destroyed (ms); default 2000. */
  closeTimeoutMs?: number;
  /** Largest message accepted from the bot (bytes); bigger closes with 1009 + BOT_OVERSIZE. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Bytes allowed to wait in the socket before send() drops messages (BOT_SEND_DROPPED). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Shortest time between two log lines of one repeated warning (BOT_SEND_DROPPED, BOT_LISTENER_THREW). Default 10 000 ms. */
  logIntervalMs?: number;
  /** Trusted CA certificates (PEM) for wss://. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the bot's certificate (default true). */
  rejectUnauthorized?: boolean;
  clock?: Clock;
  /** Logger, ideally a child bound to the call id. */
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/** How a connection ended. */
export interface BotCloseInfo {
  /** Close code 1000 or 1001. */
  normal: boolean;
  /** 'local' when close() was called first, else 'remote' (the bot, the network, a failure). */
  initiator: 'local' | 'remote';
  /** Whether the websocket had opened. */
  opened: boolean;
}

/** Events of {@link BotConnection}. */
export type BotConnectionEvents = {
  /** The upgrade completed; send() works from now on. */
  open: [];
  /** One bot message; `data` is the whole message. */
  message: [data: Buffer, isBinary: boolean];
  /** Fires exactly once after connect(), last of all events. */
  close: [code: number, reason: string, info: BotCloseInfo];
  /** At most one per connection, before `close`; `err.code` is a BOT_* code. */
  error: [err: FsbridgeError];
};

/** Connection state of {@link BotConnection}. */
export type BotConnectionState = 'idle' | 'connecting' | 'open' | 'closing' | 'closed';

const TLS_ERROR = /CERT|TLS|SSL/;

/** The URL without credentials or query, for logs. */
function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The websocket client to one bot, for one call. fsbridge is the client, as a cloud carrier is.
 * Lifecycle: construct → connect() → `open` → messages → close() or the bot closes → `close`
 * (exactly once). Failures are reported once as an `error` event with a BOT_* code (logged and
 * counted here), always followed by `close`. close() is idempotent and safe in any state.
 * Text frames are not UTF-8-validated here (skipUTF8Validation): the adapter rejects a bad message
 * (BOT_BAD_UTF8) instead of the whole call ending with close code 1007.
 * A listener that throws is counted and logged as BOT_LISTENER_THREW; the other listeners still run.
 * Warnings that can repeat per message are logged the first time, then at most once per
 * logIntervalMs with a `suppressed` count; every occurrence is counted.
 */
export class BotConnection extends TypedEmitter<BotConnectionEvents> {
  private ws: WebSocket | null = null;
  private st: BotConnectionState = 'idle';
  private opened = false;
  private localClose = false;
  private errorEmitted = false;
  private pendingCode: BotErrorCode | null = null;
  private pendingDetail: string | undefined;
  private cancelConnectTimer: (() => void) | null = null;
  private cancelCloseTimer: (() => void) | null = null;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: MetricsRegistry;
  private readonly logs: LogLimiter;

  constructor(private readonly opts: BotConnectionOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger();
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.logs = new LogLimiter({ clock: this.clock, intervalMs: opts.logIntervalMs });
    this.onListenerError = reportListenerErrors({ logger: this.logger, metrics: this.metrics, code: 'BOT_LISTENER_THREW', limiter: this.logs });
  }

  get state(): BotConnectionState { return this.st; }

  /** Bytes queued in the socket, not yet written. */
  get bufferedAmount(): number { return this.ws?.bufferedAmount ?? 0; }

  /** Starts connecting. Results arrive as events. Calling it again (or after close()) does nothing. */
  connect(): void {
    if (this.st !== 'idle') return;
    this.st = 'connecting';
    this.socketsGauge().inc();
    let url: URL;
    let ws: WebSocket;
    try {
      url = new URL(this.opts.url);
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError('scheme');
      // ws also throws synchronously, e.g. for a URL with a #fragment.
      ws = new WebSocket(url, {
        headers: this.opts.headers,
        maxPayload: this.opts.maxPayloadBytes ?? 1024 * 1024,
        perMessageDeflate: false,
        followRedirects: false,
        skipUTF8Validation: true,
        ca: this.opts.ca,
        rejectUnauthorized: this.opts.rejectUnauthorized ?? true,
      });
    } catch (err) {
      // Report asynchronously, like every other outcome, so listeners attached after connect() see it.
      queueMicrotask(() => {
        if (!this.localClose) {
          this.logger.warn({ code: 'BOT_BAD_URL' }, 'bot url invalid');
          this.fail('BOT_BAD_URL', err);
        }
        this.finish(1006, '');
      });
      return;
    }
    this.ws = ws;
    this.cancelConnectTimer = this.clock.setTimeout(() => {
      this.cancelConnectTimer = null;
      if (this.st !== 'connecting') return;
      this.pendingCode = 'BOT_CONNECT_TIMEOUT';
      ws.terminate();
    }, this.opts.connectTimeoutMs ?? 5000);

    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      this.pendingCode = 'BOT_HANDSHAKE_REJECTED';
      this.pendingDetail = String(res.statusCode);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.clearConnectTimer();
      if (this.st !== 'connecting') return;
      this.st = 'open';
      this.opened = true;
      this.logger.debug({ url: safeUrl(url) }, 'bot connected');
      this.safeEmit('open');
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      // binaryType is 'nodebuffer', so data is one Buffer even for fragmented messages.
      this.safeEmit('message', data as Buffer, isBinary);
    });
    ws.on('error', (err: Error & { code?: string }) => this.onWsError(err, url));
    ws.on('close', (code: number, reason: Buffer) => this.finish(code, reason.toString('utf8')));
  }

  /**
   * Sends one message: a string as a text frame, a Buffer as a binary frame (the Buffer is copied
   * while masking, so the caller may reuse it). Returns false when not open or when the message was
   * dropped because more than maxBufferedBytes are waiting (BOT_SEND_DROPPED counted).
   */
  send(data: string | Buffer): boolean {
    const ws = this.ws;
    if (this.st !== 'open' || ws === null) return false;
    if (ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 1024 * 1024)) {
      this.metrics.error('BOT_SEND_DROPPED');
      const suppressed = this.logs.hit('BOT_SEND_DROPPED');
      if (suppressed !== SUPPRESSED) {
        this.logger.warn({ code: 'BOT_SEND_DROPPED', bufferedBytes: ws.bufferedAmount, suppressed }, 'bot not reading, dropping messages');
      }
      return false;
    }
    ws.send(data);
    return true;
  }

  /**
   * Closes with `code` (default 1000). While connecting, abandons the handshake. The `close` event
   * follows once the bot answers, or after closeTimeoutMs. Safe to call in any state, repeatedly.
   */
  close(code = 1000, reason = ''): void {
    const ws = this.ws;
    if (this.st === 'idle') { this.st = 'closed'; return; }
    if (this.st === 'closing' || this.st === 'closed') return;
    this.localClose = true;
    if (this.st === 'connecting') {
      this.st = 'closing';
      ws?.terminate(); // null: a bad URL whose report is already queued; it now closes quietly
      return;
    }
    if (ws === null) return;
    this.st = 'closing';
    try {
      ws.close(code, reason);
    } catch {
      // An invalid close code (e.g. 1005) must not leave the socket open.
      ws.terminate();
      return;
    }
    this.cancelCloseTimer = this.clock.setTimeout(() => {
      this.cancelCloseTimer = null;
      ws.terminate();
    }, this.opts.closeTimeoutMs ?? 2000);
  }

  private onWsError(err: Error & { code?: string }, url: URL): void {
    // After close(): abandoning the handshake or a reset during the closing handshake is ours.
    if (this.localClose) return;
    let code: BotErrorCode | null = this.pendingCode;
    if (code === null) {
      const c = err.code ?? '';
      if (!this.opened) {
        code = c === 'ECONNREFUSED' ? 'BOT_CONNECT_REFUSED'
          : TLS_ERROR.test(c) ? 'BOT_TLS_FAILED' : 'BOT_CONNECT_FAILED';
      } else if (c === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        code = 'BOT_OVERSIZE';
      } else if (c.startsWith('WS_ERR_')) {
        code = 'BOT_PROTOCOL_ERROR';
      } else {
        code = 'BOT_CLOSED_ABNORMALLY';
      }
      this.pendingDetail = c || undefined;
    }
    this.logger.warn({ code, url: safeUrl(url), detail: this.pendingDetail }, 'bot connection error');
    this.fail(code, err);
  }

  private fail(code: BotErrorCode, cause: unknown): void {
    if (this.errorEmitted) return;
    this.errorEmitted = true;
    this.metrics.error(code);
    const e = new FsbridgeError(code, this.pendingDetail ? `${code} (${this.pendingDetail})` : code, cause);
    this.safeEmit('error', e);
  }

  /** Bot websockets from connect() until closed (a leak shows here). */
  private socketsGauge() {
    return this.metrics.gauge('fsbridge_bot_connections', 'Bot websockets connecting or open');
  }

  private finish(code: number, reason: string): void {
    if (this.st === 'closed') return;
    this.socketsGauge().dec();
    this.clearConnectTimer();
    if (this.cancelCloseTimer) { this.cancelCloseTimer(); this.cancelCloseTimer = null; }
    this.st = 'closed';
    const normal = code === 1000 || code === 1001;
    if (this.opened && !normal && !this.localClose && !this.errorEmitted) {
      this.logger.warn({ code: 'BOT_CLOSED_ABNORMALLY', closeCode: code }, 'bot closed abnormally');
      this.fail('BOT_CLOSED_ABNORMALLY', undefined);
    }
    this.ws?.removeAllListeners('message');
    this.safeEmit('close', code, reason, { normal, initiator: this.localClose ? 'local' : 'remote', opened: this.opened });
    this.flushLogs(); // after `close`: a listener of `close` that throws is reported too
  }

  /** Logs how many rate-limited warnings were suppressed since their last line. */
  private flushLogs(): void {
    this.logs.flush((code, suppressed) => this.logger.warn({ code, suppressed }, 'repeated warnings suppressed'));
  }

  private clearConnectTimer(): void {
    if (this.cancelConnectTimer) { this.cancelConnectTimer(); this.cancelConnectTimer = null; }
  }
}
