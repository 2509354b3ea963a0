import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { TypedEmitter } from '../typed-emitter.js';
import type { ChannelData } from './channel-data.js';
import type { EslResult } from './command-result.js';
import type { FsEvent } from './events.js';

/** How a session talks to its socket (implemented by OutboundSocketServer over modesl). */
export interface OutboundLink {
  /** Sends one command with headers; resolves with the `Reply-Text` of its command/reply. */
  sendRecv(command: string, headers: Record<string, string> | null): Promise<string>;
  /** Closes the socket. Idempotent. */
  close(): void;
}

/** Events of {@link OutboundSession}. */
export type OutboundSessionEvents = {
  /** Every event of this channel (myevents json). */
  event: [FsEvent];
  /** The channel hung up (first CHANNEL_HANGUP, or CHANNEL_HANGUP_COMPLETE if that came first). Once. */
  hangup: [{ cause: string; causeCode?: number }];
  /** The socket closed. Once; the last event. */
  close: [];
};

export interface ExecuteOptions {
  /** `event-lock: true`: FreeSWITCH runs the next queued message only after this one completes. */
  eventLock?: boolean;
  timeoutMs?: number;
}

// Q.850 codes of common causes (switch_channel.c CAUSE_CHART): CHANNEL_HANGUP carries only the name;
// variable_hangup_cause_q850 appears later, in CHANNEL_HANGUP_COMPLETE (captured on 1.10.12).
const Q850: Record<string, number> = {
  UNALLOCATED_NUMBER: 1, NO_ROUTE_DESTINATION: 3, NORMAL_CLEARING: 16, USER_BUSY: 17, NO_USER_RESPONSE: 18,
  NO_ANSWER: 19, CALL_REJECTED: 21, DESTINATION_OUT_OF_ORDER: 27, INVALID_NUMBER_FORMAT: 28, NORMAL_UNSPECIFIED: 31,
  NORMAL_CIRCUIT_CONGESTION: 34, NETWORK_OUT_OF_ORDER: 38, NORMAL_TEMPORARY_FAILURE: 41, SWITCH_CONGESTION: 42,
  RECOVERY_ON_TIMER_EXPIRE: 102, ORIGINATOR_CANCEL: 487,
};

/** Most events kept for a listener-less session before the oldest are dropped (bounded). */
const MAX_PENDING = 256;

/**
 * One channel controlled through FreeSWITCH's outbound socket (`socket 127.0.0.1:8084 async full`).
 * Created by OutboundSocketServer after `connect`, `myevents json` and `linger` succeeded.
 * `execute()` resolves on the CHANNEL_EXECUTE_COMPLETE whose Application-UUID is the `event-uuid` it sent,
 * with `Application-Response` as value; every command has a timeout; after `close` they resolve
 * ESL_DISCONNECTED. The session closes its socket after CHANNEL_HANGUP_COMPLETE (linger keeps FreeSWITCH
 * from closing first, so no event of the call is lost), or `lingerCloseMs` after the linger notice.
 */
export class OutboundSession extends TypedEmitter<OutboundSessionEvents> {
  readonly uuid: string;
  private closed = false;
  private hungUp = false;
  private readonly waiters = new Map<string, (r: EslResult<string>) => void>();
  private readonly cancels = new Set<() => void>();
  private held: FsEvent[] | null = [];

  constructor(
    readonly channelData: ChannelData,
    private readonly link: OutboundLink,
    private readonly deps: { clock: Clock; logger: Logger; metrics: MetricsRegistry; commandTimeoutMs: number; lingerCloseMs: number },
  ) {
    super();
    this.uuid = channelData.uuid;
    this.onListenerError = (err, event) => {
      deps.metrics.error('ESL_LISTENER_THREW');
      deps.logger.error({ err, event, code: 'ESL_LISTENER_THREW', fsUuid: this.uuid }, 'outbound session listener threw');
    };
  }

