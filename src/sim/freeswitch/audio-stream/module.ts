import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../../clock.js';
import type { Logger } from '../../../observability/logger.js';
import { API_REPLY, parseStreamApi, type MixType } from './api-command.js';
import { AudioFramer, normaliseBufferMs } from './audio-framer.js';
import { parseExtraHeaders } from './handshake.js';
import type { StreamChannelPort } from './port.js';
import { classifyServerText } from './server-message.js';
import { WscClient } from './ws-client.js';
import type { WsTarget } from './ws-url.js';

/** CUSTOM subclasses the module fires (mod_audio_stream.h). */
export const STREAM_EVENT = {
  connect: 'mod_audio_stream::connect',
  disconnect: 'mod_audio_stream::disconnect',
  error: 'mod_audio_stream::error',
  json: 'mod_audio_stream::json',
  play: 'mod_audio_stream::play',
} as const;

/** Headers of MEDIA_BUG_START / MEDIA_BUG_STOP that are specific to this bug (as captured). */
export const MEDIA_BUG_HEADERS: Readonly<Record<string, string>> = { 'Media-Bug-Function': 'audio_stream', 'Media-Bug-Target': 'N/A' };

/** Options of the module twin. */
export interface AudioStreamModuleOptions {
  logger: Logger;
  /** 'file' = community edition (streamAudio → file + ::play); 'stream' = voxcom fork (raw → writeToEar). */
  playback: 'file' | 'stream';
  /** Send the start metadata only after this many audio messages (issue #121 reproduction). */
  metadataAfterFrames?: number;
  clock?: Clock;
  /** Connect + upgrade deadline (libwsc code 10 afterwards). Default 10 s. */
  connectTimeoutMs?: number;
}

interface Stream {
  readonly uuid: string;
  readonly port: StreamChannelPort;
  readonly client: WscClient;
  readonly framer: AudioFramer;
  readonly metadata: string | undefined;
  readonly files: string[];
  paused: boolean;
  metaPending: boolean;
  audioMessages: number;
  fileSeq: number;
  binaryIgnored: number;
  unsubscribe: () => void;
}

/**
 * Twin of mod_audio_stream (community edition ec2a781 + libwsc 09d18e5, with the voxcom fork's
 * real-time playback as an option). The FreeSWITCH twin calls `api()` for `uuid_audio_stream` and
 * `channelGone()` on hangup; everything the module does to a channel goes through StreamChannelPort.
 */
export class AudioStreamModule {
  private readonly streams = new Map<string, Stream>();
  private readonly closing = new Set<Promise<void>>();
  private readonly clock: Clock;
  private closed = false;

