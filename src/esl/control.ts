import { connect as netConnect, type Socket } from 'node:net';
import {
  FreeSwitchFailedCommandError, FreeSwitchTimeoutError, FreeSwitchNoReplyError,
} from 'esl-lite';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import { TypedEmitter } from '../typed-emitter.js';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import {
  classifyApiBody, parseExistsReply, parseGetvarReply, parseOriginateReply, parseShowChannelsJson, type EslResult,
} from './command-result.js';
import { buildCommand, isValidUuid, socketCommand, type AudioStreamMix, type BroadcastLeg } from './commands.js';
import type { EslErrorCode } from './error-codes.js';
import { CONTROL_CUSTOM_SUBCLASSES, CONTROL_EVENT_NAMES, type FsEvent } from './events.js';
import type { EslFrame, FrameParserLimits } from './frame-parser.js';
import { LiteSession, type LiteCommandOutcome } from './lite-session.js';
import { LiteTransport } from './lite-transport.js';

/** The filter that keeps bgapi results once the connection is filtered to watched channels. */
const JOB_FILTER = 'filter Event-Name BACKGROUND_JOB';

/** Options of {@link EslControl}. */
export interface EslControlOptions {
  host: string;
  port: number;
  password: string;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  backoff?: BackoffOptions;
  /** Default timeout of helper commands. Default 5000. */
  commandTimeoutMs?: number;
  /** Timeout of `originate` (the job ends only when the call is answered or fails). Default 70000. */
  originateTimeoutMs?: number;
  /** TCP connect + auth/request + `+OK accepted` must finish within this. Default 5000. */
  connectTimeoutMs?: number;
  /** Timeout of `show channels as json` after a reconnect. Default 10000. */
  reconcileTimeoutMs?: number;
  limits?: Partial<FrameParserLimits>;
}

/** Events of {@link EslControl}. */
export type EslControlEvents = {
  /** Authenticated; `reconnect` is false for the first connection. */
  connected: [{ reconnect: boolean }];
  /** An authenticated connection ended; a reconnect is scheduled unless closed or fatal. */
  disconnected: [{ code: EslErrorCode }];
  /**
   * A FreeSWITCH event: BACKGROUND_JOB, and PLAYBACK_START / PLAYBACK_STOP / CUSTOM
   * mod_audio_stream::play|json|error of the channels passed to watchChannel (of every channel
   * until the first watchChannel call; see there).
   */
  event: [FsEvent];
  /** Unrecoverable (ESL_AUTH_FAILED, ESL_ACL_REJECTED): emitted once; the control stops. */
  fatal: [{ code: EslErrorCode }];
  /** After a reconnect: the channel uuids FreeSWITCH knows; calls not listed have vanished. */
  reconciled: [{ uuids: string[] }];
};

type State = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'waiting' | 'closed' | 'fatal';

/**
 * The inbound Event Socket control connection. esl-lite's command layer runs on top of fsbridge's own
 * transport (see LiteTransport for why). Lifecycle: the constructor assigns; `start()` connects and
 * keeps reconnecting with capped jittered backoff (ESL_CONNECT_FAILED per failed attempt) until
 * `close()` or a fatal error (wrong password / ACL: `fatal` once, never retried). Every command has a
 * timeout and resolves to an {@link EslResult}; none throws or rejects.
 */
export class EslControl extends TypedEmitter<EslControlEvents> {
  private state: State = 'idle';
  private attempt = 0;
  private everConnected = false;
  private socket: Socket | null = null;
  private transport: LiteTransport | null = null;
  private session: LiteSession | null = null;
  private cancelTimer: (() => void) | null = null;
  private cancelConnectTimer: (() => void) | null = null;
  private fatalEmitted = false;
  private awaitingAuthReply = false;
  /** watchChannel counts per uuid; FreeSWITCH holds one `filter Unique-ID <uuid>` per key. */
  private readonly watched = new Map<string, number>();
  /** Set by the first watchChannel, for good: from then on the connection is filtered. */
  private filtering = false;
  private readonly random: () => number;
  /** Per-command warnings, limited (LogLimiter). */
  private readonly logs: LogLimiter;
  private readonly backoff: BackoffOptions;
  private readonly commandTimeoutMs: number;
  private readonly originateTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconcileTimeoutMs: number;
  /** Connection attempts started (for tests and status). */
  connectAttempts = 0;

