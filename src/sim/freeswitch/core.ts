import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../observability/logger.js';
import { readWav8k, SilenceSource, SineSource, BufferSource, type SampleSource } from './audio-source.js';
import { Channel, type CallerProfile } from './channel.js';
import { ChannelMedia } from './channel-media.js';
import type { Dialplan, DialplanAction } from './dialplan.js';
import { FsEvent, type EventHeader } from './event.js';
import { EventFactory, SRC, type EventSource, type SwitchIdentity } from './event-factory.js';
import { HANGUP, Session, type FireOpts, type SessionHost } from './session.js';

/** An application provided from outside the core (e.g. `socket`). */
export type AppHandler = (session: Session, data: string) => Promise<void>;

/**
 * An endpoint's outgoing call: resolves with the answered A-leg session (its thread not yet run)
 * or with the hang-up cause name.
 */
export type OriginateEndpoint = (req: {
  dest: string; vars: Map<string, string>; cidName: string; cidNum: string; timeoutSec: number;
}) => Promise<Session | string>;

/** `-USAGE` text of originate (mod_commands.c ORIGINATE_SYNTAX). */
export const ORIGINATE_USAGE =
  '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';

export interface FsCoreOptions {
  clock: Clock;
  logger: Logger;
  identity: SwitchIdentity;
  dialplan: Dialplan;
  /** Max ear recordings kept after their channel is gone. */
  keepEars?: number;
  /** Global variables, the fallback of `${name}`. */
  globals?: Readonly<Record<string, string>>;
  /** Ear recording cap per channel (seconds, default 600); later audio is counted, not kept. */
  maxEarSeconds?: number;
}

/**
 * The simulated switch core: channel registry, event firing to subscribers, loopback originate
 * and the channel threads (dialplan hunt + applications).
 */
export class FsCore implements SessionHost {
  readonly factory: EventFactory;
  readonly logger: Logger;
  private readonly sessions = new Map<string, Session>();
  private readonly subscribers = new Set<(ev: FsEvent) => void>();
  private readonly apps = new Map<string, AppHandler>();
  private readonly watchers = new Map<string, (eventName: string, ev: FsEvent) => void>();
  private readonly ears = new Map<string, Int16Array>();
  private nextSessionId = 1;
  /** Global variables (vars.xml `set`, global_setvar). */
  readonly globals: Map<string, string>;
  /** Sessions created since start (status). */
  sessionsSinceStartup = 0;
  peakSessions = 0;
  readonly startedMs: number;
  /** Called when a channel reaches CS_HANGUP (the audio-stream module removes its bug). */
  onHangingUp: (s: Session) => void = () => {};
  /** Called after CHANNEL_DESTROY. */
  onDestroyed: (s: Session) => void = () => {};
  /** Called right after CHANNEL_HANGUP_COMPLETE (controlling sockets get their notice here). */
  onHangupComplete: (s: Session) => void = () => {};

  constructor(private readonly opts: FsCoreOptions) {
    this.logger = opts.logger;
    this.globals = new Map(Object.entries(opts.globals ?? {}));
    this.factory = new EventFactory(opts.identity, opts.clock);
    this.startedMs = opts.clock.wallMs();
  }

  readonly clockNowUs = (): number => this.factory.nowUs();

  sleepMs(ms: number, cb: () => void): void { this.opts.clock.setTimeout(cb, ms); }

  globalVar(name: string): string | undefined { return this.globals.get(name); }

