import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../observability/logger.js';
import { CommandReader, cmdHeader, type EslCommand } from './command-reader.js';
import type { FsCore } from './core.js';
import { FsEvent, type EventHeader } from './event.js';
import { SRC } from './event-factory.js';
import { FrameWriter, type SplitFrames } from './frame-writer.js';
import {
  apiResponseFrame, authRequestFrame, disconnectFrame, eventFrame, GOODBYE, lingerFrame, rawFrame, replyFrame,
} from './frames.js';
import type { Session } from './session.js';
import { MYEVENTS, Subscription, type EventFormat } from './subscription.js';

/** Runs API commands; undefined = no such command. */
export interface ApiRunner {
  run(cmd: string, args: string, session?: Session): Promise<string | undefined>;
}

/** What every ESL connection shares. */
export interface EslHost {
  readonly core: FsCore;
  readonly api: ApiRunner;
  readonly password: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly split?: SplitFrames;
}

/** Outbound (socket application) mode of a connection. */
export interface OutboundMode {
  readonly session: Session;
  readonly async: boolean;
  readonly full: boolean;
}

/** Bound on queued events per listener (FreeSWITCH's queue holds 100000). */
const MAX_QUEUED_EVENTS = 100_000;
/** Seconds FreeSWITCH waits for the first command (auth, or connect on outbound). */
const FIRST_COMMAND_TIMEOUT_MS = 25_000;
const LOG_LEVELS: Record<string, number> = {
  console: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, notice: 5, info: 6, debug: 7,
};

/**
 * One mod_event_socket listener: inbound (auth/request, password) or outbound (pre-authenticated,
 * bound to a session). Commands are read with FreeSWITCH's rules and dispatched by
 * case-insensitive prefix in FreeSWITCH's order with the exact reply texts; events are queued
 * and flushed only between commands.
 */
export class EslConnection {
  private readonly reader = new CommandReader();
  private readonly writer: FrameWriter;
  private readonly sub = new Subscription();
  private format: EventFormat = 'plain';
  private authed: boolean;
  private busy = false;
  private queue: FsEvent[] = [];
  private lostEvents = 0;
  private unsubscribe: (() => void) | undefined;
  private cancelFirstTimer: (() => void) | undefined;
  private firstCommandSeen = false;
  private logLevel: number | undefined;
  private linger = false;
  private lingerSec = -1;
  private closing = false;
  private connected = false;
  private sessionGone = false;
  private connectedResolve!: () => void;
  /** Resolves when the outbound peer sent `connect` (or the socket ended). */
  readonly connectedSignal: Promise<void>;
  private closedResolve!: () => void;
  /** Resolves when the socket is closed. */
  readonly closedSignal: Promise<void>;

  constructor(private readonly socket: Socket, private readonly host: EslHost, readonly outbound?: OutboundMode) {
    this.writer = new FrameWriter(socket, host.split);
    this.authed = outbound !== undefined;
    this.connectedSignal = new Promise((r) => { this.connectedResolve = r; });
    this.closedSignal = new Promise((r) => { this.closedResolve = r; });
  }

  get session(): Session | undefined { return this.outbound?.session; }

  /** True once the socket closed or is closing. */
  get closedNow(): boolean { return this.closing; }

