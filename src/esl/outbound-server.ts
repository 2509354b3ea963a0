import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { TypedEmitter } from '../typed-emitter.js';
import { channelDataFromFrame } from './channel-data.js';
import type { EslErrorCode } from './error-codes.js';
import { eventFromFrame, isEventFrame } from './events.js';
import { DEFAULT_FRAME_LIMITS, EslFrameParser, type EslFrame, type FrameParserLimits } from './frame-parser.js';
import { OutboundSession, type OutboundLink } from './outbound-session.js';

// modesl 1.2.1 is CommonJS without type declarations: load it with require and type the small part used.
interface ModeslEvent { getHeader(name: string): string | undefined }
interface ModeslConnection {
  socket: Duplex | null;
  sendRecv(command: string, args: Record<string, string> | null, cb: (ev: ModeslEvent) => void): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}
interface ModeslServer { on(event: string, fn: (...args: any[]) => void): unknown; removeAllListeners(): unknown }
interface ModeslModule { Server: new (opts: { server: unknown }, readyCb?: () => void) => ModeslServer }
const requireCjs = createRequire(import.meta.url);

/** Options of {@link OutboundSocketServer}. */
export interface OutboundSocketServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8084 (the `socket` app's default port); 0 picks a free port (tests). */
  port?: number;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** connect + myevents json + linger must finish within this. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Default timeout of session commands. Default 10000. */
  commandTimeoutMs?: number;
  /** After the linger notice, close the socket at the latest after this. Default 5000. */
  lingerCloseMs?: number;
  /** Most sockets open at once; more are closed at once. Default 2000. */
  maxConnections?: number;
  /** Frame limits once the channel data is validated (default DEFAULT_FRAME_LIMITS: 16 MiB bodies). */
  limits?: Partial<FrameParserLimits>;
  /**
   * Most bytes accepted before the channel data is validated: each frame (header block and
   * Content-Length) and all bytes together. Default {@link DEFAULT_HANDSHAKE_MAX_BYTES}.
   */
  handshakeMaxBytes?: number;
}

/**
 * Default bound on what an outbound socket may send before its channel data is validated.
 * FreeSWITCH sends nothing before its connect reply, which is a few KB (3466 bytes for a loopback
 * channel, 5730 for a SIP leg in fixtures/real-freeswitch/outbound-socket/); 64 KiB leaves room for
 * channels with many variables, and keeps a local client that is not FreeSWITCH from making the
 * daemon buffer 16 MiB per connection (issue 8).
 */
export const DEFAULT_HANDSHAKE_MAX_BYTES = 64 * 1024;

/** Events of {@link OutboundSocketServer}. */
export type OutboundSocketServerEvents = {
  /** A channel is ready to be controlled. Listeners attach to the session synchronously. */
  session: [OutboundSession];
};

/**
 * A socket given to modesl instead of the real one. fsbridge parses what FreeSWITCH sends with its own
 * EslFrameParser and passes modesl only command/reply and api/response frames, with header values
 * made safe for modesl's decodeURIComponent (which throws on `%E9` or a lone `%`, from inside a
 * socket 'data' handler, i.e. it would crash the daemon). Events go to the session directly.
 */
class GuardedSocket extends Duplex {
  constructor(private readonly real: Socket) { super({ allowHalfOpen: false }); }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.real.destroyed || !this.real.writable) { cb(); return; }
    this.real.write(chunk, () => cb());
  }
  override _final(cb: () => void): void { this.real.end(); cb(); }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void { this.real.destroy(); cb(err); }
  feed(frame: EslFrame): void {
    let head = '';
    for (const [name, value] of frame.headerList) head += `${name}: ${modeslSafe(value)}\n`;
    this.push(Buffer.concat([Buffer.from(head + '\n'), frame.body]));
  }
  endInput(): void { this.push(null); }
}

function modeslSafe(value: string): string {
  try {
    decodeURIComponent(value);
    return value;
  } catch {
    return value.replace(/%/g, '%25');
  }
}

