import { randomUUID } from 'node:crypto';
import type { Logger } from './observability/logger.js';
import { MetricsRegistry } from './observability/metrics.js';
import { systemClock, type Clock } from './clock.js';
import type { Config, DeepReadonly } from './config/schema.js';
import { FsbridgeError } from './errors.js';
import { EslControl } from './esl/control.js';
import { OutboundSocketServer } from './esl/outbound-server.js';
import type { OutboundSession } from './esl/outbound-session.js';
import type { FsEvent } from './esl/events.js';
import { MediaServer } from './media/server.js';
import { ApiServer } from './api/server.js';
import { CallManager } from './calls/call-manager.js';
import { JsonlRecordFile } from './calls/call-record.js';
import { runDialplanCall } from './calls/dialplan-call.js';
import { causeFromName } from './calls/hangup-causes.js';
import { sessionChannel } from './calls/session-channel.js';
import type { Call } from './calls/call.js';
import { MediaLeg } from './calls/media-leg.js';
import { hex32, twilioCallSid } from './bots/sids.js';
import { SipSignalling, type SipCallEnded } from './sip-signalling.js';
import type { DialResult, FreeswitchLegRequest } from './sip/outbound.js';
import type { PeerOutcome } from './calls/dialplan-call.js';

export interface DaemonOptions {
  config: DeepReadonly<Config>;
  logger: Logger;
  metrics?: MetricsRegistry;
  clock?: Clock;
}

/** Ports actually bound (useful when the configuration says port 0). */
export interface DaemonPorts {
  outboundSocket: number;
  media: number;
  api: number;
}

/** A SIP call fsbridge routed (inbound) or dialled (outbound), until FreeSWITCH's channel arrives. */
interface PendingSipCall {
  direction: 'inbound' | 'outbound';
  bot: string;
  from: string;
  to: string;
  params: Record<string, string>;
  /** Outbound: the dial's outcome. */
  peer?: () => Promise<PeerOutcome>;
  /** Outbound: the callee answered (from then on the SIP side reports the call's end). */
  answered?: boolean;
  /** Stops the wait for FreeSWITCH's socket connection of an answered outbound call. */
  cancelWait?: () => void;
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

/**
 * Wires the parts of fsbridge. Lifecycle: `start()` binds every listener and starts the ESL control
 * connection; `ready` resolves when FreeSWITCH accepted the control connection (rejects with
 * ESL_AUTH_FAILED / ESL_ACL_REJECTED, which are fatal); `close()` drains calls up to
 * calls.drainTimeoutMs, hangs up the rest, closes everything and flushes call records. close() is
 * idempotent. Testable in one process: nothing here touches `process`.
 */
export class Daemon {
  readonly metrics: MetricsRegistry;
  readonly calls: CallManager;
  readonly ready: Promise<void>;
  /** Rejects once with a fatal FsbridgeError (ESL_AUTH_FAILED ...); never resolves. */
  readonly fatal: Promise<never>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly records: JsonlRecordFile;
  private readonly control: EslControl;
  private readonly outbound: OutboundSocketServer;
  private readonly media: MediaServer;
  private readonly api: ApiServer;
  private readonly legs = new Map<string, MediaLeg>();
  private readonly sip: SipSignalling | null;
  /** SIP calls fsbridge routed or dialled, waiting for FreeSWITCH's channel (keyed by call id). */
  private readonly pending = new Map<string, PendingSipCall>();
  private readonly accountSid: string;
  private mediaUrlBase = '';
  private closing: Promise<void> | null = null;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private rejectFatal!: (e: Error) => void;
  ports: DaemonPorts = { outboundSocket: 0, media: 0, api: 0 };

