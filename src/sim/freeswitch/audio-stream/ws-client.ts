import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../../../clock.js';
import type { Logger } from '../../../observability/logger.js';
import { buildHandshakeRequest, checkHandshakeResponse } from './handshake.js';
import { encodeClientFrame, encodeClosePayload, OPCODE, ServerFrameParser, WSC_ERROR } from './ws-frame.js';
import type { WsTarget } from './ws-url.js';

/** What the client reports to its owner. Every callback is cleared by `detach()`. */
export interface WscCallbacks {
  /** Upgraded; the CONNECTING queue has already been flushed (libwsc flushes before its open callback). */
  onOpen(): void;
  /** A complete text message (already checked to be valid UTF-8). */
  onText(text: string): void;
  /** A complete binary message. */
  onBinary(data: Buffer): void;
  /** The server closed first; the client answered with the same code and reason. */
  onDisconnect(code: number, reason: string): void;
  /** Connect/upgrade/IO/timeout/protocol failure, with libwsc's error code and text. */
  onError(code: number, message: string): void;
}

/** Options of one websocket client. */
export interface WscOptions {
  target: WsTarget;
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
  clock: Clock;
  logger: Logger;
  /** TCP connect + upgrade deadline; libwsc reports code 10 when it passes. */
  connectTimeoutMs?: number;
  /** How long a close waits for the peer's CLOSE (libwsc: 1 s). */
  closeWaitMs?: number;
  /** Messages queued while CONNECTING (libwsc: 1024, then "Send queue full" drops). */
  maxQueue?: number;
  /** Ping interval (STREAM_HEART_BEAT seconds × 1000); 0 = none. */
  heartbeatMs?: number;
  /** wss only: verify the server certificate (STREAM_TLS_CA_FILE other than NONE). */
  tlsVerify?: boolean;
  /** Above this many unsent bytes in the socket, audio is dropped rather than buffered. */
  maxBufferedBytes?: number;
}

type State = 'idle' | 'connecting' | 'open' | 'closing' | 'peer-closed' | 'closed';

