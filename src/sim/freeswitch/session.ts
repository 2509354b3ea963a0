import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Logger } from '../../observability/logger.js';
import { openPlayback, wavBytes } from './audio-source.js';
import { Channel } from './channel.js';
import { HANGUP_CAUSES, parseHangupCause, type CallState, type ChannelState } from './channel-state.js';
import { ChannelMedia } from './channel-media.js';
import { expandVariables, type DialplanAction } from './dialplan.js';
import { planDtmf } from './dtmf.js';
import type { EventHeader } from './event.js';
import { fsLocalStamp, SRC, type EventSource } from './event-factory.js';

/** A queued private message (sendmsg, uuid_broadcast): its own headers and optional body. */
export interface PrivateMessage {
  /** Headers as they will be repeated at the start of PRIVATE_COMMAND. */
  readonly headers: readonly EventHeader[];
  readonly body?: string;
}

/** What a session needs from the switch core. */
export interface SessionHost {
  readonly logger: Logger;
  fireChannelEvent(session: Session, name: string, src: EventSource, opts?: FireOpts): void;
  /** Whether an application other than the session's built-ins exists. */
  hasApplication(app: string): boolean;
  /** Runs one application (other than the built-ins of the session). */
  runApplication(session: Session, app: string, data: string): Promise<void>;
  /** Dialplan hunt for this session; undefined = no route. */
  hunt(session: Session): DialplanAction[] | undefined;
  /** The channel is gone (after CHANNEL_DESTROY). */
  destroyed(session: Session): void;
  /** The channel hung up and reached CS_HANGUP (media bugs are removed here). */
  hangingUp(session: Session): void;
  /** CHANNEL_HANGUP_COMPLETE was fired. */
  hangupComplete(session: Session): void;
  readonly clockNowUs: () => number;
  /** Calls cb after ms on the switch clock. */
  sleepMs(ms: number, cb: () => void): void;
  /** A global variable (fallback of channel variable lookups). */
  globalVar(name: string): string | undefined;
}

/** Options of one fired channel event. */
export interface FireOpts {
  /** Include variable_* (switch_channel_event_set_extended_data). Default true. */
  extended?: boolean;
  /** Headers placed before the channel data (e.g. Original-Channel-Call-State). */
  before?: EventHeader[];
  /** Headers placed after the channel data (e.g. Application). */
  after?: EventHeader[];
  body?: string;
  subclass?: string;
  /** Replaces the Event-Name of the prologue (PRIVATE_COMMAND repeats the message headers first). */
  lead?: EventHeader[];
}

/** Outcome of waiting on something while the channel may hang up. */
const HANGUP: unique symbol = Symbol('hangup');

/**
 * One simulated channel and its thread: state changes with their events, the application runner,
 * parking with a private-message queue, answer/pre-answer (loopback legs answer together) and the
 * hang-up cascade CHANNEL_HANGUP → ... → CHANNEL_HANGUP_COMPLETE → CHANNEL_DESTROY.
 */
export class Session {
  readonly media: ChannelMedia;
  private readonly messages: PrivateMessage[] = [];
  private messageWaiter: (() => void) | undefined;
  private hangupResolve!: () => void;
  /** Resolves when the channel starts hanging up. */
  readonly hungUp: Promise<void>;
  private doneResolve!: () => void;
  /** Resolves after CHANNEL_DESTROY. */
  readonly done: Promise<void>;
  /** Parked under control of an outbound socket (CF_CONTROLLED). */
  controlled = false;
  private releaseControl: (() => void) | undefined;
  /** True while the park loop runs. */
  parked = false;
  /** Set by the outbound socket's `resume` (dialplan continues after the socket ends). */
  resume = false;
  /** Set by transfer / uuid_transfer: the channel routes again to this extension. */
  pendingTransfer: { exten: string; context: string } | undefined;
  private answeredResolve!: () => void;
  /** Resolves when the channel is answered. */
  readonly answeredSignal: Promise<void>;
  private finalized = false;
  /** Set by the sofia endpoint: answer() pre-answers first, as a SIP channel does. */
  preAnswerFirst = false;