interface PendingConn {
  real: Socket;
  guarded: GuardedSocket;
  parser: EslFrameParser;
  /** Bytes received before the channel data was validated. */
  handshakeBytes: number;
  session: OutboundSession | null;
  /** Set once the connect reply arrived. */
  channel: ReturnType<typeof channelDataFromFrame> | null;
  pre: OutboundSession | null;
  cancelHandshake: () => void;
  done: boolean;
}

/**
 * Accepts FreeSWITCH's outbound socket connections (dialplan `socket 127.0.0.1:8084 async full`) with
 * modesl 1.2.1's Server, and turns each into an {@link OutboundSession} after `connect`, `myevents json`
 * and `linger`. Per socket: a handshake deadline (ESL_OUTBOUND_TIMEOUT), early close or hang-up while
 * connecting (ESL_OUTBOUND_CLOSED_EARLY), more than `handshakeMaxBytes` before the channel data
 * (ESL_OUTBOUND_HANDSHAKE_TOO_LARGE), bad bytes (ESL_BAD_FRAME / ESL_FRAME_TOO_LARGE) end only that
 * socket. `listen()` resolves with the bound port; `close()` closes the listener and every socket, idempotent.
 */
export class OutboundSocketServer extends TypedEmitter<OutboundSocketServerEvents> {
  private server: Server | null = null;
  private modesl: ModeslServer | null = null;
  private readonly shim = new EventEmitter();
  private readonly conns = new Map<GuardedSocket, PendingConn>();
  private closed = false;
  private boundPort = 0;

  constructor(private readonly opts: OutboundSocketServerOptions) {
    super();
    this.onListenerError = (err, event) => {
      opts.metrics.error('ESL_LISTENER_THREW');
      opts.logger.error({ err, event, code: 'ESL_LISTENER_THREW' }, 'outbound server listener threw');
    };
  }

  /** The bound port (after listen()). */
  get port(): number { return this.boundPort; }

  /** Number of open sockets (handshaking or in a session). */
  get connectionCount(): number { return this.conns.size; }