// errno numbers and strerror texts on Linux, as libwsc formats "<strerror> (system error <n>)".
const ERRNO: Record<string, [number, string]> = {
  ECONNREFUSED: [111, 'Connection refused'],
  ECONNRESET: [104, 'Connection reset by peer'],
  EHOSTUNREACH: [113, 'No route to host'],
  ENETUNREACH: [101, 'Network is unreachable'],
  ETIMEDOUT: [110, 'Connection timed out'],
  EPIPE: [32, 'Broken pipe'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address'],
};

/** libwsc's text for a socket error: "Connection refused (system error 111)". */
export function systemErrorText(err: NodeJS.ErrnoException): string {
  const e = err.code !== undefined ? ERRNO[err.code] : undefined;
  if (e) return `${e[1]} (system error ${e[0]})`;
  return `${err.message} (system error ${typeof err.errno === 'number' ? Math.abs(err.errno) : 0})`;
}

/**
 * A websocket client that behaves like libwsc as mod_audio_stream uses it, written on net.Socket so
 * the bytes on the wire are the captured ones (see handshake.ts). CONNECTING and OPEN both count as
 * "connected" for sending: messages sent while CONNECTING are queued (bounded) and flushed right after
 * the upgrade, before `onOpen`. No reconnect, ever.
 */
export class WscClient {
  private state: State = 'idle';
  private socket: net.Socket | undefined;
  private cb: WscCallbacks | undefined;
  private readonly queue: Buffer[] = [];
  private handshakeBuf: Buffer = Buffer.alloc(0);
  private readonly parser = new ServerFrameParser();
  private cancelConnectTimer: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private cancelCloseTimer: (() => void) | undefined;
  private closeWaiters: Array<() => void> = [];
  /** Messages dropped because the CONNECTING queue was full or the socket was backed up. */
  dropped = 0;

  constructor(private readonly opts: WscOptions, callbacks: WscCallbacks) {
    this.cb = callbacks;
  }

  /** Opens TCP (TLS for wss) and sends the upgrade request. */
  connect(): void {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    const { target } = this.opts;
    const sock = target.secure
      ? tls.connect({ host: target.host, port: target.port, servername: target.host, rejectUnauthorized: this.opts.tlsVerify ?? true })
      : net.connect({ host: target.host, port: target.port });
    this.socket = sock;
    sock.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    sock.once(target.secure ? 'secureConnect' : 'connect', () => {
      if (this.state !== 'connecting') return;
      sock.write(buildHandshakeRequest(target, key, this.opts.extraHeaders ?? []));
    });
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    sock.on('close', () => this.onSocketClose());
    this.cancelConnectTimer = this.opts.clock.setTimeout(() => {
      if (this.state === 'connecting') this.fail(WSC_ERROR.TIMEOUT, 'Connection/handshake timeout');
    }, this.opts.connectTimeoutMs ?? 10_000);
  }

  /** True while CONNECTING or OPEN (libwsc's isConnected()), i.e. sends are accepted. */
  isConnected(): boolean {
    return this.state === 'connecting' || this.state === 'open';
  }

  /** True once upgraded and not closing. */
  isOpen(): boolean {
    return this.state === 'open';
  }

  /** Sends one binary message (FIN, masked); queued while CONNECTING. Returns false if dropped. */
  sendBinary(data: Uint8Array): boolean {
    return this.send(OPCODE.binary, data, true);
  }

  /** Sends one text message; queued while CONNECTING. Returns false if dropped. */
  sendText(text: string): boolean {
    return this.send(OPCODE.text, Buffer.from(text, 'utf8'), false);
  }

  /** Clears every callback: after this nothing is reported (the module's markCleanedUp). */
  detach(): void {
    this.cb = undefined;
  }

  /**
   * Closes with `code`/`reason` (default 1000 "Normal closure"), waits up to closeWaitMs for the
   * peer's CLOSE or TCP end, then destroys the socket. Resolves when the socket is gone. Idempotent.
   */
  close(code = 1000, reason = 'Normal closure'): Promise<void> {
    const done = new Promise<void>((resolve) => {
      if (this.state === 'closed') resolve();
      else this.closeWaiters.push(resolve);
    });
    if (this.state === 'open') {
      this.state = 'closing';
      this.writeFrame(OPCODE.close, encodeClosePayload(code, reason));
      this.armCloseTimer();
    } else if (this.state === 'connecting' || this.state === 'idle') {
      this.destroy();
    } else if (this.state === 'peer-closed') {
      this.destroy();
    }
    return done;
  }

  private send(opcode: number, payload: Uint8Array, isAudio: boolean): boolean {
    if (this.state === 'connecting') {
      if (this.queue.length >= (this.opts.maxQueue ?? 1024)) { this.dropped++; return false; }
      this.queue.push(encodeClientFrame(opcode, payload));
      return true;
    }
    if (this.state !== 'open' || !this.socket) { this.dropped++; return false; }
    if (isAudio && this.socket.writableLength > (this.opts.maxBufferedBytes ?? 4 * 1024 * 1024)) { this.dropped++; return false; }
    this.socket.write(encodeClientFrame(opcode, payload));
    return true;
  }

  private writeFrame(opcode: number, payload: Uint8Array): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(encodeClientFrame(opcode, payload));
  }

  private onData(d: Buffer): void {
    if (this.state === 'connecting') {
      this.handshakeBuf = this.handshakeBuf.length === 0 ? d : Buffer.concat([this.handshakeBuf, d]);
      const r = checkHandshakeResponse(this.handshakeBuf);
      if (r.state === 'incomplete') return;
      if (r.state === 'failed') { this.fail(WSC_ERROR.CONNECT_FAILED, 'WebSocket upgrade failed'); return; }
      this.handshakeBuf = Buffer.alloc(0);
      this.cancelConnectTimer?.();
      this.state = 'open';
      for (const f of this.queue.splice(0)) this.socket?.write(f);
      this.startHeartbeat();
      this.cb?.onOpen();
      if (r.rest.length > 0 && (this.state as State) !== 'closed') this.onFrames(r.rest);
      return;
    }
    if (this.state === 'open' || this.state === 'closing' || this.state === 'peer-closed') this.onFrames(d);
  }

  private onFrames(d: Buffer): void {
    const { frames, error } = this.parser.push(d);
    for (const f of frames) {
      if (this.state === 'closed') return;
      switch (f.type) {
        case 'text':
          if (!isUtf8(f.data)) { this.protocolError(1007, `WebSocket invalid UTF-8 (1007): invalid UTF-8 in text frame`); return; }
          if (this.state === 'open') this.cb?.onText(f.data.toString('utf8'));
          break;
        case 'binary':
          if (this.state === 'open') this.cb?.onBinary(f.data);
          break;
        case 'ping':
          this.writeFrame(OPCODE.pong, f.data);
          break;
        case 'pong':
          break;
        case 'close':
          this.onPeerClose(f.code, f.reason);
          break;
      }
    }
    if (error) this.protocolError(error.closeCode, error.message, error.errorCode);
  }

  private onPeerClose(code: number, reason: string): void {
    if (this.state === 'closing') {
      // The peer answered our CLOSE: the handshake is complete.
      this.destroy();
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'peer-closed';
    // libwsc echoes the peer's code and reason (captured: 1000 "bye", 4000 "custom reason").
    this.writeFrame(OPCODE.close, code === 1005 ? Buffer.alloc(0) : encodeClosePayload(code, reason));
    this.stopHeartbeat();
    const cb = this.cb;
    this.armCloseTimer();
    cb?.onDisconnect(code, reason);
  }

  private protocolError(closeCode: number, message: string, errorCode: number = WSC_ERROR.PROTOCOL): void {
    const cb = this.cb;
    if (this.state === 'open') {
      this.state = 'closing';
      this.writeFrame(OPCODE.close, encodeClosePayload(closeCode, ''));
      this.armCloseTimer();
    } else {
      this.destroy();
    }
    cb?.onError(errorCode, message);
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    if (this.state === 'connecting') this.fail(WSC_ERROR.CONNECT_FAILED, systemErrorText(err));
    else if (this.state === 'open') this.fail(WSC_ERROR.IO, systemErrorText(err));
    else this.destroy();
  }

  private onSocketClose(): void {
    if (this.state === 'connecting') this.fail(WSC_ERROR.CONNECT_FAILED, 'Connection closed during handshake (EOF)');
    else if (this.state === 'open') this.fail(WSC_ERROR.IO, 'Connection closed without WebSocket CLOSE (abnormal EOF)');
    else this.destroy();
  }

  private fail(code: number, message: string): void {
    const cb = this.cb;
    this.destroy();
    cb?.onError(code, message);
  }

  private armCloseTimer(): void {
    this.cancelCloseTimer?.();
    this.cancelCloseTimer = this.opts.clock.setTimeout(() => this.destroy(), this.opts.closeWaitMs ?? 1000);
  }

  private startHeartbeat(): void {
    const ms = this.opts.heartbeatMs ?? 0;
    if (ms <= 0) return;
    const tick = (): void => {
      if (this.state !== 'open') return;
      this.writeFrame(OPCODE.ping, Buffer.alloc(0));
      this.cancelHeartbeat = this.opts.clock.setTimeout(tick, ms);
    };
    this.cancelHeartbeat = this.opts.clock.setTimeout(tick, ms);
  }

  private stopHeartbeat(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = undefined;
  }

  private destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelConnectTimer?.();
    this.cancelCloseTimer?.();
    this.stopHeartbeat();
    this.queue.length = 0;
    this.socket?.destroy();
    for (const w of this.closeWaiters.splice(0)) w();
    this.opts.logger.debug({ host: this.opts.target.host, port: this.opts.target.port }, 'audio-stream websocket closed');
  }
}