  constructor(readonly channel: Channel, private readonly host: SessionHost, media: ChannelMedia) {
    this.media = media;
    this.hungUp = new Promise((r) => { this.hangupResolve = r; });
    this.done = new Promise((r) => { this.doneResolve = r; });
    this.answeredSignal = new Promise((r) => { this.answeredResolve = r; });
  }

  get uuid(): string { return this.channel.uuid; }
  get isHungUp(): boolean { return this.channel.hangupCause !== undefined; }

  fire(name: string, src: EventSource, opts?: FireOpts): void {
    this.host.fireChannelEvent(this, name, src, opts);
  }

  /** switch_channel_perform_set_running_state: fires CHANNEL_STATE (no variables). */
  setRunningState(st: ChannelState, requested: ChannelState = st): void {
    this.channel.state = requested;
    this.channel.runningState = st;
    this.fire('CHANNEL_STATE', SRC.runningState, { extended: false });
  }

  /** switch_channel_perform_set_callstate: fires CHANNEL_CALLSTATE. */
  setCallState(cs: CallState): void {
    const prev = this.channel.callState;
    if (prev === cs) return;
    this.channel.callState = cs;
    this.fire('CHANNEL_CALLSTATE', SRC.callstate, {
      extended: false,
      before: [['Original-Channel-Call-State', prev], ['Channel-Call-State-Number', String(this.channel.callStateNumber())]],
    });
  }

  expand(s: string): string {
    return expandVariables(s, (n) => this.getVar(n));
  }

  /** A variable or a caller-profile field the way `${...}` resolves it. */
  getVar(n: string): string | undefined {
    const v = this.channel.getVar(n);
    if (v !== undefined) return v;
    const p = this.channel.profile;
    switch (n) {
      case 'destination_number': return p.destinationNumber;
      case 'caller_id_number': return p.callerIdNumber;
      case 'caller_id_name': return p.callerIdName;
      case 'context': return p.context;
      case 'uuid': return this.uuid;
      default: return this.host.globalVar(n);
    }
  }

  /** Marks the channel answered; a loopback peer is answered first (captured order). */
  answer(): void {
    const ch = this.channel;
    if (ch.answered || this.isHungUp) return;
    // A sofia channel negotiates media first: CHANNEL_PROGRESS_MEDIA precedes CHANNEL_ANSWER (captured).
    if (this.preAnswerFirst && !ch.mediaUp) this.preAnswer();
    const peer = this.peerSession;
    if (peer && !peer.channel.answered && !peer.isHungUp) peer.markAnswered();
    this.markAnswered();
    if (peer && peer.channel.direction === 'outbound' && ch.getVar('loopback_leg') === 'B') peer.flipCid();
    this.setCallState('ACTIVE');
  }

  /** Peer session (the other loopback leg), set by the core. */
  peerSession: Session | undefined;

  /** DTMF digits this channel read, for digits_dialed. */
  private digitsRead = '';

  /** Set by an endpoint that sends DTMF out itself (sofia: RFC 4733 to the far end). */
  dtmfOut: ((digit: string, durationSamples: number) => void) | undefined;

  /**
   * switch_core_session_send_dtmf_string (uuid_send_dtmf): the endpoint sends the digits. A
   * loopback leg queues them on the other leg, which fires DTMF when it reads them (so the event
   * belongs to the peer, with DTMF-Source UNKNOWN); sofia sends them to the far end, no event.
   * Sets last_dtmf_duration on this channel. Returns whether a digit was sent.
   */
  sendDtmf(dtmfString: string): boolean {
    const plan = planDtmf(dtmfString);
    if (plan.digits.length > 0 && !this.channel.mediaUp) this.preAnswer();
    for (const { digit, durationSamples } of plan.digits) {
      if (this.dtmfOut) this.dtmfOut(digit, durationSamples);
      else this.peerSession?.receiveDtmf(digit, durationSamples, 'UNKNOWN');
    }
    if (plan.lastDurationMs !== undefined) this.channel.setVar('last_dtmf_duration', String(plan.lastDurationMs));
    return plan.digits.length > 0;
  }

  /** A DTMF digit read by this channel: switch_channel_dequeue_dtmf fires DTMF (no variables). */
  receiveDtmf(digit: string, durationSamples: number, source: string): void {
    if (this.isHungUp) return;
    // digits_dialed of the CDR variables: what the channel read (bounded).
    if (this.digitsRead.length < 256) this.digitsRead += digit;
    this.fire('DTMF', SRC.dtmf, {
      extended: false,
      after: [['DTMF-Digit', digit], ['DTMF-Duration', String(durationSamples)], ['DTMF-Source', source]],
    });
  }

