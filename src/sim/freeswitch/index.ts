import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../clock.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { Acl } from './acl.js';
import { ApiCommands } from './api-commands.js';
import { FsCore } from './core.js';
import { Dialplan } from './dialplan.js';
import { EslConnection, type EslHost } from './esl-connection.js';
import { SRC } from './event-factory.js';
import type { SplitFrames } from './frame-writer.js';
import { disconnectFrame, GOODBYE, rudeRejectionFrame, SHUTDOWN_NOTICE } from './frames.js';
import { OutboundSocketApp } from './outbound-socket.js';
import type { Session } from './session.js';
import { loadAudioStream, type AudioStreamAdapter } from './audio-stream-adapter.js';
import type { FsEvent } from './event.js';
import { SofiaProfile } from './sofia/profile.js';

export type { SplitFrames } from './frame-writer.js';

/** Globals as freeswitch-conf/vars.fsbridge.xml sets them (plus the password the twin uses). */
export const DEFAULT_GLOBALS: Readonly<Record<string, string>> = {
  fsbridge_outbound_socket: '127.0.0.1:8084',
};

/** Options of the FreeSWITCH twin. */
export interface FreeswitchTwinOptions {
  host?: string;
  /** 0 = any free port. Default 8021. */
  port?: number;
  password?: string;
  dialplanDir: string;
  logger?: Logger;
  playback?: 'file' | 'stream';
  tempDir?: string;
  /** CIDRs allowed to connect inbound; default loopback (loopback.auto). */
  acl?: string[];
  metadataAfterFrames?: number;
  /** Injected clock (tests); default the system clock. */
  clock?: Clock;
  /** Test mode: split every written frame at these offsets. */
  splitFrames?: SplitFrames;
  /** Global variables (vars.xml `set`): `$${name}` in the dialplan, fallback of `${name}`. */
  globals?: Record<string, string>;
  /** Per-channel cap of the ear recording in seconds (default 600). */
  maxEarSeconds?: number;
  /**
   * The `fsbridge` SIP profile (freeswitch-conf/sip_profiles/fsbridge.xml) on UDP; off when absent.
   * port 0 = any free port (see `sipPort`); context defaults to `fsbridge`.
   */
  sip?: { host?: string; port?: number; context?: string; profileName?: string; enable3pcc?: boolean };
}

/**
 * A FreeSWITCH 1.10.12 twin: mod_event_socket inbound server and outbound `socket` app,
 * loopback channels with captured event sequences, an XML dialplan subset, mod_commands API
 * functions and a per-channel media model (caller audio source, ear recorder).
 */
export class FreeswitchTwin {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private core: FsCore | undefined;
  private apiCommands: ApiCommands | undefined;
  private server: Server | undefined;
  private outboundApp: OutboundSocketApp | undefined;
  private audio: AudioStreamAdapter | undefined;
  private sofia: SofiaProfile | undefined;
  private readonly inbound = new Set<EslConnection>();
  private boundPort = 0;
  private closed = false;

  constructor(private readonly o: FreeswitchTwinOptions) {
    this.logger = o.logger ?? silentLogger();
    this.clock = o.clock ?? systemClock;
  }

  /** The bound ESL port (after start). */
  get port(): number { return this.boundPort; }

  /** The bound SIP port of the sofia profile (after start; 0 when `sip` is off). */
  get sipPort(): number { return this.sofia?.port ?? 0; }