  constructor(private readonly opts: EslControlOptions) {
    super();
    this.logs = new LogLimiter({ clock: opts.clock });
    this.random = opts.random ?? Math.random;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 5000;
    this.originateTimeoutMs = opts.originateTimeoutMs ?? 70_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.reconcileTimeoutMs = opts.reconcileTimeoutMs ?? 10_000;
    this.onListenerError = (err, event) => {
      this.opts.metrics.error('ESL_LISTENER_THREW');
      this.opts.logger.error({ err, event, code: 'ESL_LISTENER_THREW' }, 'esl listener threw');
    };
  }

  /** True while an authenticated connection is up. */
  get connected(): boolean { return this.state === 'ready'; }

  /** Starts connecting. Safe to call twice. */
  start(): void {
    if (this.state !== 'idle') return;
    this.openConnection();
  }

  /** Stops for good: closes the socket, cancels retries, fails pending commands with ESL_DISCONNECTED. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.teardownConnection();
    if (wasReady) this.safeEmit('disconnected', { code: 'ESL_DISCONNECTED' });
  }

  // ---------------------------------------------------------------- commands

  /**
   * Runs `bgapi <command>` and waits for its BACKGROUND_JOB, at most `timeoutMs`.
   * ok:true carries the job output (e.g. `+OK Success\n`) — check it with classifyApiBody, or use a helper.
   * Failures: ESL_NOT_CONNECTED, ESL_BAD_ARGUMENT, ESL_COMMAND_TIMEOUT, ESL_COMMAND_FAILED (bgapi refused), ESL_DISCONNECTED.
   */
  async bgapi(command: string, timeoutMs: number = this.commandTimeoutMs): Promise<EslResult<string>> {
    if (/[\r\n]/.test(command) || command.length === 0) return this.fail('ESL_BAD_ARGUMENT', 'bad command');
    const r = await this.exchange((s, liteTimeoutMs) => s.bgapi(command, liteTimeoutMs), command, timeoutMs);
    if (!r.ok) return r;
    const resp = r.outcome.body.response;
    const body = typeof resp === 'string' ? resp : '';
    return { ok: true, body, value: body };
  }

  /**
   * Lets the events of channel `uuid` reach this connection (`event`). From the first call on,
   * FreeSWITCH filters the control connection to BACKGROUND_JOB plus the watched channels
   * (`filter Event-Name BACKGROUND_JOB`, `filter Unique-ID <uuid>`; filters are ORed,
   * mod_event_socket.c event_handler), so other traffic on the switch is not even sent. Until the
   * first call nothing is filtered: every subscribed event of every channel arrives.
   * Call it before the first command that can make such an event (`audioStreamStart`,
   * `uuidBroadcast`): the filter goes through the same FIFO command queue, so it is in place before
   * that command runs. Counted: watching a uuid twice needs two unwatchChannel calls (a transferred
   * channel can come back as a new call with the same uuid before the old call has ended). Kept
   * across reconnects (re-applied before the subscription). While not connected it is only recorded.
   * Resolves with FreeSWITCH's reply (`+OK filter added. …`), or value '' when nothing had to be
   * sent; failures (ESL_BAD_ARGUMENT for a uuid that is not one, ESL_COMMAND_FAILED, …) are logged
   * and counted. Never rejects.
   */
  async watchChannel(uuid: string): Promise<EslResult<string>> {
    const line = isValidUuid(uuid) ? socketCommand.filterAdd('Unique-ID', uuid) : undefined;
    if (line === undefined) return this.fail('ESL_BAD_ARGUMENT', 'bad uuid');
    const n = this.watched.get(uuid) ?? 0;
    this.watched.set(uuid, n + 1);
    if (n > 0) return { ok: true, body: '', value: '' };
    const first = !this.filtering;
    this.filtering = true;
    if (this.state !== 'ready') return { ok: true, body: '', value: '' };
    // Queued in call order (each call enqueues before its first await): the job filter goes first.
    if (first) void this.socketCommand(JOB_FILTER);
    return this.socketCommand(line);
  }