  /** Starts reading; inbound sends auth/request. */
  start(): void {
    const s = this.socket;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => { this.reader.push(chunk); void this.pump(); });
    s.on('end', () => { void this.peerEnded(); });
    s.on('error', (err) => { this.host.logger.debug({ err }, 'sim freeswitch: esl socket error'); });
    s.on('close', () => this.onClosed());
    this.unsubscribe = this.host.core.subscribe((ev) => this.onEvent(ev));
    if (!this.outbound) void this.writer.write(authRequestFrame());
    this.cancelFirstTimer = this.host.clock.setTimeout(() => {
      if (!this.firstCommandSeen) void this.disconnect(GOODBYE);
    }, FIRST_COMMAND_TIMEOUT_MS);
    if (this.outbound && this.outbound.session.channel.destroyed) this.onSessionDestroyed();
  }

  private onClosed(): void {
    this.cancelFirstTimer?.();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.closing = true;
    this.connectedResolve();
    this.outbound?.session.release();
    this.closedResolve();
  }

  /** The peer half-closed: FreeSWITCH writes its notice and closes (captured after linger). */
  private async peerEnded(): Promise<void> {
    if (this.closing) return;
    await this.disconnect(GOODBYE);
  }

  /** Writes the disconnect notice (session form when bound) and closes. */
  async disconnect(body: string): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.flushEvents();
    await this.writer.write(disconnectFrame(body, this.outbound?.session.uuid));
    await this.writer.end();
  }

  /** Destroys the socket without a notice (framing error). */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private onEvent(ev: FsEvent): void {
    if (this.closing || !this.authed) return;
    // After the bound channel's HANGUP_COMPLETE nothing more of it reaches the socket (captured).
    if (this.sessionGone && this.outbound && ev.get('Unique-ID') === this.outbound.session.uuid) return;
    if (!this.sub.wants(ev)) return;
    if (this.queue.length >= MAX_QUEUED_EVENTS) { this.lostEvents++; return; }
    this.queue.push(ev);
    if (!this.busy && !this.reader.hasPartial()) this.flushEvents();
  }

  private flushEvents(): void {
    const q = this.queue;
    this.queue = [];
    for (const ev of q) {
      const text = this.format === 'json' ? ev.json() : this.format === 'xml' ? ev.xml() : ev.plain();
      void this.writer.write(eventFrame(this.format, text));
    }
  }

  /** Called by the core hook after the bound session's CHANNEL_HANGUP_COMPLETE. */
  onSessionDestroyed(): void {
    if (!this.outbound || this.sessionGone || this.closing) return;
    this.sessionGone = true;
    const s = this.outbound.session;
    if (!this.busy) this.flushEvents();
    if (this.linger) {
      void this.writer.write(lingerFrame(s.uuid, s.channel.name, this.lingerSec));
      if (this.lingerSec > 0) this.host.clock.setTimeout(() => { void this.disconnect(GOODBYE); }, this.lingerSec * 1000);
    } else {
      void this.disconnect(GOODBYE);
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let n = 0; n < 100_000 && !this.closing; n++) {
        const cmd = this.reader.next();
        if (cmd === undefined) break;
        if (cmd === 'drop') {
          this.host.logger.warn({}, 'sim freeswitch: bad content-length, dropping connection');
          this.destroy();
          return;
        }
        const first = !this.firstCommandSeen;
        this.firstCommandSeen = true;
        this.cancelFirstTimer?.();
        await this.handle(cmd, first);
        if (!this.reader.hasPartial()) this.flushEvents();
      }
    } finally {
      this.busy = false;
    }
    if (!this.reader.hasPartial() && !this.closing) this.flushEvents();
  }

  private async handle(cmd: EslCommand, first: boolean): Promise<void> {
    // Outbound: the first command's reply is not written unless it is `connect`.
    const swallow = this.outbound !== undefined && first && !/^connect/i.test(cmd.line);
    const reply = (text: string, extra: readonly (readonly [string, string])[] = []): void => {
      if (!swallow) void this.writer.write(replyFrame(text, extra));
    };
    const line = cmd.line;
    const lower = line.toLowerCase();
    const ob = this.outbound;

    if (ob && lower.startsWith('connect')) {
      this.sendConnectReply(ob);
      return;
    }
    if (lower.startsWith('exit') || lower.startsWith('...')) {
      reply('+OK bye');
      await this.disconnect(GOODBYE);
      return;
    }
    if (!this.authed) {
      if (lower.startsWith('auth ')) {
        const pw = line.slice(5);
        if (pw === this.host.password) {
          this.authed = true;
          reply('+OK accepted');
        } else {
          reply('-ERR invalid');
          await this.disconnect(GOODBYE);
        }
        return;
      }
      if (lower.startsWith('userauth ')) {
        reply('-ERR invalid');
        await this.disconnect(GOODBYE);
        return;
      }
      reply('-ERR command not found');
      return;
    }
    if (lower.startsWith('filter ')) { reply(this.filterCommand(line.slice(7))); return; }
    if (ob && lower.startsWith('resume')) {
      ob.session.resume = true;
      ob.session.channel.setVar('socket_resume', 'true');
      reply('+OK');
      return;
    }
    if (ob && lower.startsWith('getvar')) {
      const name = line.slice(6).trim();
      const v = ob.session.getVar(name) ?? '';
      reply(Buffer.from(v, 'utf8').subarray(0, 511).toString('utf8'));
      return;
    }
    if (lower.startsWith('myevents')) { reply(this.myeventsCommand(line)); return; }
    if (lower.startsWith('divert_events')) {
      if (!ob) { reply('-ERR not controlling a session.'); return; }
      const v = line.slice(13).trim();
      if (v === '') { reply('-ERR missing value.'); return; }
      reply(v.toLowerCase() === 'on' ? '+OK events diverted' : '+OK events not diverted');
      return;
    }
    if (lower.startsWith('sendmsg')) { reply(await this.sendmsgCommand(cmd)); return; }
    if (ob && !ob.full) { reply('-ERR command not found'); return; }
    if (lower.startsWith('sendevent')) { reply(this.sendeventCommand(cmd)); return; }
    if (lower.startsWith('api ')) {
      const body = await this.runApi(line.slice(4));
      if (!swallow) void this.writer.write(apiResponseFrame(body));
      return;
    }
    if (lower.startsWith('bgapi ')) { this.bgapiCommand(cmd, reply); return; }
    if (lower.startsWith('log')) { reply(this.logCommand(line)); return; }
    if (lower.startsWith('linger')) {
      if (!ob) { reply('-ERR not controlling a session'); return; }
      const n = Number.parseInt(line.slice(6).trim(), 10);
      this.linger = true;
      if (Number.isFinite(n) && n > 0) { this.lingerSec = n; reply(`+OK will linger ${n} seconds`); } else { this.lingerSec = -1; reply('+OK will linger'); }
      return;
    }
    if (lower.startsWith('nolinger')) {
      if (!ob) { reply('-ERR not controlling a session'); return; }
      this.linger = false;
      reply('+OK will not linger');
      return;
    }
    if (lower.startsWith('nolog')) {
      if (this.logLevel !== undefined) { this.logLevel = undefined; reply('+OK no longer logging'); } else reply('-ERR not loging');
      return;
    }
    if (lower.startsWith('event')) { reply(this.eventCommand(line)); return; }
    if (lower.startsWith('nixevent')) {
      const tokens = line.split(' ').slice(1);
      const keys = this.sub.remove(tokens);
      reply(keys > 0 ? '+OK events nixed' : '-ERR no keywords supplied');
      return;
    }
    if (lower.startsWith('noevents')) {
      if (this.sub.listening) {
        this.sub.clear();
        this.queue = [];
        reply('+OK no longer listening for events');
      } else reply('-ERR not listening for events');
      return;
    }
    reply('-ERR command not found');
  }

  private sendConnectReply(ob: OutboundMode): void {
    const ch = ob.session.channel;
    const headers: EventHeader[] = [
      ...this.host.core.factory.prologue('CHANNEL_DATA', SRC.channelData),
      ...ch.channelDataHeaders(true),
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '+OK\n'],
      ['Socket-Mode', ob.async ? 'async' : 'static'],
      ['Control', ob.full ? 'full' : 'single-channel'],
    ];
    void this.writer.write(rawFrame(new FsEvent(headers).plain()));
    if (!this.connected) { this.connected = true; this.connectedResolve(); }
  }

  private filterCommand(rest: string): string {
    let s = rest.replace(/^ +/, '');
    const sp = s.indexOf(' ');
    if (sp < 0) return '-ERR invalid syntax';
    let name = s.slice(0, sp);
    let value: string | undefined = s.slice(sp + 1);
    if (name.toLowerCase() === 'delete') {
      s = value;
      const sp2 = s.indexOf(' ');
      name = sp2 < 0 ? s : s.slice(0, sp2);
      value = sp2 < 0 ? undefined : s.slice(sp2 + 1);
      if (name.toLowerCase() === 'all') this.sub.filters = [];
      else this.sub.filters = this.sub.filters.filter((f) => !(f.header.toLowerCase() === name.toLowerCase() && (value === undefined || f.value === value)));
      return `+OK filter deleted. [${name}][${value ?? ''}]`;
    }
    if (name.toLowerCase() === 'add') {
      s = value;
      const sp2 = s.indexOf(' ');
      if (sp2 < 0) return '-ERR invalid syntax';
      name = s.slice(0, sp2);
      value = s.slice(sp2 + 1);
    }
    this.sub.filters.push({ header: name, value });
    return `+OK filter added. [${name}]=[${value}]`;
  }

  private formatWord(words: readonly string[]): EventFormat | undefined {
    for (const w of words) {
      if (w === 'json' || w === 'JSON') return 'json';
      if (w === 'xml' || w === 'XML') return 'xml';
    }
    return undefined;
  }

  private myeventsCommand(line: string): string {
    if (this.sub.myevents) return '-ERR aready enabled.';
    const words = line.split(' ').slice(1).filter((w) => w !== '');
    const fmt = this.formatWord(words);
    let uuid: string | undefined;
    if (this.outbound) {
      uuid = this.outbound.session.uuid;
    } else {
      const cand = words.find((w) => !['plain', 'json', 'xml', 'PLAIN', 'JSON', 'XML'].includes(w));
      if (cand && this.host.core.get(cand)) uuid = cand;
      else if (fmt !== undefined || words.includes('plain')) return '-ERR invalid uuid';
    }
    this.format = fmt ?? 'plain';
    // Additive: earlier `event` subscriptions stay (then filtered to the session's uuid).
    for (const e of MYEVENTS) this.sub.events.add(e);
    this.sub.myevents = true;
    this.sub.listening = true;
    this.sub.uuid = uuid;
    return '+OK Events Enabled';
  }

  private eventCommand(line: string): string {
    const tokens = line.split(' ').slice(1);
    if (tokens.length > 0) {
      const f = tokens[0].toLowerCase();
      if (f === 'plain' || f === 'json' || f === 'xml') { this.format = f; tokens.shift(); }
    }
    const keys = this.sub.add(tokens);
    return keys > 0 ? `+OK event listener enabled ${this.format}` : '-ERR no keywords supplied';
  }

  private logCommand(line: string): string {
    const arg = line.length > 3 ? line.slice(4).trim() : '';
    let level = 7;
    if (arg !== '') {
      const n = Number(arg);
      if (Number.isInteger(n) && n >= 0 && n <= 7) level = n;
      else if (arg.toLowerCase() in LOG_LEVELS) level = LOG_LEVELS[arg.toLowerCase()];
      else return '-ERR invalid log level';
    }
    this.logLevel = level;
    return `+OK log level ${arg} [${level}]`;
  }

  private async sendmsgCommand(cmd: EslCommand): Promise<string> {
    const arg = cmd.line.slice(7).trim();
    const target = arg !== '' ? arg : cmdHeader(cmd, 'session-id');
    let session: Session | undefined;
    if (target !== undefined && target !== '') session = this.host.core.get(target);
    else session = this.outbound?.session;
    if (!session || session.channel.destroyed) return `-ERR invalid session id [${target ?? ''}]`;
    const headers: EventHeader[] = [['Command', cmd.line], ...cmd.headers];
    const msg = { headers, body: cmd.body?.toString('utf8') };
    const inline = this.outbound !== undefined && !this.outbound.async && session === this.outbound.session
      && (cmdHeader(cmd, 'async') ?? '').toLowerCase() !== 'true';
    if (inline) {
      // Static socket mode: the application runs in the channel thread before the reply.
      await session.processMessage(msg, false);
    } else {
      session.queueMessage(msg);
    }
    return '+OK';
  }

  private sendeventCommand(cmd: EslCommand): string {
    const name = cmd.line.slice(9).trim().split(' ')[0] || 'CUSTOM';
    const uuid = randomUUID();
    const headers: EventHeader[] = [...cmd.headers.filter(([k]) => k.toLowerCase() !== 'content-length'), ['Event-UUID', uuid]];
    const subclass = name === 'CUSTOM' ? cmdHeader(cmd, 'Event-Subclass') : undefined;
    const hs = subclass !== undefined ? headers.filter(([k]) => k.toLowerCase() !== 'event-subclass') : headers;
    this.host.core.fire(name.toUpperCase(), SRC.sendevent, hs, cmd.body?.toString('utf8'), subclass);
    return `+OK ${uuid}`;
  }

  private async runApi(rest: string): Promise<string> {
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const args = sp < 0 ? '' : rest.slice(sp + 1);
    const out = await this.executeApi(name, args);
    // api_exec: an empty reply becomes this text for `api` only; bgapi's job body stays empty.
    return out === '' ? '-ERR no reply\n' : out;
  }

  /** Runs an API function; its output as written (possibly empty), or the not-found text. */
  private async executeApi(name: string, args: string): Promise<string> {
    const out = await this.host.api.run(name, args, this.outbound?.session);
    if (out === undefined) return `-ERR ${name} Command not found!\n`;
    const apiHeaders: EventHeader[] = [['API-Command', name]];
    if (args !== '') apiHeaders.push(['API-Command-Argument', args]);
    this.host.core.fire('API', SRC.api, apiHeaders);
    return out;
  }

  private bgapiCommand(cmd: EslCommand, reply: (t: string, extra?: readonly (readonly [string, string])[]) => void): void {
    const rest = cmd.line.slice(6);
    const given = cmdHeader(cmd, 'job-uuid');
    const jobUuid = given !== undefined && given !== '' ? given.slice(0, 36) : randomUUID();
    reply(`+OK Job-UUID: ${jobUuid}`, [['Job-UUID', jobUuid]]);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const args = sp < 0 ? '' : rest.slice(sp + 1);
    const owner = this.outbound?.session.uuid;
    setImmediate(() => {
      void this.executeApi(name, args).then((out) => {
        const h: EventHeader[] = [['Job-UUID', jobUuid]];
        // Captured: no Job-Owner-UUID on inbound connections.
        if (owner !== undefined) h.push(['Job-Owner-UUID', owner]);
        h.push(['Job-Command', name]);
        if (args !== '') h.push(['Job-Command-Arg', args]);
        this.host.core.fire('BACKGROUND_JOB', SRC.backgroundJob, h, out);
      });
    });
  }
}