  /** Loads the dialplan, starts the ESL listener. */
  async start(): Promise<void> {
    const dialplan = Dialplan.loadDir(this.o.dialplanDir, { ...DEFAULT_GLOBALS, ...(this.o.globals ?? {}) });
    const core = new FsCore({
      clock: this.clock,
      logger: this.logger,
      dialplan,
      globals: { ...DEFAULT_GLOBALS, ...(this.o.globals ?? {}) },
      maxEarSeconds: this.o.maxEarSeconds,
      identity: { coreUuid: randomUUID(), hostname: 'fs-host', ipv4: '192.0.2.10', ipv6: '2001:db8::10' },
    });
    this.core = core;
    const tempDir = this.o.tempDir ?? join(tmpdir(), `fsbridge-sim-fs-${process.pid}`);
    mkdirSync(tempDir, { recursive: true });
    const api = new ApiCommands(core, this.clock);
    this.apiCommands = api;
    const host: EslHost = { core, api, password: this.o.password ?? 'ClueCon', logger: this.logger, clock: this.clock, split: this.o.splitFrames };
    this.outboundApp = new OutboundSocketApp(host);
    core.registerApp('socket', this.outboundApp.handler);
    this.audio = loadAudioStream({
      logger: this.logger, playback: this.o.playback ?? 'file', metadataAfterFrames: this.o.metadataAfterFrames, tempDir, core, clock: this.clock,
    });
    api.audioStream = this.audio;
    core.onHangingUp = (s: Session) => { this.audio?.channelGone(s.uuid); };
    core.onHangupComplete = (s: Session) => { this.outboundApp?.sessionDestroyed(s.uuid); };
    if (this.o.sip) {
      const sofia = new SofiaProfile({
        core, clock: this.clock, logger: this.logger, host: this.o.sip.host, port: this.o.sip.port,
        context: this.o.sip.context, name: this.o.sip.profileName, enable3pcc: this.o.sip.enable3pcc,
      });
      this.sofia = sofia;
      await sofia.start();
    }
    const acl = new Acl(this.o.acl);
    const server = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock, host, acl));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port ?? 8021, this.o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.logger.info({ port: this.boundPort }, 'sim freeswitch: listening');
  }

  private accept(sock: Socket, host: EslHost, acl: Acl): void {
    if (this.closed) { sock.destroy(); return; }
    sock.on('error', () => {});
    if (!acl.allows(sock.remoteAddress)) {
      // Rejection frame, then the generic notice (listener_run's done path), then close.
      const r = rudeRejectionFrame();
      const d = disconnectFrame(GOODBYE);
      sock.write(Buffer.concat([r.head, r.body ?? Buffer.alloc(0)]));
      sock.end(Buffer.concat([d.head, d.body ?? Buffer.alloc(0)]));
      return;
    }
    const conn = new EslConnection(sock, host);
    this.inbound.add(conn);
    void conn.closedSignal.then(() => this.inbound.delete(conn));
    conn.start();
  }

  private need(): { core: FsCore; api: ApiCommands } {
    if (!this.core || !this.apiCommands) throw new Error('FreeswitchTwin not started');
    return { core: this.core, api: this.apiCommands };
  }

  /** Same as `api originate <args>`: `+OK <uuid>\n` or `-ERR <CAUSE>\n`. */
  async originate(args: string): Promise<string> {
    return this.api(`originate ${args}`);
  }

  /** Runs an API command line as `api` would (fires the API event); returns the body. */
  async api(cmdLine: string): Promise<string> {
    const { core, api } = this.need();
    const line = cmdLine.trim();
    const sp = line.indexOf(' ');
    const name = sp < 0 ? line : line.slice(0, sp);
    const args = sp < 0 ? '' : line.slice(sp + 1);
    const out = await api.run(name, args);
    if (out === undefined) return `-ERR ${name} Command not found!\n`;
    const h: [string, string][] = [['API-Command', name]];
    if (args !== '') h.push(['API-Command-Argument', args]);
    core.fire('API', SRC.api, h);
    return out === '' ? '-ERR no reply\n' : out;
  }

  /** What the caller heard on a channel (8 kHz), live or after hang-up. */
  earRecording(uuid: string): Int16Array {
    return this.need().core.earRecording(uuid);
  }

  /** Every event the twin fires (as ESL subscribers get them); returns the unsubscribe function. */
  onEvent(fn: (ev: FsEvent) => void): () => void {
    return this.need().core.subscribe(fn);
  }

  /** The caller audio of a live channel, one 20 ms 8 kHz frame per media tick; returns the unsubscribe function. */
  onCallerAudio(uuid: string, fn: (pcm: Int16Array) => void): () => void {
    const s = this.need().core.get(uuid);
    if (!s) throw new Error(`no such channel ${uuid}`);
    return s.media.onReadFrame(fn);
  }

  /** Live channels. */
  channels(): { uuid: string; name: string; state: string }[] {
    return this.need().core.all().map((s) => ({ uuid: s.uuid, name: s.channel.name, state: s.channel.runningState }));
  }

  /** Sends 'The system is being shut down.' notices, hangs up every channel, closes everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    await Promise.all([...this.inbound].map((c) => c.disconnect(SHUTDOWN_NOTICE)));
    await this.outboundApp?.closeAll(SHUTDOWN_NOTICE);
    await this.core?.hangupAll('SYSTEM_SHUTDOWN');
    await this.sofia?.close();
    await this.audio?.close();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