  /** Binds and starts accepting. Rejects if the port cannot be bound. */
  async listen(): Promise<{ port: number }> {
    if (this.server) return { port: this.boundPort };
    const modesl = requireCjs('modesl') as ModeslModule;
    const server = createServer((s) => this.onSocket(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 8084, this.opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (err) => this.opts.logger.error({ err }, 'outbound socket server error'));
    this.boundPort = (server.address() as { port: number }).port;
    // modesl's Server takes an existing server object: it reads address() and listens to 'connection'.
    // fsbridge hands it a shim that emits the guarded sockets only.
    const shim = Object.assign(this.shim, {
      address: () => ({ port: this.boundPort, host: this.opts.host ?? '127.0.0.1' }),
      close: (cb?: () => void) => cb?.(),
    });
    this.modesl = new modesl.Server({ server: shim });
    this.modesl.on('connection::ready', (conn: ModeslConnection) => this.onModeslReady(conn));
    return { port: this.boundPort };
  }

  /** Stops accepting, closes every socket (sessions emit `close`). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.conns.values()]) this.destroyConn(c, 'shutdown');
    this.modesl?.removeAllListeners();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onSocket(real: Socket): void {
    if (this.closed || this.conns.size >= (this.opts.maxConnections ?? 2000)) {
      real.destroy();
      return;
    }
    real.setNoDelay(true);
    real.on('error', () => { /* 'close' follows */ });
    const guarded = new GuardedSocket(real);
    guarded.on('error', () => {});
    const hs = this.handshakeMaxBytes;
    const limits = { ...DEFAULT_FRAME_LIMITS, ...this.opts.limits };
    const parser = new EslFrameParser({
      maxHeaderBytes: Math.min(hs, limits.maxHeaderBytes), maxContentLengthBytes: Math.min(hs, limits.maxContentLengthBytes),
    });
    const c: PendingConn = {
      real, guarded, parser, handshakeBytes: 0, session: null, channel: null, pre: null, cancelHandshake: () => {}, done: false,
    };
    this.conns.set(guarded, c);
    c.cancelHandshake = this.opts.clock.setTimeout(() => {
      if (c.session || c.done) return;
      this.reject(c, 'ESL_OUTBOUND_TIMEOUT');
    }, this.opts.handshakeTimeoutMs ?? 5000);
    real.on('data', (chunk: Buffer) => this.onData(c, chunk));
    real.on('close', () => this.onClose(c));
    // modesl creates its Connection now and writes `connect\n\n`.
    this.shim.emit('connection', guarded);
  }

  private get handshakeMaxBytes(): number { return this.opts.handshakeMaxBytes ?? DEFAULT_HANDSHAKE_MAX_BYTES; }

  private onData(c: PendingConn, chunk: Buffer): void {
    if (c.done) return;
    const handshake = !c.channel;
    if (handshake) {
      c.handshakeBytes += chunk.length;
      if (c.handshakeBytes > this.handshakeMaxBytes) { this.handshakeTooLarge(c, 'too many bytes before the channel data'); return; }
    }
    const { frames, error } = c.parser.feed(chunk);
    for (const f of frames) {
      if (c.done) return;
      this.onFrame(c, f);
    }
    if (error && !c.done) {
      if (handshake && error.code === 'ESL_FRAME_TOO_LARGE') { this.handshakeTooLarge(c, error.detail); return; }
      this.opts.metrics.error(error.code);
      this.opts.logger.error({ code: error.code, detail: error.detail, fsUuid: c.channel?.uuid }, 'bad input on outbound socket');
      this.destroyConn(c, 'bad-input');
    }
  }

  /** Something that is not FreeSWITCH's connect reply: dropped before the daemon holds more of it. */
  private handshakeTooLarge(c: PendingConn, detail: string): void {
    const code: EslErrorCode = 'ESL_OUTBOUND_HANDSHAKE_TOO_LARGE';
    this.opts.metrics.error(code);
    this.opts.logger.warn({ code, detail, limitBytes: this.handshakeMaxBytes, bytesRead: c.real.bytesRead }, 'outbound socket sent too much before its channel data');
    this.destroyConn(c, 'bad-input');
  }

  private onFrame(c: PendingConn, f: EslFrame): void {
    if (isEventFrame(f)) {
      const ev = eventFromFrame(f);
      if (!ev) {
        this.opts.metrics.error('ESL_BAD_EVENT');
        this.opts.logger.warn({ code: 'ESL_BAD_EVENT', fsUuid: c.channel?.uuid }, 'bad event on outbound socket');
        return;
      }
      // myevents filters by Unique-ID on FreeSWITCH's side; modesl's extra `event json BACKGROUND_JOB
      // CHANNEL_EXECUTE_COMPLETE` must not leak other channels' events into this session.
      const target = c.session ?? c.pre;
      if (target && ev.uuid === target.uuid) target.handleEvent(ev);
      return;
    }
    if (f.contentType === 'text/disconnect-notice') {
      if (f.headers['Content-Disposition'] === 'linger') (c.session ?? c.pre)?.handleLinger();
      return;
    }
    if (f.contentType === 'command/reply' && f.headers['Event-Name'] === 'CHANNEL_DATA' && !c.channel) {
      const channel = channelDataFromFrame(f);
      if (!channel) {
        this.reject(c, 'ESL_OUTBOUND_BAD_CHANNEL_DATA');
        return;
      }
      c.channel = channel;
      // a validated channel: its events may be as large as on the control connection
      c.parser.setLimits(this.opts.limits ?? {});
      c.pre = new OutboundSession(channel, this.link(c), {
        clock: this.opts.clock, logger: this.opts.logger.child({ fsUuid: channel.uuid }), metrics: this.opts.metrics,
        commandTimeoutMs: this.opts.commandTimeoutMs ?? 10_000, lingerCloseMs: this.opts.lingerCloseMs ?? 5000,
      });
    }
    if (f.contentType === 'command/reply' || f.contentType === 'api/response') c.guarded.feed(f);
  }

  /** modesl sent `connect` and `event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE`; fsbridge adds myevents json + linger. */
  private onModeslReady(conn: ModeslConnection): void {
    const c = conn.socket ? this.conns.get(conn.socket as GuardedSocket) : undefined;
    if (!c || c.done || !c.pre) return;
    conn.on('error', () => {});
    const link = this.link(c, conn);
    void (async () => {
      const my = await link.sendRecv('myevents json', null);
      if (c.done) return;
      const lin = await link.sendRecv('linger', null);
      if (c.done) return;
      if (!my.startsWith('+OK') || !lin.startsWith('+OK')) {
        // `linger` needs `full` in the socket app arguments (mod_event_socket.c parse_command).
        this.opts.logger.error({ myevents: my, linger: lin, fsUuid: c.pre!.uuid }, 'outbound socket refused myevents/linger (is the dialplan using "async full"?)');
        this.reject(c, 'ESL_OUTBOUND_NOT_FULL');
        return;
      }
      c.cancelHandshake();
      c.session = c.pre;
      c.pre = null;
      this.safeEmit('session', c.session!);
      c.session!.release();
    })();
  }

  private readonly links = new WeakMap<PendingConn, { conn: ModeslConnection | null; waiting: Set<(r: string) => void> }>();

  /** The session's way to send: modesl's sendRecv (one reply callback per command, FIFO). */
  private link(c: PendingConn, conn?: ModeslConnection): OutboundLink {
    let st = this.links.get(c);
    if (!st) { st = { conn: null, waiting: new Set() }; this.links.set(c, st); }
    if (conn) st.conn = conn;
    const state = st;
    return {
      // Only sendRecv is used: modesl's execute() writes with send(), which queues no reply callback,
      // so its `+OK` would be handed to the next sendRecv caller (Connection.js _doExec).
      sendRecv: (command, headers) => new Promise<string>((resolve) => {
        if (c.done || !state.conn) { resolve('-ERR not connected'); return; }
        state.waiting.add(resolve);
        state.conn.sendRecv(command, headers, (ev) => {
          state.waiting.delete(resolve);
          resolve(ev.getHeader('Reply-Text') ?? '');
        });
      }),
      close: () => this.destroyConn(c, 'local'),
    };
  }

  private reject(c: PendingConn, code: EslErrorCode): void {
    if (c.done) return;
    this.opts.metrics.error(code);
    this.opts.logger.warn({ code, fsUuid: c.channel?.uuid }, 'outbound socket dropped before its session started');
    this.destroyConn(c, 'rejected');
  }

  private onClose(c: PendingConn): void {
    this.destroyConn(c, 'peer');
  }

  /** Ends one socket. A socket that ends before its session started is counted unless already counted. */
  private destroyConn(c: PendingConn, why: 'peer' | 'local' | 'rejected' | 'shutdown' | 'bad-input'): void {
    if (c.done) return;
    c.done = true;
    if (!c.session && (why === 'peer' || why === 'local')) {
      this.opts.metrics.error('ESL_OUTBOUND_CLOSED_EARLY');
      this.opts.logger.warn({ code: 'ESL_OUTBOUND_CLOSED_EARLY', fsUuid: c.channel?.uuid }, 'outbound socket closed during handshake');
    }
    c.cancelHandshake();
    this.conns.delete(c.guarded);
    c.real.destroy();
    c.guarded.endInput();
    // One turn later, so that replies already handed to modesl settle their commands first.
    setImmediate(() => {
      const st = this.links.get(c);
      if (st) for (const w of st.waiting) w('-ERR socket closed');
      c.session?.onSocketClosed();
      c.pre?.onSocketClosed();
    });
  }
}