  private markAnswered(): void {
    const ch = this.channel;
    if (ch.answered) return;
    ch.answeredUs = this.host.clockNowUs();
    ch.answerState = 'answered';
    this.fire('CHANNEL_ANSWER', SRC.answer);
    // switch_channel_perform_mark_answered sets it after firing CHANNEL_ANSWER, on both loopback
    // legs (differential test: present from the next event on, absent from CHANNEL_ANSWER itself).
    ch.setVar('endpoint_disposition', 'ANSWER');
    this.media.start();
    this.answeredResolve();
    if (ch.direction === 'outbound') {
      ch.hitDialplan = true;
      this.setCallState('ACTIVE');
    }
  }

  /** switch_channel_flip_cid on the A leg after answer: CALL_UPDATE. */
  private flipCid(): void {
    const p = this.channel.profile;
    this.channel.setVar('pre_transfer_caller_id_number', p.callerIdNumber);
    this.channel.setVar('channel_cid_flipped', 'yes');
    this.channel.setVar('call_uuid', this.uuid);
    const name = p.calleeIdName;
    const num = p.calleeIdNumber;
    p.calleeIdName = p.callerIdName;
    p.calleeIdNumber = p.callerIdNumber;
    p.callerIdName = name;
    p.callerIdNumber = num;
    this.fire('CALL_UPDATE', SRC.callUpdate, { before: [['Direction', 'RECV']] });
  }

  /** Pre-answer (early media): CHANNEL_PROGRESS_MEDIA, media clock starts. */
  preAnswer(): void {
    const ch = this.channel;
    if (ch.answered || ch.progressMediaUs > 0 || this.isHungUp) return;
    ch.progressMediaUs = this.host.clockNowUs();
    ch.answerState = 'early';
    this.fire('CHANNEL_PROGRESS_MEDIA', SRC.preAnswer);
    this.setCallState('EARLY');
    this.media.start();
    const peer = this.peerSession;
    if (peer && !peer.channel.answered && peer.channel.progressMediaUs === 0) peer.preAnswer();
  }

  /** switch_channel_perform_hangup: CHANNEL_HANGUP now; the session thread finishes the cascade. */
  hangup(causeName = 'NORMAL_CLEARING'): void {
    const ch = this.channel;
    if (ch.hangupCause !== undefined || this.finalized) return;
    const cause = parseHangupCause(causeName) ?? 'NORMAL_CLEARING';
    ch.hangupCause = cause;
    ch.state = 'CS_HANGUP';
    ch.answerState = 'hangup';
    ch.hangupUs = this.host.clockNowUs();
    this.fire('CHANNEL_HANGUP', SRC.hangup);
    this.media.stop();
    this.hangupResolve();
    this.messageWaiter?.();
  }

  /** Waits for p unless the channel hangs up first. */
  async orHangup<T>(p: Promise<T>): Promise<T | typeof HANGUP> {
    if (this.isHungUp) return HANGUP;
    const h: Promise<typeof HANGUP> = this.hungUp.then(() => HANGUP);
    return Promise.race<T | typeof HANGUP>([p, h]);
  }

  /** Queues a private message (sendmsg to a parked/async channel, uuid_broadcast). */
  queueMessage(msg: PrivateMessage): void {
    if (this.messages.length >= 1000) return;
    this.messages.push(msg);
    this.messageWaiter?.();
  }

  /** uuid_break all: drops queued messages. */
  clearMessages(): void { this.messages.length = 0; }

  /** Processes every queued message now (between applications). */
  async drainMessages(): Promise<void> {
    for (let n = 0; n < 1000 && this.messages.length > 0 && !this.isHungUp; n++) {
      const msg = this.messages.shift();
      if (msg) await this.processMessage(msg);
    }
  }