  /** A channel variable from the connect reply (`variable_<name>`), or undefined. */
  getVar(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.channelData.variables, name) ? this.channelData.variables[name] : undefined;
  }

  get isClosed(): boolean { return this.closed; }

  /**
   * Runs a dialplan application on the channel. Resolves ok:true with `Application-Response`
   * (`_none_` when the app sets none; `FILE NOT FOUND` for a missing playback file), or ok:false with
   * ESL_BAD_ARGUMENT / ESL_COMMAND_FAILED (sendmsg refused) / ESL_COMMAND_TIMEOUT / ESL_DISCONNECTED.
   */
  async execute(app: string, arg = '', opts: ExecuteOptions = {}): Promise<EslResult<string>> {
    if (!/^[A-Za-z0-9_]+$/.test(app) || /[\r\n]/.test(arg)) return { ok: false, code: 'ESL_BAD_ARGUMENT' };
    if (this.closed) return { ok: false, code: 'ESL_DISCONNECTED' };
    const eventUuid = randomUUID();
    const headers: Record<string, string> = { 'call-command': 'execute', 'execute-app-name': app };
    if (arg !== '') headers['execute-app-arg'] = arg;
    headers['event-uuid'] = eventUuid;
    if (opts.eventLock) headers['event-lock'] = 'true';
    const done = new Promise<EslResult<string>>((resolve) => this.waiters.set(eventUuid, resolve));
    const timeoutMs = opts.timeoutMs ?? this.deps.commandTimeoutMs;
    const cancel = this.deps.clock.setTimeout(() => this.settle(eventUuid, { ok: false, code: 'ESL_COMMAND_TIMEOUT' }), timeoutMs);
    this.cancels.add(cancel);
    void this.link.sendRecv('sendmsg', headers).then((reply) => {
      if (!reply.startsWith('+OK')) this.settle(eventUuid, { ok: false, code: 'ESL_COMMAND_FAILED', reply });
    });
    const r = await done;
    cancel();
    this.cancels.delete(cancel);
    if (!r.ok && r.code === 'ESL_COMMAND_TIMEOUT') {
      this.deps.metrics.error('ESL_COMMAND_TIMEOUT');
      this.deps.logger.warn({ code: 'ESL_COMMAND_TIMEOUT', app, fsUuid: this.uuid }, 'outbound execute timed out');
    }
    return r;
  }

  /** `answer`. */
  answer(timeoutMs?: number): Promise<EslResult<string>> { return this.execute('answer', '', { eventLock: true, timeoutMs }); }

  /** `playback <file>`; resolves when playback ends (Application-Response, e.g. FILE PLAYED). */
  playback(file: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.execute('playback', file, { eventLock: true, timeoutMs: timeoutMs ?? 3_600_000 });
  }

  /** `sendmsg` hangup with a cause name (default NORMAL_CLEARING); resolves on FreeSWITCH's `+OK`. */
  async hangup(causeName = 'NORMAL_CLEARING', timeoutMs?: number): Promise<EslResult<string>> {
    if (!/^[A-Z_0-9]+$/.test(causeName)) return { ok: false, code: 'ESL_BAD_ARGUMENT' };
    if (this.closed) return { ok: false, code: 'ESL_DISCONNECTED' };
    const key = `hangup:${randomUUID()}`;
    const done = new Promise<EslResult<string>>((resolve) => this.waiters.set(key, resolve));
    const cancel = this.deps.clock.setTimeout(() => this.settle(key, { ok: false, code: 'ESL_COMMAND_TIMEOUT' }), timeoutMs ?? this.deps.commandTimeoutMs);
    void this.link.sendRecv('sendmsg', { 'call-command': 'hangup', 'hangup-cause': causeName }).then((reply) => {
      this.settle(key, reply.startsWith('+OK') ? { ok: true, body: reply, value: reply } : { ok: false, code: 'ESL_COMMAND_FAILED', reply });
    });
    const r = await done;
    cancel();
    return r;
  }

  /** Closes the socket (FreeSWITCH's `socket` app then returns). Idempotent. */
  close(): void {
    this.link.close();
    this.onSocketClosed();
  }

  // ------------------------------------------------ fed by OutboundSocketServer

  /** @internal An event of this channel. Held until `release()` so the `session` listener sees them all. */
  handleEvent(ev: FsEvent): void {
    if (this.closed) return;
    if (this.held) {
      if (this.held.length >= MAX_PENDING) this.held.shift();
      this.held.push(ev);
      return;
    }
    this.dispatch(ev);
  }

  /** @internal Called right after the `session` event: replays events that came during the handshake. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const ev of held) this.dispatch(ev);
  }

  /** @internal FreeSWITCH sent the linger notice: the channel is gone; close after a grace period. */
  handleLinger(): void {
    if (this.closed) return;
    const cancel = this.deps.clock.setTimeout(() => this.close(), this.deps.lingerCloseMs);
    this.cancels.add(cancel);
  }

  /** @internal The socket is gone. */
  onSocketClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cancels) c();
    this.cancels.clear();
    for (const key of [...this.waiters.keys()]) this.settle(key, { ok: false, code: 'ESL_DISCONNECTED' });
    if (this.held) this.release();
    // No synthetic 'hangup': a socket can close while the channel lives on (fsbridge closed it, or
    // FreeSWITCH restarted); the call layer decides from 'close' (and uuid_exists if it must know).
    this.safeEmit('close');
  }

  private dispatch(ev: FsEvent): void {
    if (ev.name === 'CHANNEL_EXECUTE_COMPLETE') {
      const id = ev.headers['Application-UUID'];
      if (id) this.settle(id, { ok: true, body: ev.headers['Application-Response'] ?? '', value: ev.headers['Application-Response'] ?? '' });
    }
    this.safeEmit('event', ev);
    if ((ev.name === 'CHANNEL_HANGUP' || ev.name === 'CHANNEL_HANGUP_COMPLETE') && !this.hungUp) {
      this.hungUp = true;
      const cause = ev.headers['Hangup-Cause'] ?? 'UNKNOWN';
      const q850 = Number(ev.headers['variable_hangup_cause_q850']);
      this.safeEmit('hangup', { cause, causeCode: Number.isInteger(q850) && q850 > 0 ? q850 : Q850[cause] });
    }
    // Deferred one turn: replies that arrived in the same TCP chunk (e.g. the hangup's `+OK`) are
    // still on their way through modesl's parser and must settle their commands first.
    if (ev.name === 'CHANNEL_HANGUP_COMPLETE') setImmediate(() => this.close());
  }

  private settle(key: string, r: EslResult<string>): void {
    const w = this.waiters.get(key);
    if (!w) return;
    this.waiters.delete(key);
    w(r);
  }
}