  /** Receives every fired event; returns an unsubscribe function. */
  subscribe(fn: (ev: FsEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => { this.subscribers.delete(fn); };
  }

  /** Fires an event with the standard prologue followed by `headers`. */
  fire(name: string, src: EventSource, headers: readonly EventHeader[], body?: string, subclass?: string): FsEvent {
    const ev = new FsEvent([...this.factory.prologue(name, src, subclass), ...headers], body);
    this.deliver(ev);
    return ev;
  }

  /** Delivers an already built event. */
  deliver(ev: FsEvent): void {
    for (const fn of [...this.subscribers]) {
      try { fn(ev); } catch (err) { this.logger.warn({ err }, 'sim freeswitch: event subscriber failed'); }
    }
  }

  fireChannelEvent(session: Session, name: string, src: EventSource, opts: FireOpts = {}): void {
    const headers: EventHeader[] = [
      ...(opts.lead ?? []),
      ...this.factory.prologue(name, src, opts.subclass),
      ...(opts.before ?? []),
      ...session.channel.eventData(opts.extended ?? true),
      ...(opts.after ?? []),
    ];
    const ev = new FsEvent(headers, opts.body);
    this.deliver(ev);
    const w = this.watchers.get(session.uuid);
    if (w) {
      try { w(name, ev); } catch (err) { this.logger.warn({ err }, 'sim freeswitch: channel watcher failed'); }
    }
  }

  /**
   * Calls `fn` with the name of every event fired for that channel, right after it was delivered
   * (an endpoint such as the sofia profile turns CHANNEL_ANSWER / CHANNEL_HANGUP into signalling).
   * One watcher per channel; returns the removal function.
   */
  watchChannel(uuid: string, fn: (eventName: string, ev: FsEvent) => void): () => void {
    this.watchers.set(uuid, fn);
    return () => { if (this.watchers.get(uuid) === fn) this.watchers.delete(uuid); };
  }

  private readonly endpoints = new Map<string, OriginateEndpoint>();

  /** Registers an endpoint module for `originate <name>/<dest>` (e.g. `sofia`). */
  registerEndpoint(name: string, fn: OriginateEndpoint): void { this.endpoints.set(name, fn); }

  /** The next session_id variable value. */
  allocSessionId(): number { return this.nextSessionId++; }

  /** Runs the thread of an inbound channel created by an endpoint: CS_INIT, CREATE, RINGING, routing, execute. */
  runInboundChannel(s: Session): Promise<void> { return this.runBLeg(s); }

  registerApp(name: string, handler: AppHandler): void { this.apps.set(name, handler); }

  hasApplication(app: string): boolean { return this.apps.has(app); }

  async runApplication(session: Session, app: string, data: string): Promise<void> {
    const h = this.apps.get(app);
    if (h) await h(session, data);
  }

  hunt(session: Session): DialplanAction[] | undefined {
    const p = session.channel.profile;
    return this.opts.dialplan.hunt({
      destinationNumber: p.destinationNumber,
      context: p.context,
      field: (n) => {
        switch (n) {
          case 'destination_number': return p.destinationNumber;
          case 'caller_id_number': return p.callerIdNumber;
          case 'caller_id_name': return p.callerIdName;
          case 'ani': return p.ani;
          case 'context': return p.context;
          case 'network_addr': return p.networkAddr;
          case 'dialplan': return p.dialplan;
          case 'source': return p.source;
          case 'uuid': return session.uuid;
          default: return session.getVar(n);
        }
      },
      expand: (s) => session.expand(s),
      runInline: (app, data) => {
        if (app === 'set' || app === 'export') {
          const eq = data.indexOf('=');
          if (eq > 0) session.channel.setVar(data.slice(0, eq), data.slice(eq + 1));
        }
      },
    });
  }

  hangingUp(session: Session): void { this.onHangingUp(session); }

  hangupComplete(session: Session): void { this.onHangupComplete(session); }

  destroyed(session: Session): void {
    this.sessions.delete(session.uuid);
    this.watchers.delete(session.uuid);
    this.ears.set(session.uuid, session.media.earRecording());
    const keep = this.opts.keepEars ?? 100;
    while (this.ears.size > keep) {
      const first = this.ears.keys().next().value as string;
      this.ears.delete(first);
    }
    this.onDestroyed(session);
  }

  get(uuid: string): Session | undefined { return this.sessions.get(uuid.trim()); }
  all(): Session[] { return [...this.sessions.values()]; }

  /** What the caller heard on that channel (live or kept after hang-up), 8 kHz. */
  earRecording(uuid: string): Int16Array {
    const s = this.sessions.get(uuid);
    if (s) return s.media.earRecording();
    return this.ears.get(uuid) ?? new Int16Array(0);
  }

  private callerSource(vars: Map<string, string>): SampleSource {
    const wav = vars.get('sim_caller_audio');
    if (wav) {
      const pcm = readWav8k(wav);
      if (pcm) return new BufferSource(pcm);
      this.logger.warn({ path: wav }, 'sim freeswitch: sim_caller_audio unreadable, using silence');
    }
    const tone = Number(vars.get('sim_caller_tone'));
    if (Number.isFinite(tone) && tone > 0) return new SineSource(tone);
    return new SilenceSource(-1);
  }

  /**
   * Creates a session (channel + media) and registers it. An endpoint passes its own caller audio
   * source (e.g. received RTP) and codec.
   */
  createSession(
    name: string, direction: 'inbound' | 'outbound', profile: CallerProfile, uuid: string = randomUUID(),
    endpoint?: { callerSource: SampleSource; codec: { name: string; rate: number; bitRate: number } },
  ): Session {
    const ch = new Channel(uuid, name, direction, profile, this.clockNowUs(), endpoint?.codec);
    const session = new Session(ch, this, this.newMedia(endpoint?.callerSource ?? new SilenceSource(-1)));
    this.sessions.set(uuid, session);
    this.sessionsSinceStartup++;
    this.peakSessions = Math.max(this.peakSessions, this.sessions.size);
    return session;
  }

  /** Replaces the media engine once the channel variables are known (caller audio source). */
  private attachMedia(session: Session): void {
    (session as { media: ChannelMedia }).media = this.newMedia(this.callerSource(session.channel.vars));
  }

  private newMedia(src: SampleSource): ChannelMedia {
    return new ChannelMedia(this.opts.clock, src, 8000 * (this.opts.maxEarSeconds ?? 600));
  }

  /**
   * `originate [{var=val,...}]loopback/<ext>[/<context>] <&app(args) | ext [dialplan] [context] [cid_name] [cid_num] [timeout]>`.
   * Resolves with the api body: `+OK <uuid>\n` once the A leg is answered, `-ERR <CAUSE>\n`
   * otherwise, `-USAGE: ...\n` on bad syntax. Non-loopback endpoints give CHAN_NOT_IMPLEMENTED.
   */
  async originate(args: string): Promise<string> {
    const argv = splitOriginateArgs(args);
    if (argv.length < 2) return ORIGINATE_USAGE;
    let url = argv[0];
    const vars = new Map<string, string>();
    if (url.startsWith('{')) {
      const end = url.indexOf('}');
      if (end < 0) return '-ERR INVALID_URL\n';
      for (const kv of splitVars(url.slice(1, end))) {
        const eq = kv.indexOf('=');
        if (eq > 0) vars.set(kv.slice(0, eq).trim(), kv.slice(eq + 1));
      }
      url = url.slice(end + 1);
    }
    const m = /^loopback\/([^/]+)(?:\/([^/]+))?(?:\/(.+))?$/.exec(url);
    const target = argv[1];
    let app: { name: string; data: string } | undefined;
    let transfer: { exten: string; context: string } | undefined;
    if (target.startsWith('&')) {
      const am = /^&([^(\s]+)(?:\((.*)\))?$/s.exec(target);
      if (!am) return ORIGINATE_USAGE;
      app = { name: am[1], data: am[2] ?? '' };
    } else {
      transfer = { exten: target, context: argv[3] ?? 'default' };
    }
    const cidName = argv[4] ?? vars.get('origination_caller_id_name') ?? '';
    const cidNum = argv[5] ?? vars.get('origination_caller_id_number') ?? '0000000000';
    const timeoutSec = Number(argv[6] ?? vars.get('originate_timeout') ?? 60) || 60;
    if (!m) {
      const slash = url.indexOf('/');
      const ep = slash > 0 ? this.endpoints.get(url.slice(0, slash)) : undefined;
      if (!ep) return '-ERR CHAN_NOT_IMPLEMENTED\n';
      const r = await ep({ dest: url.slice(slash + 1), vars, cidName, cidNum, timeoutSec });
      if (typeof r === 'string') return `-ERR ${r}\n`;
      setImmediate(() => { void this.runALeg(r, app, transfer); });
      return `+OK ${r.uuid}\n`;
    }
    const ext = m[1];
    const ctx = m[2] ?? 'default';

    const mkProfile = (dir: 'inbound' | 'outbound'): CallerProfile => ({
      direction: dir, logicalDirection: dir, username: '', dialplan: 'xml',
      callerIdName: cidName, callerIdNumber: cidNum, origCallerIdName: '', origCallerIdNumber: cidNum,
      calleeIdName: 'Outbound Call', calleeIdNumber: ctx, networkAddr: '', ani: cidNum,
      destinationNumber: ext, source: 'mod_loopback', context: ctx, profileCreatedUs: this.clockNowUs(),
    });
    // origination_uuid names the A leg (switch_ivr_originate.c); the B leg gets a uuid of its own.
    const a = this.createSession(`loopback/${ext}-a`, 'outbound', mkProfile('outbound'), originationUuid(vars));
    const b = this.createSession(`loopback/${ext}-b`, 'inbound', mkProfile('inbound'));
    a.peerSession = b;
    b.peerSession = a;
    a.channel.peer = b.channel;
    b.channel.peer = a.channel;
    const av = a.channel;
    av.setVar('direction', 'outbound');
    av.setVar('is_outbound', 'true');
    av.setVar('uuid', a.uuid);
    av.setVar('call_uuid', a.uuid);
    av.setVar('session_id', String(this.nextSessionId++));
    av.setVar('read_codec', 'L16'); av.setVar('read_rate', '8000');
    av.setVar('write_codec', 'L16'); av.setVar('write_rate', '8000');
    av.setVar('channel_name', a.channel.name);
    av.setVar('originate_early_media', 'true');
    av.setVar('originate_endpoint', 'loopback');
    av.setVar('other_loopback_leg_uuid', b.uuid);
    av.setVar('loopback_leg', 'A');
    for (const [k, v] of vars) av.setVar(k, v);
    const bv = b.channel;
    bv.setVar('direction', 'inbound');
    bv.setVar('uuid', b.uuid);
    bv.setVar('call_uuid', b.uuid);
    bv.setVar('session_id', String(this.nextSessionId++));
    bv.setVar('channel_name', b.channel.name);
    bv.setVar('read_codec', 'L16'); bv.setVar('read_rate', '8000');
    bv.setVar('write_codec', 'L16'); bv.setVar('write_rate', '8000');
    bv.setVar('other_loopback_leg_uuid', a.uuid);
    bv.setVar('loopback_leg', 'B');
    for (const [k, v] of vars) bv.setVar(k, v);
    this.attachMedia(a);
    this.attachMedia(b);
    b.channel.hitDialplan = true;

    // Captured order: A OUTGOING, A STATE INIT, A CREATE, A ORIGINATE, A STATE ROUTING,
    // A STATE CONSUME_MEDIA, B STATE INIT, B CREATE, B CALLSTATE RINGING, B STATE ROUTING, B STATE EXECUTE.
    a.channel.runningState = 'CS_NONE';
    a.channel.state = 'CS_INIT';
    a.fire('CHANNEL_OUTGOING', SRC.outgoing, { extended: false });
    a.setRunningState('CS_INIT', 'CS_INIT');
    a.channel.state = 'CS_ROUTING';
    a.fire('CHANNEL_CREATE', SRC.create);
    a.fire('CHANNEL_ORIGINATE', SRC.originate);
    a.setRunningState('CS_ROUTING', 'CS_ROUTING');
    a.setRunningState('CS_CONSUME_MEDIA', 'CS_CONSUME_MEDIA');

    void this.runBLeg(b);

    let cancelTimeout = (): void => {};
    const timedOut = new Promise<'timeout'>((r) => { cancelTimeout = this.opts.clock.setTimeout(() => r('timeout'), timeoutSec * 1000); });
    const r = await a.orHangup(Promise.race([a.answeredSignal.then(() => 'answered' as const), timedOut]));
    cancelTimeout();
    if (r === 'timeout') {
      a.hangup('NO_ANSWER');
      void a.finish();
      return '-ERR NO_ANSWER\n';
    }
    if (r === HANGUP) {
      const cause = a.channel.hangupCause ?? 'NORMAL_CLEARING';
      void a.finish();
      return `-ERR ${cause}\n`;
    }
    setImmediate(() => { void this.runALeg(a, app, transfer); });
    return `+OK ${a.uuid}\n`;
  }

  private async runBLeg(b: Session): Promise<void> {
    b.setRunningState('CS_INIT', 'CS_INIT');
    b.channel.state = 'CS_ROUTING';
    b.fire('CHANNEL_CREATE', SRC.create);
    b.channel.runningState = 'CS_ROUTING';
    b.setCallState('RINGING');
    b.setRunningState('CS_ROUTING', 'CS_ROUTING');
    await this.routeAndExecute(b);
  }

  /** Dialplan hunt + CS_EXECUTE + actions; hangs up at the end of the extension. */
  async routeAndExecute(s: Session): Promise<void> {
    try {
      // Routing sets call_uuid again, which moves it after the other variables (captured order).
      s.channel.setVar('call_uuid', s.channel.getVar('call_uuid') ?? s.uuid);
      for (let hops = 0; hops < 20 && !s.isHungUp; hops++) {
        const actions = this.hunt(s);
        if (!actions) {
          this.logger.info({ uuid: s.uuid, context: s.channel.profile.context }, 'sim freeswitch: no route');
          s.hangup('NO_ROUTE_DESTINATION');
          break;
        }
        s.setRunningState('CS_EXECUTE', 'CS_EXECUTE');
        await s.runActions(actions);
        const xfer = s.pendingTransfer;
        if (!xfer) break;
        s.pendingTransfer = undefined;
        s.channel.profile.destinationNumber = xfer.exten;
        s.channel.profile.context = xfer.context;
        s.setRunningState('CS_ROUTING', 'CS_ROUTING');
      }
    } catch (err) {
      this.logger.error({ err, uuid: s.uuid }, 'sim freeswitch: channel thread failed');
    }
    await s.finish();
  }

  private async runALeg(a: Session, app?: { name: string; data: string }, transfer?: { exten: string; context: string }): Promise<void> {
    if (a.isHungUp) { await a.finish(); return; }
    if (transfer) {
      a.channel.profile.destinationNumber = transfer.exten;
      a.channel.profile.context = transfer.context;
      await this.routeAndExecute(a);
      return;
    }
    try {
      a.setRunningState('CS_EXECUTE', 'CS_EXECUTE');
      if (app) {
        await a.execute(app.name, app.data);
        await a.drainMessages();
      }
      const xfer = a.pendingTransfer;
      if (xfer && !a.isHungUp) {
        a.pendingTransfer = undefined;
        a.channel.profile.destinationNumber = xfer.exten;
        a.channel.profile.context = xfer.context;
        a.setRunningState('CS_ROUTING', 'CS_ROUTING');
        await this.routeAndExecute(a);
        return;
      }
    } catch (err) {
      this.logger.error({ err, uuid: a.uuid }, 'sim freeswitch: channel thread failed');
    }
    await a.finish();
  }

  /** Hangs up every channel (shutdown); resolves when all are destroyed. */
  async hangupAll(cause: string): Promise<void> {
    const all = this.all();
    for (const s of all) s.hangup(cause);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all.map((s) => s.done)),
      new Promise((r) => { timer = setTimeout(r, 2000); }),
    ]);
    clearTimeout(timer);
  }
}

/** The uuid an originated channel gets: `origination_uuid` when given, else a fresh one. */
export function originationUuid(vars: ReadonlyMap<string, string>): string {
  const u = vars.get('origination_uuid');
  return u !== undefined && u !== '' ? u : randomUUID();
}

/** Splits originate arguments on spaces, keeping `{...}`, `(...)` and quotes together. */
export function splitOriginateArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depthBrace = 0;
  let depthParen = 0;
  let quote = '';
  for (const c of s.trim()) {
    if (quote) { if (c === quote) quote = ''; else cur += c; continue; }
    if (c === "'" || c === '"') { quote = c; continue; }
    if (c === '{') depthBrace++;
    if (c === '}') depthBrace = Math.max(0, depthBrace - 1);
    if (c === '(') depthParen++;
    if (c === ')') depthParen = Math.max(0, depthParen - 1);
    if (/\s/.test(c) && depthBrace === 0 && depthParen === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** Splits `a=b,c='d,e'` on commas outside quotes (originate variable blocks). */
function splitVars(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (const c of s) {
    if (quote) { if (c === quote) quote = ''; else cur += c; continue; }
    if (c === "'") { quote = c; continue; }
    if (c === ',') { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}