  constructor(private readonly opts: AudioStreamModuleOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Runs `uuid_audio_stream <args>`; resolves the api/response body, e.g. "+OK Success\n". */
  async api(args: string, lookup: (uuid: string) => StreamChannelPort | undefined): Promise<string> {
    const call = parseStreamApi(args);
    if (call.kind === 'usage') return API_REPLY.usage;
    const port = lookup(call.uuid);
    if (!port || this.closed) {
      this.opts.logger.info({ uuid: call.uuid }, 'audio-stream: error locating session');
      return API_REPLY.fail;
    }
    const a = call.action;
    const s = this.streams.get(call.uuid);
    switch (a.op) {
      case 'reject':
        this.opts.logger.info({ uuid: call.uuid, reason: a.reason }, 'audio-stream: command rejected');
        return a.reply;
      case 'start':
        if (s) return API_REPLY.fail; // bug already attached (also after a server-initiated close)
        this.start(port, a.target, a.mix, a.rateHz, a.metadata);
        return API_REPLY.ok;
      case 'stop': {
        if (!s) return API_REPLY.fail;
        if (a.text !== undefined && s.client.isConnected()) s.client.sendText(a.text);
        await this.teardown(s);
        return API_REPLY.ok;
      }
      case 'pause':
      case 'resume':
        if (!s) return API_REPLY.fail;
        s.paused = a.op === 'pause';
        s.framer.reset();
        return API_REPLY.ok;
      case 'send_text':
        if (!s || !s.client.isConnected()) return API_REPLY.fail;
        return s.client.sendText(a.text) ? API_REPLY.ok : API_REPLY.fail;
    }
  }

  /**
   * The channel hung up: fires MEDIA_BUG_STOP synchronously (where the caller calls this in its hangup
   * sequence), closes with 1000 "Normal closure" (waiting ≤ 1 s for the peer), deletes temp files.
   * No ::disconnect. Unknown uuid: nothing happens.
   */
  channelGone(uuid: string): void {
    const s = this.streams.get(uuid);
    if (s) void this.teardown(s);
  }

  /** Closes every stream as on hangup and waits for the sockets. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.streams.values()]) void this.teardown(s);
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /** Number of attached streams (for tests and `show`-style reports). */
  get size(): number {
    return this.streams.size;
  }

  private start(port: StreamChannelPort, target: WsTarget, mix: MixType, rateHz: number, metadata: string | undefined): void {
    port.preAnswer();
    const uuid = port.uuid;
    const bufferMs = normaliseBufferMs(port.getVar('STREAM_BUFFER_SIZE'));
    const heartSec = Number.parseInt(port.getVar('STREAM_HEART_BEAT') ?? '', 10);
    const ca = port.getVar('STREAM_TLS_CA_FILE');
    const framer = new AudioFramer(rateHz, mix, bufferMs);
    const after = this.opts.metadataAfterFrames ?? 0;
    // The client's callbacks need the stream record, which needs the client: late-bound reference.
    const ref: { s: Stream | undefined } = { s: undefined };
    const client = new WscClient(
      {
        target,
        extraHeaders: parseExtraHeaders(port.getVar('STREAM_EXTRA_HEADERS')),
        clock: this.clock,
        logger: this.opts.logger,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        heartbeatMs: Number.isInteger(heartSec) && heartSec > 0 ? heartSec * 1000 : 0,
        tlsVerify: ca !== 'NONE',
      },
      {
        onOpen: () => { if (ref.s) this.onOpen(ref.s); },
        onText: (text) => { if (ref.s) this.onText(ref.s, text); },
        onBinary: () => { if (ref.s) ref.s.binaryIgnored++; },
        onDisconnect: (code, reason) => {
          // The bug stays attached: no MEDIA_BUG_STOP, and `start` fails until `stop`.
          port.fireCustom(STREAM_EVENT.disconnect, JSON.stringify({ status: 'disconnected', message: { code, reason } }));
        },
        onError: (code, error) => {
          port.fireCustom(STREAM_EVENT.error, JSON.stringify({ status: 'error', message: { code, error } }));
          if (ref.s) void this.teardown(ref.s);
        },
      },
    );
    const st: Stream = {
      uuid, port, client, framer, metadata, files: [], paused: false,
      metaPending: metadata !== undefined, audioMessages: 0, fileSeq: 0, binaryIgnored: 0, unsubscribe: () => {},
    };
    ref.s = st;
    this.streams.set(uuid, st);
    port.fireEvent('MEDIA_BUG_START', { ...MEDIA_BUG_HEADERS });
    // Audio flows from the first frame, before the upgrade: libwsc queues it while CONNECTING.
    st.unsubscribe = port.onReadFrame((pcm) => {
      if (st.paused || !st.client.isConnected()) return;
      st.framer.push(pcm, (msg) => {
        if (st.client.sendBinary(msg)) st.audioMessages++;
        if (st.metaPending && st.client.isOpen() && st.audioMessages >= after) this.sendMetadata(st);
      });
    });
    client.connect();
  }

  private onOpen(s: Stream): void {
    // Queue already flushed by the client; metadata goes next (unless held back on purpose), then ::connect.
    if (s.metaPending && s.audioMessages >= (this.opts.metadataAfterFrames ?? 0)) this.sendMetadata(s);
    s.port.fireCustom(STREAM_EVENT.connect, JSON.stringify({ status: 'connected' }));
  }

  private sendMetadata(s: Stream): void {
    s.metaPending = false;
    if (s.metadata === undefined) return;
    // initialMetadata[8192] + strncpy: longer values are cut (real: not NUL-terminated, undefined
    // behaviour); the twin keeps the first 8191 bytes.
    const bytes = Buffer.from(s.metadata, 'utf8');
    s.client.sendText(bytes.length < 8192 ? s.metadata : bytes.subarray(0, 8191).toString('utf8'));
  }

  private onText(s: Stream, text: string): void {
    const m = classifyServerText(text);
    if (m.kind === 'json') {
      s.port.fireCustom(STREAM_EVENT.json, m.body);
      return;
    }
    if (this.opts.playback === 'stream' && m.audioDataType === 'raw' && m.sampleRateHz !== undefined) {
      // voxcom fork: raw audio is injected into the call in real time, and no event fires.
      const n = m.audio.length >> 1;
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++) pcm[i] = m.audio.readInt16LE(i * 2);
      s.port.writeToEar(pcm, m.sampleRateHz);
      return;
    }
    const file = join(s.port.tempDir, `${s.uuid}_${s.fileSeq}.tmp.${m.ext}`);
    try {
      writeFileSync(file, m.audio);
    } catch (err) {
      this.opts.logger.warn({ uuid: s.uuid, err }, 'audio-stream: cannot write streamAudio file');
      s.port.fireCustom(STREAM_EVENT.json, text);
      return;
    }
    s.fileSeq++;
    s.files.push(file);
    s.port.fireCustom(STREAM_EVENT.play, m.playBody(file));
  }

  // stop / hangup / error: callbacks cleared first (no ::disconnect), bug removed, files deleted.
  private teardown(s: Stream): Promise<void> {
    if (this.streams.get(s.uuid) !== s) return Promise.resolve();
    this.streams.delete(s.uuid);
    s.client.detach();
    s.unsubscribe();
    s.port.fireEvent('MEDIA_BUG_STOP', { ...MEDIA_BUG_HEADERS });
    const p = (async () => {
      // After an error the client is already closed (or closing with 1007); close() just waits.
      await s.client.close(1000, 'Normal closure');
      for (const f of s.files) {
        try { rmSync(f, { force: true }); } catch (err) { this.opts.logger.warn({ uuid: s.uuid, err }, 'audio-stream: cannot delete file'); }
      }
    })();
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }
}