  /** switch_ivr_parse_event: execute / hangup / unicast (ignored) / nomedia (ignored). */
  async processMessage(msg: PrivateMessage, firePrivateCommand = true): Promise<void> {
    const get = (n: string): string | undefined => {
      const l = n.toLowerCase();
      for (const [k, v] of msg.headers) if (k.toLowerCase() === l) return v;
      return undefined;
    };
    const cmd = (get('call-command') ?? '').toLowerCase();
    if (cmd === 'execute') {
      const app = get('execute-app-name') ?? '';
      let arg = get('execute-app-arg');
      if (arg === undefined && (get('content-type') ?? '').toLowerCase() === 'text/plain' && msg.body !== undefined) arg = msg.body;
      const loopsRaw = Number(get('loops') ?? '1');
      const loops = Number.isFinite(loopsRaw) && loopsRaw !== 0 ? loopsRaw : 1;
      const appUuid = get('event-uuid');
      // switch_ivr_parse_event numbers the loops in current_loop/total_loops while the application
      // runs and removes both afterwards (differential test: present in a uuid_broadcast playback's
      // events, gone by the next event; never set by a dialplan playback).
      for (let i = 0; (loops < 0 || i < loops) && i < 100000 && !this.isHungUp; i++) {
        this.channel.setVar('current_loop', String(i + 1));
        this.channel.setVar('total_loops', String(loops));
        await this.execute(app, arg ?? '', appUuid);
      }
      this.channel.setVar('current_loop', undefined);
      this.channel.setVar('total_loops', undefined);
    } else if (cmd === 'hangup') {
      this.hangup(get('hangup-cause') ?? 'NORMAL_CLEARING');
    }
    if (firePrivateCommand) this.fire('PRIVATE_COMMAND', SRC.privateCommand, { extended: false, lead: [...msg.headers] });
  }

  /**
   * switch_core_session_exec: CHANNEL_EXECUTE, the application, CHANNEL_EXECUTE_COMPLETE with
   * Application-Response = current_application_response or `_none_`. Unknown applications hang
   * the channel up (DESTINATION_OUT_OF_ORDER) without CHANNEL_EXECUTE.
   */
  async execute(app: string, rawData: string, appUuid?: string): Promise<void> {
    if (this.isHungUp) return;
    const data = this.expand(rawData);
    const known = BUILTIN_APPS.has(app);
    if (!known && !this.host.hasApplication(app)) {
      // switch_core_session_execute_application: "Invalid Application", no events, hang-up.
      this.host.logger.warn({ app }, 'sim freeswitch: invalid application');
      this.hangup('DESTINATION_OUT_OF_ORDER');
      return;
    }
    const ch = this.channel;
    // Each application starts without the previous one's response (differential test: a park
    // after a playback completes with _none_, not FILE PLAYED).
    ch.setVar('current_application_response', undefined);
    ch.setVar('current_application_data', data === '' ? undefined : data);
    ch.setVar('current_application', app);
    const uuid = appUuid ?? randomUUID();
    const appHeaders: EventHeader[] = [['Application', app]];
    if (data !== '') appHeaders.push(['Application-Data', data]);
    this.fire('CHANNEL_EXECUTE', SRC.execute, { after: [...appHeaders, ['Application-UUID', uuid]] });
    await (known ? this.runBuiltin(app, data) : this.host.runApplication(this, app, data));
    const resp = ch.getVar('current_application_response') ?? '_none_';
    this.fire('CHANNEL_EXECUTE_COMPLETE', SRC.executeComplete, {
      after: [...appHeaders, ['Application-Response', resp], ['Application-UUID', uuid]],
    });
  }

  private async runBuiltin(app: string, data: string): Promise<void> {
    const ch = this.channel;
    switch (app) {
      case 'answer': this.answer(); return;
      case 'pre_answer': this.preAnswer(); return;
      case 'ring_ready': return;
      case 'log': case 'info': case 'event': return;
      case 'set': case 'export': {
        const eq = data.indexOf('=');
        const name = eq < 0 ? data : data.slice(0, eq);
        const value = eq < 0 ? undefined : data.slice(eq + 1);
        if (name.startsWith('nolocal:')) return;
        ch.setVar(name, value);
        if (app === 'export' && this.peerSession) this.peerSession.channel.setVar(name, value);
        return;
      }
      case 'unset': ch.setVar(data, undefined); return;
      case 'hangup': this.hangup(data || 'NORMAL_CLEARING'); return;
      case 'sleep': {
        const ms = Number(data) || 0;
        await this.orHangup(new Promise<void>((r) => { this.host.sleepMs(ms, r); }));
        return;
      }
      case 'park': await this.park(); return;
      case 'playback': await this.playback(data); return;
      case 'break': this.media.breakPlayback(); return;
      case 'transfer': {
        const [exten, , context] = data.trim().split(/\s+/);
        if (exten) this.transfer(exten, context ?? this.channel.profile.context);
        return;
      }
      default: return;
    }
  }