  constructor(private readonly opts: DaemonOptions) {
    const cfg = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.log = opts.logger;
    this.ready = new Promise((res, rej) => { this.resolveReady = res; this.rejectReady = rej; });
    this.ready.catch(() => {});
    this.fatal = new Promise<never>((_res, rej) => { this.rejectFatal = rej; });
    this.fatal.catch(() => {});
    this.accountSid = cfg.api.twilio?.accountSid ?? 'AC' + hex32('fsbridge-account');
    this.records = new JsonlRecordFile(cfg.calls.recordFile, (err) => {
      this.metrics.error('CALL_RECORD_WRITE_FAILED');
      this.log.error({ err, code: 'CALL_RECORD_WRITE_FAILED' }, 'cannot write call record');
    });
    this.calls = new CallManager({
      maxConcurrent: cfg.calls.maxConcurrent, logger: this.log, metrics: this.metrics, clock: this.clock, records: this.records,
    });
    const esl = cfg.freeswitch.esl;
    this.control = new EslControl({
      host: esl.host, port: esl.port, password: esl.password, logger: this.log.child({ component: 'esl' }),
      metrics: this.metrics, clock: this.clock, commandTimeoutMs: esl.commandTimeoutMs,
      connectTimeoutMs: esl.connectTimeoutMs, backoff: { ...esl.reconnect },
    });
    const ob = cfg.freeswitch.outboundSocket;
    this.outbound = new OutboundSocketServer({
      host: ob.host, port: ob.port, handshakeTimeoutMs: ob.handshakeTimeoutMs, commandTimeoutMs: esl.commandTimeoutMs,
      logger: this.log.child({ component: 'outbound' }), metrics: this.metrics, clock: this.clock,
    });
    const ml = hostPort(cfg.media.listen);
    this.media = new MediaServer({
      host: ml.host, port: ml.port, maxMessageBytes: cfg.media.maxMessageBytes,
      logger: this.log.child({ component: 'media' }), metrics: this.metrics,
    });
    this.sip = cfg.drachtio
      ? new SipSignalling({
        drachtio: cfg.drachtio, trunks: cfg.trunks, routes: cfg.routes, answerTimeoutMs: cfg.calls.answerTimeoutMs,
        logger: this.log, metrics: this.metrics, clock: this.clock,
        admit: (req) => {
          if (this.calls.isDraining) return { ok: false, reason: 'draining' };
          if (this.calls.size + this.pending.size >= cfg.calls.maxConcurrent) return { ok: false, reason: 'capacity' };
          this.pending.set(req.callId, { direction: 'inbound', bot: req.bot, from: req.from, to: req.to, params: { trunk: req.trunk } });
          return { ok: true };
        },
        freeswitch: {
          originate: (r) => this.originateFreeswitchLeg(r),
          kill: (fsUuid, cause) => { void this.control.uuidKill(fsUuid, cause); },
        },
        onCallEnded: (e) => this.onSipCallEnded(e),
        onFatal: (code) => {
          const err = new FsbridgeError(code, 'drachtio-server refused the secret (drachtio.secret)');
          this.log.fatal({ code }, err.message);
          this.rejectFatal(err);
        },
      })
      : null;
    const al = hostPort(cfg.api.listen);
    this.api = new ApiServer({
      host: al.host, port: al.port, token: cfg.api.token,
      twilio: cfg.api.twilio ? { accountSid: cfg.api.twilio.accountSid, authToken: cfg.api.twilio.authToken } : undefined,
      logger: this.log.child({ component: 'api' }), metrics: this.metrics,
      backend: {
        listCalls: () => this.calls.list().map((c) => c.toJSON()),
        originate: (body) => this.originate(body),
        hangup: (id) => this.endCall(id, 'api'),
        findTwilioCall: (sid) => {
          const c = this.calls.list().find((x) => twilioCallSid(x.callId) === sid);
          return c && {
            callId: c.callId, sid, accountSid: this.accountSid, from: c.init.from, to: c.init.to,
            direction: c.init.direction, startTime: new Date(c.offeredAtMs).toISOString(),
          };
        },
        extraGet: (path) => (path === '/v1/trunks'
          ? { trunks: this.sip?.status() ?? [], drachtio: this.sip ? (this.sip.connected ? 'connected' : 'disconnected') : 'not configured' }
          : undefined),
        ready: () => ({
          ready: this.control.connected && !this.calls.isDraining,
          detail: { esl: this.control.connected ? 'connected' : 'disconnected', calls: this.calls.size, draining: this.calls.isDraining },
        }),
      },
    });
  }