  /**
   * Undoes one watchChannel(uuid); the last one removes FreeSWITCH's filter
   * (`filter delete Unique-ID <uuid>`). Unknown uuids are a no-op. Same results as watchChannel.
   */
  async unwatchChannel(uuid: string): Promise<EslResult<string>> {
    const n = this.watched.get(uuid);
    if (n === undefined) return { ok: true, body: '', value: '' };
    if (n > 1) {
      this.watched.set(uuid, n - 1);
      return { ok: true, body: '', value: '' };
    }
    this.watched.delete(uuid);
    const line = socketCommand.filterDelete('Unique-ID', uuid);
    if (line === undefined || this.state !== 'ready') return { ok: true, body: '', value: '' };
    return this.socketCommand(line);
  }

  /** The uuids passed to watchChannel and not yet unwatched (for status and tests). */
  get watchedChannels(): string[] { return [...this.watched.keys()]; }

  /** `uuid_answer <uuid>`. */
  uuidAnswer(uuid: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidAnswer(uuid), timeoutMs);
  }
  /** `uuid_kill <uuid> <cause>`; cause is a FreeSWITCH cause name such as NORMAL_CLEARING. */
  uuidKill(uuid: string, cause = 'NORMAL_CLEARING', timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidKill(uuid, cause), timeoutMs);
  }
  /** `uuid_broadcast <uuid> <file> <leg>`; FreeSWITCH replies `+OK Message sent`. */
  uuidBroadcast(uuid: string, file: string, leg: BroadcastLeg = 'aleg', timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidBroadcast(uuid, file, leg), timeoutMs);
  }
  /** `uuid_break <uuid> [all]`: stops playback (barge-in). */
  uuidBreak(uuid: string, all: 'all' | undefined = 'all', timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidBreak(uuid, all), timeoutMs);
  }
  /** `uuid_setvar <uuid> <name> <value>`. */
  uuidSetvar(uuid: string, name: string, value: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidSetvar(uuid, name, value), timeoutMs);
  }
  /** `uuid_getvar <uuid> <name>`; value undefined when FreeSWITCH says `_undef_`. */
  async uuidGetvar(uuid: string, name: string, timeoutMs?: number): Promise<EslResult<string | undefined>> {
    const r = await this.raw(buildCommand.uuidGetvar(uuid, name), timeoutMs);
    return r.ok ? parseGetvarReply(r.body) : r;
  }
  /** `uuid_exists <uuid>` → boolean. */
  async uuidExists(uuid: string, timeoutMs?: number): Promise<EslResult<boolean>> {
    const r = await this.raw(buildCommand.uuidExists(uuid), timeoutMs);
    return r.ok ? parseExistsReply(r.body) : r;
  }
  /** `uuid_send_dtmf <uuid> <digits>`. */
  uuidSendDtmf(uuid: string, digits: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.uuidSendDtmf(uuid, digits), timeoutMs);
  }
  /**
   * `uuid_audio_stream <uuid> start <url> <mix> <8k|16k> [metadata]`. `+OK Success` only means the
   * stream was created: a refused websocket is reported later by CUSTOM mod_audio_stream::error.
   */
  audioStreamStart(uuid: string, url: string, mix: AudioStreamMix, sampleRateHz: number, metadataJson?: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.audioStreamStart(uuid, url, mix, sampleRateHz, metadataJson), timeoutMs);
  }
  /** `uuid_audio_stream <uuid> stop` (`-ERR Operation Failed` when no stream is attached). */
  audioStreamStop(uuid: string, timeoutMs?: number): Promise<EslResult<string>> {
    return this.run(buildCommand.audioStreamStop(uuid), timeoutMs);
  }
  /** `originate <dialString> <app>` → the new channel uuid (`+OK <uuid>`). */
  async originate(dialString: string, app: string, timeoutMs: number = this.originateTimeoutMs): Promise<EslResult<string>> {
    const r = await this.raw(buildCommand.originate(dialString, app), timeoutMs);
    return r.ok ? parseOriginateReply(r.body) : r;
  }

  private async raw(cmd: string | undefined, timeoutMs?: number): Promise<EslResult<string>> {
    if (cmd === undefined) return this.fail('ESL_BAD_ARGUMENT', 'argument rejected');
    return this.bgapi(cmd, timeoutMs ?? this.commandTimeoutMs);
  }
  private async run(cmd: string | undefined, timeoutMs?: number): Promise<EslResult<string>> {
    const r = await this.raw(cmd, timeoutMs);
    return r.ok ? classifyApiBody(r.body) : r;
  }
  private fail(code: EslErrorCode, detail: string): EslResult<never> {
    this.opts.metrics.error(code);
    this.opts.logger.warn({ code, detail }, 'esl command rejected');
    return { ok: false, code, detail };
  }

  /**
   * A socket command (`event`, `filter`) on the current connection; a refusal is an error in the
   * log and the metrics (the connection stays: FreeSWITCH refuses these only for bad syntax).
   */
  private async socketCommand(line: string): Promise<EslResult<string>> {
    const r = await this.exchange((s, liteTimeoutMs) => s.command(line, liteTimeoutMs), line, this.commandTimeoutMs);
    if (!r.ok) {
      if (r.code !== 'ESL_DISCONNECTED' && r.code !== 'ESL_NOT_CONNECTED' && r.code !== 'ESL_COMMAND_TIMEOUT') {
        this.opts.metrics.error(r.code);
        this.opts.logger.error({ code: r.code, command: commandName(line), reply: r.reply }, 'esl socket command refused');
      }
      return r;
    }
    const reply = r.outcome.headers.replyText ?? '';
    return { ok: true, body: reply, value: reply };
  }

  /**
   * One esl-lite command on the current connection with a timeout from the injected clock.
   * A timeout with no command/reply at all for that long drops the connection (see below).
   */
  private async exchange(
    send: (session: LiteSession, liteTimeoutMs: number) => Promise<LiteCommandOutcome>, command: string, timeoutMs: number,
  ): Promise<{ ok: true; outcome: Exclude<LiteCommandOutcome, Error> } | Extract<EslResult<never>, { ok: false }>> {
    const session = this.session;
    const transport = this.transport;
    if (this.state !== 'ready' || !session || !transport) return { ok: false, code: 'ESL_NOT_CONNECTED' };
    let cancel: () => void = () => {};
    const timeout = new Promise<'timeout'>((resolve) => { cancel = this.opts.clock.setTimeout(() => resolve('timeout'), timeoutMs); });
    // esl-lite keeps its own (real-time) timer; give it slack so the injected clock decides.
    const outcome = await Promise.race([send(session, timeoutMs + 1000), timeout]);
    cancel();
    if (outcome === 'timeout' || outcome instanceof FreeSwitchTimeoutError) {
      this.opts.metrics.error('ESL_COMMAND_TIMEOUT');
      // one per command: under load every call's commands time out together (issue 8: at most one
      // line per 10 s, with the count suppressed since the previous one)
      const suppressed = this.logs.hit('ESL_COMMAND_TIMEOUT');
      if (suppressed !== SUPPRESSED) this.opts.logger.warn({ code: 'ESL_COMMAND_TIMEOUT', command: commandName(command), timeoutMs, suppressed }, 'esl command timed out');
      // No command/reply at all for that long means the connection is wedged: esl-lite keeps one
      // command in flight, so every later command would wait behind it. Drop and reconnect.
      const oldest = transport.unanswered[0];
      if (oldest !== undefined && this.opts.clock.nowMs() - oldest >= timeoutMs && this.transport === transport) {
        this.opts.logger.warn({ code: 'ESL_COMMAND_TIMEOUT' }, 'esl connection unresponsive, reconnecting');
        transport.end();
      }
      return { ok: false, code: 'ESL_COMMAND_TIMEOUT' };
    }
    if (outcome instanceof FreeSwitchFailedCommandError) return { ok: false, code: 'ESL_COMMAND_FAILED', reply: outcome.response };
    if (outcome instanceof FreeSwitchNoReplyError) return { ok: false, code: 'ESL_COMMAND_FAILED' };
    if (outcome instanceof Error) return { ok: false, code: 'ESL_DISCONNECTED' };
    return { ok: true, outcome };
  }

  // ---------------------------------------------------------------- connection

  private openConnection(): void {
    if (this.state === 'closed' || this.state === 'fatal') return;
    this.state = 'connecting';
    this.connectAttempts++;
    this.awaitingAuthReply = false;
    const socket = netConnect({ host: this.opts.host, port: this.opts.port });
    socket.setNoDelay(true);
    socket.on('error', () => { /* reported by the handlers below or by the close that follows */ });
    this.socket = socket;
    this.cancelConnectTimer = this.opts.clock.setTimeout(() => {
      if (this.socket !== socket) return;
      this.opts.logger.warn({ code: 'ESL_CONNECT_FAILED', reason: 'timeout' }, 'esl connect timed out');
      this.opts.metrics.error('ESL_CONNECT_FAILED');
      this.dropAndRetry();
    }, this.connectTimeoutMs);
    socket.once('connect', () => {
      if (this.socket !== socket) return;
      socket.setKeepAlive(true, 30_000);
      this.state = 'authenticating';
      const transport: LiteTransport = new LiteTransport(socket, {
        onFrame: (f: EslFrame): boolean => this.onFrame(transport, f),
        onEvent: (ev) => { if (this.transport === transport) this.safeEmit('event', ev); },
        onInputError: (code, detail) => {
          this.opts.metrics.error(code);
          this.opts.logger.error({ code, detail }, 'bad input from FreeSWITCH event socket');
        },
        onClosed: () => this.onTransportClosed(transport),
      }, () => this.opts.clock.nowMs(), this.opts.limits);
      transport.attach();
      const session = new LiteSession(transport, this.opts.password, this.opts.logger.child({ module: 'esl-lite' }, { level: 'warn' }));
      this.transport = transport;
      this.session = session;
      void session.run();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== socket || this.state !== 'connecting') return;
      this.opts.metrics.error('ESL_CONNECT_FAILED');
      this.opts.logger.warn({ code: 'ESL_CONNECT_FAILED', errno: err.code, attempt: this.attempt }, 'esl connect failed');
      this.dropAndRetry();
    });
  }

  /** Looks at every frame before esl-lite: auth outcome, rejection, disconnect notice. */
  private onFrame(transport: LiteTransport, f: EslFrame): boolean {
    if (this.transport !== transport) return false;
    switch (f.contentType) {
      case 'auth/request':
        this.awaitingAuthReply = true;
        return true;
      case 'command/reply':
        if (this.awaitingAuthReply) {
          this.awaitingAuthReply = false;
          const reply = f.headers['Reply-Text'] ?? '';
          if (reply.startsWith('+OK')) {
            this.onAuthenticated();
            return true;
          }
          this.onFatal('ESL_AUTH_FAILED');
          return false;
        }
        return true;
      case 'text/rude-rejection':
        this.onFatal('ESL_ACL_REJECTED');
        return false;
      case 'text/disconnect-notice':
        this.opts.logger.info({ state: this.state }, 'esl disconnect notice');
        return false;
      default:
        return true;
    }
  }

  private onAuthenticated(): void {
    this.cancelConnectTimer?.();
    this.cancelConnectTimer = null;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.attempt = 0;
    this.state = 'ready';
    this.subscribe();
    this.opts.logger.info({ reconnect }, 'esl connected');
    this.safeEmit('connected', { reconnect });
    if (reconnect) void this.reconcile(this.transport);
  }

  /**
   * The connection's event subscription, queued behind auth (one command in flight, FIFO) and
   * before anything the `connected` listeners send. Once filtering (see watchChannel), filters
   * first, so no unfiltered event slips through: `Event-Name BACKGROUND_JOB` keeps bgapi results
   * (BACKGROUND_JOB has no Unique-ID, and with only Unique-ID filters FreeSWITCH drops it) and keeps
   * the filter list from ever being empty again (an empty list passes every subscribed event; both
   * seen on 1.10.12, test/real/issue-8-esl-subscription.real.test.ts), then one filter per watched
   * channel. Then the one `event json` line. Filters and subscriptions die with the connection;
   * this runs on each.
   */
  private subscribe(): void {
    const lines = this.filtering
      ? [JOB_FILTER, ...[...this.watched.keys()].map((uuid) => socketCommand.filterAdd('Unique-ID', uuid))]
      : [];
    lines.push(socketCommand.subscribe(CONTROL_EVENT_NAMES, CONTROL_CUSTOM_SUBCLASSES));
    for (const line of lines) if (line !== undefined) void this.socketCommand(line);
  }

  private async reconcile(transport: LiteTransport | null): Promise<void> {
    const r = await this.bgapi(buildCommand.showChannelsJson(), this.reconcileTimeoutMs);
    if (this.transport !== transport || this.state !== 'ready') return;
    const parsed = r.ok ? parseShowChannelsJson(r.body) : r;
    if (!parsed.ok) {
      this.opts.metrics.error('ESL_RECONCILE_FAILED');
      this.opts.logger.error({ code: 'ESL_RECONCILE_FAILED', cause: parsed.code }, 'esl reconciliation failed');
      return;
    }
    this.safeEmit('reconciled', { uuids: parsed.value });
  }

  private onFatal(code: EslErrorCode): void {
    if (this.fatalEmitted || this.state === 'closed') return;
    this.fatalEmitted = true;
    this.state = 'fatal';
    this.cancelTimer?.();
    this.opts.metrics.error(code);
    this.opts.logger.fatal({ code }, 'esl fatal error, not reconnecting');
    this.teardownConnection();
    this.safeEmit('fatal', { code });
  }

  private onTransportClosed(transport: LiteTransport): void {
    if (this.transport !== transport) return;
    const wasReady = this.state === 'ready';
    this.teardownConnection();
    if (this.state === 'closed' || this.state === 'fatal') return;
    this.opts.metrics.error('ESL_DISCONNECTED');
    this.opts.logger.warn({ code: 'ESL_DISCONNECTED', wasReady }, 'esl connection lost');
    if (wasReady) this.safeEmit('disconnected', { code: 'ESL_DISCONNECTED' });
    this.scheduleRetry();
  }

  private dropAndRetry(): void {
    this.teardownConnection();
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.state === 'closed' || this.state === 'fatal') return;
    this.state = 'waiting';
    const delayMs = backoffDelayMs(this.attempt++, this.backoff, this.random);
    this.opts.logger.info({ delayMs, attempt: this.attempt }, 'esl reconnect scheduled');
    this.cancelTimer = this.opts.clock.setTimeout(() => {
      this.cancelTimer = null;
      this.openConnection();
    }, delayMs);
  }

  private teardownConnection(): void {
    this.cancelConnectTimer?.();
    this.cancelConnectTimer = null;
    const { socket, transport, session } = this;
    this.socket = null;
    this.transport = null;
    this.session = null;
    // esl-lite fails its pending commands (FreeSwitchApplicationEndedError → ESL_DISCONNECTED).
    session?.end();
    transport?.end();
    if (socket && !socket.destroyed) socket.destroy();
  }
}

function commandName(command: string): string {
  const sp = command.indexOf(' ');
  return sp < 0 ? command : command.slice(0, sp);
}