  /**
   * switch_ivr_park: CHANNEL_PARK, then queued messages are executed until the channel hangs up
   * or (socket control) the controlling socket releases it; CHANNEL_UNPARK at the end.
   */
  async park(controlled = false): Promise<void> {
    if (this.isHungUp) return;
    this.parked = true;
    this.controlled = controlled;
    const released = new Promise<void>((r) => { this.releaseControl = r; });
    this.fire('CHANNEL_PARK', SRC.park);
    for (let guard = 0; guard < 1_000_000 && !this.isHungUp; guard++) {
      if ((controlled && !this.controlled) || this.pendingTransfer) break;
      const msg = this.messages.shift();
      if (msg) { await this.processMessage(msg); continue; }
      const waitMsg = new Promise<void>((r) => { this.messageWaiter = r; });
      const r = await this.orHangup(Promise.race([waitMsg, controlled ? released : new Promise<void>(() => {})]));
      this.messageWaiter = undefined;
      if (r === HANGUP) break;
    }
    this.parked = false;
    this.controlled = false;
    this.fire('CHANNEL_UNPARK', SRC.unpark);
  }

  /**
   * switch_ivr_session_transfer: the running extension is abandoned (a park ends, the socket
   * application returns without hanging up) and the channel is routed to `exten` in `context`.
   */
  transfer(exten: string, context: string): void {
    if (this.isHungUp) return;
    // The new caller profile is in place at once (the abandoned application's
    // CHANNEL_EXECUTE_COMPLETE already shows it), and the requested state is CS_ROUTING.
    const ch = this.channel;
    const p = ch.profile;
    const now = this.host.clockNowUs();
    const source = `${Math.floor(now / 1e6)}:${randomUUID()}:bl_xfer:${exten}/${context}/xml`;
    p.rdnis = p.destinationNumber;
    p.destinationNumber = exten;
    p.context = context;
    p.logicalDirection = 'inbound';
    p.transferSource = source;
    p.profileIndex = (p.profileIndex ?? 1) + 1;
    p.profileCreatedUs = now;
    ch.transferUs = now;
    ch.state = 'CS_ROUTING';
    const forwards = Number.parseInt(ch.getVar('max_forwards') ?? '', 10);
    ch.setVar('max_forwards', String(Number.isInteger(forwards) ? Math.max(0, forwards - 1) : 70));
    const history = ch.getVar('transfer_history');
    ch.setVar('transfer_history', history === undefined ? source : `${history.startsWith('ARRAY::') ? history : `ARRAY::${history}`}|:${source}`);
    ch.setVar('transfer_source', source);
    this.pendingTransfer = { exten, context };
    this.media.breakPlayback();
    this.messageWaiter?.();
    this.releaseControl?.();
  }

  /** The controlling socket went away: the park loop ends (CF_CONTROLLED cleared). */
  release(): void {
    this.controlled = false;
    this.releaseControl?.();
  }