  /** Binds the listeners, then starts the ESL control connection. */
  async start(): Promise<DaemonPorts> {
    const cfg = this.opts.config;
    this.control.on('connected', ({ reconnect }) => {
      this.metrics.gauge('fsbridge_esl_connected', 'ESL control connection up (1) or down (0)').set(1);
      this.log.info({ reconnect }, 'esl control connected');
      this.resolveReady();
    });
    this.control.on('disconnected', ({ code }) => {
      this.metrics.gauge('fsbridge_esl_connected', 'ESL control connection up (1) or down (0)').set(0);
      this.metrics.counter('fsbridge_esl_disconnects_total', 'ESL control connection losses').inc();
      this.log.warn({ code }, 'esl control disconnected');
    });
    this.control.on('fatal', ({ code }) => {
      const err = new FsbridgeError(code, code === 'ESL_AUTH_FAILED'
        ? 'FreeSWITCH refused the ESL password (freeswitch.esl.password)'
        : 'FreeSWITCH refused the ESL connection');
      this.log.fatal({ code }, err.message);
      this.rejectReady(err);
      this.rejectFatal(err);
    });
    this.control.on('event', (ev) => this.onControlEvent(ev));
    this.control.on('reconciled', ({ uuids }) => this.reconcile(uuids));
    this.outbound.on('session', (s) => this.onSession(s));
    // A SIP call whose fsbridge call ended (FreeSWITCH lost, bot or API hang-up) must not leave its
    // trunk leg up: BYE it (a no-op when the SIP side ended first). A channel that left fsbridge's
    // control alive (transferred) keeps its SIP legs: the caller talks to the transfer target.
    this.calls.on('call', (c) => c.once('ended', (rec) => {
      if (rec.result === 'transferred' || rec.errorCode === 'CALL_CHANNEL_LEFT') return;
      this.sip?.hangup(c.callId, rec.cause);
    }));

    const m = await this.media.listen();
    this.ports.media = m.port;
    const adv = cfg.media.advertise;
    this.mediaUrlBase = `ws://${hostPort(adv).port === 0 ? `${m.host}:${m.port}` : adv}`;
    this.ports.outboundSocket = (await this.outbound.listen()).port;
    await this.api.listen();
    this.ports.api = this.api.port;
    this.control.start();
    this.sip?.start();
    this.log.info({ ports: this.ports }, 'listeners bound');
    return this.ports;
  }