  /**
   * playback: pre-answers, PLAYBACK_START, plays through the media clock, PLAYBACK_STOP with
   * Playback-Status done|break and playback_* variables; FILE NOT FOUND when it cannot be opened.
   */
  async playback(path: string): Promise<void> {
    const ch = this.channel;
    if (!ch.mediaUp) this.preAnswer();
    const src = openPlayback(path);
    if (!src) {
      ch.setVar('current_application_response', 'FILE NOT FOUND');
      return;
    }
    const startHeaders: EventHeader[] = [];
    if (src.fileType) startHeaders.push(['Playback-File-Type', src.fileType]);
    startHeaders.push(['Playback-File-Path', path]);
    this.fire('PLAYBACK_START', SRC.playbackStart, { after: startHeaders });
    const { status, samples: played } = await this.media.play(src);
    src.close?.();
    const samples = src.bytesRead ?? (status === 'break' ? samplesRead(src, played) : played);
    ch.setVar('playback_last_offset_pos', String(played));
    ch.setVar('playback_seconds', String(Math.floor(samples / 8000)));
    ch.setVar('playback_ms', String(Math.floor(samples / 8)));
    ch.setVar('playback_samples', String(samples));
    const stopHeaders: EventHeader[] = [];
    if (src.fileType) stopHeaders.push(['Playback-File-Type', src.fileType]);
    stopHeaders.push(['Playback-File-Path', path], ['Playback-Status', status === 'break' ? 'break' : 'done']);
    this.fire('PLAYBACK_STOP', SRC.playbackStop, { after: stopHeaders });
    // Set after PLAYBACK_STOP (differential test: absent from PLAYBACK_STOP, present in
    // CHANNEL_EXECUTE_COMPLETE). Captured: a playback cut by hang-up reports PLAYBACK ERROR.
    ch.setVar('current_application_response', status === 'hangup' ? 'PLAYBACK ERROR' : 'FILE PLAYED');
  }

  /** Runs a list of dialplan actions, draining queued messages between them. */
  async runActions(actions: readonly DialplanAction[]): Promise<void> {
    for (const a of actions) {
      if (this.isHungUp || this.pendingTransfer) return;
      await this.execute(a.app, a.data);
      await this.drainMessages();
    }
  }

  /** The end of the channel thread: CS_HANGUP ... CS_REPORTING, HANGUP_COMPLETE, DESTROY. */
  async finish(): Promise<void> {
    if (this.finalized) return;
    if (!this.isHungUp) this.hangup('NORMAL_CLEARING');
    this.finalized = true;
    const ch = this.channel;
    this.setRunningState('CS_HANGUP', 'CS_HANGUP');
    this.host.hangingUp(this);
    this.setCallState('HANGUP');
    const peer = this.peerSession;
    if (peer && !peer.isHungUp) peer.hangup(ch.hangupCause);
    this.setRunningState('CS_REPORTING', 'CS_REPORTING');
    this.setCdrVariables();
    // CHANNEL_HANGUP_COMPLETE carries Hangup-Cause twice (captured, plain and json).
    this.fire('CHANNEL_HANGUP_COMPLETE', SRC.hangupComplete, { before: [['Hangup-Cause', ch.hangupCause ?? 'NORMAL_CLEARING']] });
    this.host.hangupComplete(this);
    if (peer && !peer.finalized) await peer.done;
    ch.state = 'CS_DESTROY';
    this.fire('CHANNEL_DESTROY', SRC.destroy);
    this.setRunningState('CS_DESTROY', 'CS_DESTROY');
    ch.destroyed = true;
    const earPath = ch.getVar('sim_record_ear');
    if (earPath) {
      try { writeFileSync(earPath, wavBytes(this.media.earRecording())); } catch (err) {
        this.host.logger.warn({ err, path: earPath }, 'sim freeswitch: cannot write ear recording');
      }
    }
    this.host.destroyed(this);
    this.doneResolve();
  }