  /** Ends a live call by id (HTTP API). */
  async endCall(callId: string, endedBy: 'api' | 'shutdown'): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call) return false;
    return call.end(endedBy, endedBy === 'shutdown' ? 'SYSTEM_SHUTDOWN' : 'NORMAL_CLEARING');
  }

  /** Drains and stops. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const cfg = this.opts.config;
    this.calls.startDraining();
    this.log.info({ calls: this.calls.size, drainTimeoutMs: cfg.calls.drainTimeoutMs }, 'draining');
    if (!(await this.calls.waitIdle(cfg.calls.drainTimeoutMs))) {
      for (const c of this.calls.list()) void c.end('shutdown', 'SYSTEM_SHUTDOWN');
      await this.calls.waitIdle(3000);
      // Calls whose channel never reported its end still get their record.
      for (const c of this.calls.list()) c.finish(causeFromName('SYSTEM_SHUTDOWN'));
    }
    await this.sip?.close();
    // SIP calls still waiting for FreeSWITCH's channel get their record (and their timers stop).
    for (const [id, p] of [...this.pending]) this.recordPendingEnd(id, p, 'fsbridge', 'SYSTEM_SHUTDOWN', {});
    await this.api.close();
    await this.outbound.close();
    await this.media.close();
    this.control.close();
    await this.records.flush();
    this.log.info('stopped');
  }

  private onSession(s: OutboundSession): void {
    const channel = sessionChannel(s, this.control);
    const varNames = Object.keys(s.channelData.variables);
    // A SIP call fsbridge routed or dialled comes back (the `fsbridge` dialplan context, or the
    // originate of an outbound call) with its call id; anything else is a dialplan-triggered call.
    const sipCallId = s.getVar('fsbridge_call_id') ?? s.getVar('sip_h_X-Fsbridge-Call');
    const p = sipCallId ? this.pending.get(sipCallId) : undefined;
    if (sipCallId && !p) {
      // Its call already ended (or never was fsbridge's): it has its record; let the channel go.
      this.metrics.error('CALL_STALE_SESSION');
      this.log.warn({ code: 'CALL_STALE_SESSION', callId: sipCallId, fsUuid: s.uuid }, 'socket connection for a call that is not pending');
      void s.hangup('NORMAL_CLEARING').finally(() => s.close());
      return;
    }
    if (sipCallId && p) { this.pending.delete(sipCallId); p.cancelWait?.(); }
    void runDialplanCall(channel, varNames, {
      calls: this.calls,
      logger: this.log,
      metrics: this.metrics,
      hasBot: (name) => Object.prototype.hasOwnProperty.call(this.opts.config.bots, name),
      makeBotLeg: (call) => this.makeLeg(call),
    }, p && sipCallId ? {
      callId: sipCallId, direction: p.direction, bot: p.bot, params: p.params, from: p.from, to: p.to, waitForPeer: p.peer,
    } : {}).catch((err) => {
      this.log.error({ err, fsUuid: s.uuid }, 'call flow failed');
    });
  }

  /**
   * `POST /v1/calls`: dials out through a trunk and connects the bot when the callee answers.
   * Resolves when the dial has a result (answered, busy, no-answer, rejected, failed).
   */
  private async originate(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const cfg = this.opts.config;
    const b = (body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof b[k] === 'string' && (b[k] as string).length > 0 ? (b[k] as string) : undefined);
    const to = str('to');
    const trunk = str('trunk');
    const bot = str('bot');
    const problems: string[] = [];
    if (!to || !/^\+?[0-9*#]{1,32}$/.test(to)) problems.push('to: expected a dialled number');
    if (!trunk || !cfg.trunks.some((t) => t.name === trunk)) problems.push('trunk: expected the name of a configured trunk');
    if (!bot || !Object.prototype.hasOwnProperty.call(cfg.bots, bot)) problems.push('bot: expected the name of a configured bot');
    const timeoutSec = b.timeoutSec === undefined ? 30 : Number(b.timeoutSec);
    if (!Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > 300) problems.push('timeoutSec: expected an integer from 1 to 300');
    const params: Record<string, string> = {};
    if (b.params !== undefined) {
      if (typeof b.params !== 'object' || b.params === null || Array.isArray(b.params)) problems.push('params: expected an object of strings');
      else for (const [k, v] of Object.entries(b.params)) if (typeof v === 'string') params[k] = v; else problems.push(`params.${k}: expected a string`);
    }
    if (!this.sip) problems.push('drachtio: not configured, so fsbridge cannot place SIP calls');
    if (problems.length) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems } } };
    if (this.calls.isDraining) return { status: 503, body: { error: { code: 'CALL_DRAINING' } } };
    const callId = randomUUID();
    let settle!: (o: PeerOutcome) => void;
    const peer = new Promise<PeerOutcome>((r) => { settle = r; });
    const from = str('from');
    const pending: PendingSipCall = { direction: 'outbound', bot: bot!, from: from ?? '', to: to!, params, peer: () => peer };
    this.pending.set(callId, pending);
    const r: DialResult = await this.sip!.dial({ callId, to: to!, from, trunk: trunk!, timeoutSec });
    if (r.result === 'answered') {
      settle({ ok: true });
      if (this.pending.get(callId) === pending) {
        // FreeSWITCH now runs `socket`; if its connection never comes (fsbridge_outbound_socket
        // wrong or unreachable), both legs are hung up and the call still gets its record.
        pending.answered = true;
        pending.cancelWait = this.clock.setTimeout(() => {
          if (this.pending.get(callId) !== pending) return;
          this.sip?.hangup(callId, 'NORMAL_TEMPORARY_FAILURE');
          void this.control.uuidKill(r.fsUuid, 'NORMAL_TEMPORARY_FAILURE');
          this.recordPendingEnd(callId, pending, 'fsbridge', 'NORMAL_TEMPORARY_FAILURE', { code: 'CALL_SOCKET_NOT_REACHED', result: 'answered' });
        }, cfg.freeswitch.outboundSocket.handshakeTimeoutMs);
      }
    } else {
      settle({
        ok: false, endedBy: r.result === 'failed' ? 'fsbridge' : 'callee', cause: r.cause,
        sipStatus: r.sipStatus, result: r.result, errorCode: r.code,
      });
      // FreeSWITCH's leg never reached fsbridge: the call leaves its record here.
      if (this.pending.get(callId) === pending) {
        this.recordPendingEnd(callId, pending, r.result === 'failed' ? 'fsbridge' : 'callee', r.cause, { sipStatus: r.sipStatus, result: r.result, code: r.code });
      }
    }
    const out: Record<string, unknown> = { callId, result: r.result };
    if (r.result !== 'answered') Object.assign(out, { sipStatus: r.sipStatus, cause: r.cause, ...(r.code ? { code: r.code } : {}) });
    return { status: 200, body: out };
  }

  /**
   * The SIP side of a call ended. Before FreeSWITCH's channel reached fsbridge the call is
   * recorded here; after, the fsbridge call is ended (its FreeSWITCH channel hung up, the bot
   * released), unless FreeSWITCH's own leg ended it (its channel reports that itself).
   */
  private onSipCallEnded(e: SipCallEnded): void {
    const p = this.pending.get(e.callId);
    if (p) {
      if (p.direction === 'outbound' && !p.answered) return; // the dial's result records it
      const endedBy = e.code ? 'fsbridge' : e.by;
      this.recordPendingEnd(e.callId, p, endedBy, e.cause, {
        // FreeSWITCH hung up an answered outbound call before its socket reached fsbridge
        sipStatus: e.sipStatus, code: e.code ?? (p.answered && e.by === 'freeswitch' ? 'CALL_SOCKET_NOT_REACHED' : undefined),
        result: p.answered ? 'answered' : undefined,
      });
      return;
    }
    const call = this.calls.get(e.callId);
    if (!call || !call.live || e.by === 'freeswitch') return;
    void call.end(e.by === 'fsbridge' ? 'fsbridge' : e.by, e.cause, e.code);
  }

  /** The one record of a SIP call whose FreeSWITCH channel never reached fsbridge. */
  private recordPendingEnd(
    callId: string, p: PendingSipCall, endedBy: 'caller' | 'callee' | 'freeswitch' | 'fsbridge', cause: string,
    extra: { sipStatus?: number; result?: string; code?: string },
  ): void {
    this.pending.delete(callId);
    p.cancelWait?.();
    if (extra.code === 'CALL_SOCKET_NOT_REACHED') {
      this.metrics.error(extra.code);
      this.log.warn({ code: extra.code, callId }, 'answered outbound call never reached the outbound socket (check fsbridge_outbound_socket)');
    }
    this.calls.recordUnconnected(
      { callId, fsUuid: '', direction: p.direction, bot: p.bot, from: p.from, to: p.to, params: p.params }, endedBy, cause, extra,
    );
  }

  /**
   * FreeSWITCH's leg of an outbound call: `originate` through the `fsbridge` profile to
   * drachtio-server, running `socket ${fsbridge_outbound_socket} async full` once answered (the
   * same global variable the dialplans use). Resolves when FreeSWITCH is done with the originate.
   */
  private async originateFreeswitchLeg(r: FreeswitchLegRequest): Promise<{ ok: true } | { ok: false; cause: string }> {
    const vars = [
      `origination_uuid=${r.fsUuid}`, `fsbridge_call_id=${r.callId}`, `sip_h_X-Fsbridge-Call=${r.callId}`,
      `origination_caller_id_number=${r.from}`, `originate_timeout=${r.timeoutSec}`,
    ];
    const res = await this.control.originate(`{${vars.join(',')}}sofia/fsbridge/${r.uri}`,
      '&socket(${fsbridge_outbound_socket} async full)', (r.timeoutSec + 10) * 1000);
    if (res.ok) return { ok: true };
    const cause = /^-ERR ([A-Z_]+)/.exec(res.reply ?? '')?.[1] ?? 'NORMAL_TEMPORARY_FAILURE';
    return { ok: false, cause };
  }

  private makeLeg(call: Call): MediaLeg {
    const cfg = this.opts.config;
    const botName = call.init.bot ?? '';
    const leg = new MediaLeg({
      info: {
        callId: call.callId, fsUuid: call.fsUuid, from: call.init.from, to: call.init.to,
        direction: call.init.direction, params: { ...call.init.params }, accountSid: this.accountSid,
      },
      botName, bot: cfg.bots[botName], control: this.control, media: this.media, mediaUrlBase: this.mediaUrlBase,
      fsSampleRateHz: cfg.freeswitch.sampleRate, playback: cfg.freeswitch.playback,
      segmentMs: cfg.media.segmentMs, playoutBufferMs: cfg.media.playoutBufferMs,
      clock: this.clock, logger: call.logger, metrics: this.metrics,
    });
    this.legs.set(call.fsUuid, leg);
    // a transferred channel can come back as a new call with the same uuid: remove only our own leg
    call.on('ended', () => { if (this.legs.get(call.fsUuid) === leg) this.legs.delete(call.fsUuid); });
    return leg;
  }

  private onControlEvent(ev: FsEvent): void {
    if (!ev.uuid) return;
    this.legs.get(ev.uuid)?.onFsEvent(ev);
  }

  /** After an ESL reconnect: calls whose channel FreeSWITCH no longer knows are ended. */
  private reconcile(uuids: string[]): void {
    const live = new Set(uuids);
    for (const c of this.calls.list()) {
      if (live.has(c.fsUuid)) continue;
      this.metrics.error('CALL_CHANNEL_VANISHED');
      c.logger.warn({ code: 'CALL_CHANNEL_VANISHED' }, 'channel gone after reconnect');
      c.beginEnding('freeswitch', 'NORMAL_TEMPORARY_FAILURE', 'CALL_CHANNEL_VANISHED');
      void this.legs.get(c.fsUuid)?.stop().catch(() => {});
      c.finish(causeFromName('NORMAL_TEMPORARY_FAILURE'));
    }
  }
}