  private setCdrVariables(): void {
    const ch = this.channel;
    const cause = ch.hangupCause ?? 'NORMAL_CLEARING';
    ch.setVar('hangup_cause', cause);
    ch.setVar('hangup_cause_q850', String(HANGUP_CAUSES[cause] ?? 0));
    ch.setVar('digits_dialed', this.digitsRead === '' ? 'none' : this.digitsRead);
    const startMs = ch.createdUs / 1000;
    const endMs = ch.hangupUs / 1000;
    ch.setVar('start_stamp', fsLocalStamp(startMs));
    ch.setVar('profile_start_stamp', fsLocalStamp(startMs));
    if (ch.answered) ch.setVar('answer_stamp', fsLocalStamp(ch.answeredUs / 1000));
    ch.setVar('end_stamp', fsLocalStamp(endMs));
    const sec = (us: number): string => String(Math.floor(us / 1e6));
    ch.setVar('start_epoch', sec(ch.createdUs));
    ch.setVar('start_uepoch', String(ch.createdUs));
    ch.setVar('profile_start_epoch', sec(ch.createdUs));
    ch.setVar('profile_start_uepoch', String(ch.createdUs));
    ch.setVar('answer_epoch', sec(ch.answeredUs));
    ch.setVar('answer_uepoch', String(ch.answeredUs));
    for (const k of ['bridge', 'last_hold']) { ch.setVar(`${k}_epoch`, '0'); ch.setVar(`${k}_uepoch`, '0'); }
    ch.setVar('hold_accum_seconds', '0');
    ch.setVar('hold_accum_usec', '0');
    ch.setVar('hold_accum_ms', '0');
    for (const k of ['resurrect', 'progress']) { ch.setVar(`${k}_epoch`, '0'); ch.setVar(`${k}_uepoch`, '0'); }
    ch.setVar('progress_media_epoch', sec(ch.progressMediaUs));
    ch.setVar('progress_media_uepoch', String(ch.progressMediaUs));
    ch.setVar('end_epoch', sec(ch.hangupUs));
    ch.setVar('end_uepoch', String(ch.hangupUs));
    const lastApp = ch.getVar('current_application');
    if (lastApp) ch.setVar('last_app', lastApp);
    const lastArg = ch.getVar('current_application_data');
    if (lastArg) ch.setVar('last_arg', lastArg);
    const name = ch.profile.callerIdName;
    // Without a name, only the number (differential test: a loopback B leg shows 0000000000).
    ch.setVar('caller_id', name === '' ? ch.profile.callerIdNumber : `"${name}" <${ch.profile.callerIdNumber}>`);
    const durUs = Math.max(0, ch.hangupUs - ch.createdUs);
    const billUs = ch.answered ? Math.max(0, ch.hangupUs - ch.answeredUs) : 0;
    const waitUs = ch.answered ? Math.max(0, ch.answeredUs - ch.createdUs) : 0;
    ch.setVar('duration', String(Math.floor(durUs / 1e6)));
    ch.setVar('billsec', String(Math.floor(billUs / 1e6)));
    ch.setVar('progresssec', '0');
    ch.setVar('answersec', String(Math.floor(waitUs / 1e6)));
    ch.setVar('waitsec', String(Math.floor(waitUs / 1e6)));
    ch.setVar('progress_mediasec', '0');
    ch.setVar('flow_billsec', String(Math.floor(billUs / 1e6)));
    ch.setVar('mduration', String(Math.floor(durUs / 1000)));
    ch.setVar('billmsec', String(Math.floor(billUs / 1000)));
    ch.setVar('progressmsec', '0');
    ch.setVar('answermsec', String(Math.floor(waitUs / 1000)));
    ch.setVar('waitmsec', String(Math.floor(waitUs / 1000)));
    ch.setVar('progress_mediamsec', '0');
    ch.setVar('flow_billmsec', String(Math.floor(billUs / 1000)));
    ch.setVar('uduration', String(durUs));
    ch.setVar('billusec', String(billUs));
    ch.setVar('progressusec', '0');
    ch.setVar('answerusec', String(waitUs));
    ch.setVar('waitusec', String(waitUs));
    ch.setVar('progress_mediausec', '0');
    ch.setVar('flow_billusec', String(billUs));
    if (ch.getVar('loopback_leg')) ch.setVar('is_loopback', '1');
  }
}

/**
 * playback_samples of a broken playback: FreeSWITCH counts what it read from the file handle, and
 * tone_stream / silence_stream are read 16384 samples ahead (measured on 1.10.12: a break after
 * 50 ms or 1 s reports 16384, after 3 s 32768), so the count is whole read blocks, at most the
 * stream's length. Files are not measured: the samples played are reported.
 */
const READ_BLOCK_SAMPLES = 16384;
function samplesRead(src: { fileType: string | undefined; totalSamples?: number }, played: number): number {
  if (src.fileType !== 'tone_stream' && src.fileType !== 'silence_stream') return played;
  const blocks = Math.max(1, Math.ceil(played / READ_BLOCK_SAMPLES)) * READ_BLOCK_SAMPLES;
  return Math.min(src.totalSamples ?? Infinity, blocks);
}

/** Applications the session runs itself; `socket` and others come from the host. */
const BUILTIN_APPS = new Set([
  'answer', 'pre_answer', 'ring_ready', 'log', 'info', 'event', 'set', 'export', 'unset', 'hangup', 'sleep', 'park',
  'playback', 'break',
]);

export { HANGUP };
