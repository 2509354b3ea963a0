/**
 * The load-generator side of the media-loop benchmark: simulated mod_audio_stream clients (one
 * websocket per call, 20 ms tagged L16 frames on per-call phases) and instrumented echo bots of
 * each protocol. Everything here runs in the benchmark's main process; the system under test runs
 * in a child process (media-loop-sut.ts). Every timestamp is `performance.now()` of this process,
 * so one-way times need no clock sync across processes.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { FRAME_BYTES, FRAME_SAMPLES, readTagL16, readTagUlaw, writeTag, writeTaggedFrame, type Tag } from './media-loop-marker.js';

/** Which bot a step talks to: a protocol of the daemon, or 'raw' (binary echo) for the bare relay. */
export type BotKind = 'twilio' | 'exotel' | 'native' | 'raw';

/**
 * Per-frame timestamps, indexed call * frames + seq (NaN until seen). `upLast` is the seq of the
 * last frame in the bot message that carried this frame (exotel aggregates 10 frames);
 * `botOrd` is the frame's position in the bot's output stream of that call (for matching the
 * daemon's playout hold).
 */
export class FrameLog {
  readonly fsSend: Float64Array;
  readonly botRecv: Float64Array;
  readonly botSend: Float64Array;
  readonly fsRecv: Float64Array;
  readonly upLast: Int32Array;
  readonly botOrd: Int32Array;
  /** Frames that arrived without a readable tag (should stay 0). */
  untagged = 0;
  /** Frames received back at the simulated FreeSWITCH side. */
  received = 0;

  constructor(readonly calls: number, readonly frames: number) {
    const n = calls * frames;
    this.fsSend = new Float64Array(n).fill(NaN);
    this.botRecv = new Float64Array(n).fill(NaN);
    this.botSend = new Float64Array(n).fill(NaN);
    this.fsRecv = new Float64Array(n).fill(NaN);
    this.upLast = new Int32Array(n).fill(-1);
    this.botOrd = new Int32Array(n).fill(-1);
  }

  /** Index of (call, seq), or -1 when out of range. */
  at(t: Tag): number {
    return t.call < this.calls && t.seq < this.frames ? t.call * this.frames + t.seq : -1;
  }
}

/** A running instrumented echo bot. */
export interface BenchBot {
  readonly url: string;
  /** Connections currently open. */
  readonly open: number;
  close(): Promise<void>;
}

const PAYLOAD_KEY = Buffer.from('"payload":"');
const AUDIO_KEY = Buffer.from('"audioData":"');

/**
 * Starts an echo bot that timestamps every tagged frame it receives and echoes the audio at once,
 * in its protocol's shape (twilio/exotel JSON `media` with the same payload; native/raw binary).
 * It sends nothing else (no marks), so every message it sends is audio.
 */
export async function startBenchBot(kind: BotKind, log: FrameLog): Promise<BenchBot> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
  await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject); });
  wss.on('error', () => {});
  let open = 0;
  wss.on('connection', (ws) => {
    open++;
    let ord = 0;
    let sid = '';
    const seqs: number[] = [];
    ws.on('error', () => {});
    ws.on('close', () => { open--; });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const t = performance.now();
      if (kind === 'native' || kind === 'raw') {
        if (!isBinary) return; // native `start`
        seqs.length = 0;
        const frames = Math.floor(data.length / FRAME_BYTES);
        for (let j = 0; j < frames; j++) record(readTagL16(data, j * FRAME_BYTES), t, seqs);
        ws.send(data);
        sent(performance.now(), seqs, ord);
        ord += frames;
        return;
      }
      const at = data.indexOf(PAYLOAD_KEY);
      if (at < 0) {
        if (sid === '' && data.indexOf('"start"') >= 0) {
          const m = /"(?:streamSid|stream_sid)":"([^"]*)"/.exec(data.toString('utf8'));
          sid = m ? m[1] : '';
        }
        return;
      }
      const from = at + PAYLOAD_KEY.length;
      const b64 = data.toString('latin1', from, data.indexOf(0x22, from));
      const bytes = Buffer.from(b64, 'base64');
      seqs.length = 0;
      const frameBytes = kind === 'twilio' ? FRAME_SAMPLES : FRAME_BYTES;
      const frames = Math.floor(bytes.length / frameBytes);
      for (let j = 0; j < frames; j++) {
        record(kind === 'twilio' ? readTagUlaw(bytes, j * frameBytes) : readTagL16(bytes, j * frameBytes), t, seqs);
      }
      const msg = kind === 'twilio'
        ? '{"event":"media","streamSid":"' + sid + '","media":{"payload":"' + b64 + '"}}'
        : '{"event":"media","stream_sid":"' + sid + '","media":{"payload":"' + b64 + '"}}';
      ws.send(msg);
      sent(performance.now(), seqs, ord);
      ord += frames;
    });
  });

  function record(tag: Tag | null, t: number, seqs: number[]): void {
    const i = tag ? log.at(tag) : -1;
    if (i < 0) { log.untagged++; seqs.push(-1); return; }
    log.botRecv[i] = t;
    seqs.push(i);
  }
  function sent(t: number, idx: number[], ord0: number): void {
    let last = -1;
    for (const i of idx) if (i >= 0) last = i % log.frames;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      if (i < 0) continue;
      log.botSend[i] = t;
      log.botOrd[i] = ord0 + k;
      log.upLast[i] = last;
    }
  }

  const port = (wss.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `ws://127.0.0.1:${port}/`,
    get open() { return open; },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
  };
}

/** One simulated mod_audio_stream client (the FreeSWITCH side of one call). */
export class SimStream {
  private ws: WebSocket | null = null;
  private readonly frame = Buffer.alloc(FRAME_BYTES);
  /** Next frame's send deadline (performance.now() ms) and sequence number. */
  nextDueMs = 0;
  seq = 0;

  constructor(readonly call: number, private readonly log: FrameLog) {
    writeTaggedFrame(this.frame, call, 0);
  }

  /** Frames this stream sends in all. */
  get totalFrames(): number { return this.log.frames; }

  /** Opens the websocket (as mod_audio_stream does: no deflate, no subprotocol); resolves when open. */
  connect(url: string, metadata: string | null, timeoutMs: number): Promise<void> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    return new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        // The real module sends its metadata text after connecting (not necessarily first).
        if (metadata !== null) ws.send(metadata);
        resolve();
      });
      ws.once('error', reject);
    }).finally(() => ws.on('error', () => {}));
  }

  get isOpen(): boolean { return this.ws?.readyState === WebSocket.OPEN; }

  /** Sends frame `seq` now (if the socket is open) and timestamps it; always moves on to the next seq. */
  sendFrame(): void {
    const ws = this.ws;
    const seq = this.seq++;
    if (!ws || ws.readyState !== WebSocket.OPEN || seq >= this.log.frames) return;
    writeTag(this.frame, this.call, seq);
    this.log.fsSend[this.call * this.log.frames + seq] = performance.now();
    ws.send(this.frame);
  }

  close(): void {
    this.ws?.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const t = performance.now();
    let pcm: Buffer;
    if (isBinary) {
      pcm = data;
    } else {
      // streamAudio from the daemon (base64 has no quote, so the payload ends at the next quote)
      const at = data.indexOf(AUDIO_KEY);
      if (at < 0) return;
      const from = at + AUDIO_KEY.length;
      pcm = Buffer.from(data.toString('latin1', from, data.indexOf(0x22, from)), 'base64');
    }
    const frames = Math.floor(pcm.length / FRAME_BYTES);
    for (let j = 0; j < frames; j++) {
      const tag = readTagL16(pcm, j * FRAME_BYTES);
      const i = tag && tag.call === this.call ? this.log.at(tag) : -1;
      if (i < 0) { this.log.untagged++; continue; }
      this.log.fsRecv[i] = t;
      this.log.received++;
    }
  }
}

/**
 * Sends every stream's frames on 20 ms deadlines, each call on its own phase (call i starts
 * i/N·20 ms after the others), as FreeSWITCH's per-channel media timers do. A late wake-up sends
 * the missed frames at once (at most `maxCatchUp`), further misses are skipped and counted.
 */
export class FrameScheduler {
  skipped = 0;
  private cancel: NodeJS.Timeout | null = null;

  constructor(private readonly streams: SimStream[], private readonly frameMs = 20, private readonly maxCatchUp = 5) {}

  /** Starts at `t0Ms` (performance.now() time); stops by itself after the last frame. */
  start(t0Ms: number): void {
    const n = this.streams.length;
    this.streams.forEach((s, i) => { s.nextDueMs = t0Ms + (i * this.frameMs) / n; });
    const tick = (): void => {
      const now = performance.now();
      let pending = false;
      for (const s of this.streams) {
        let sentNow = 0;
        while (s.nextDueMs <= now && s.seq < s.totalFrames) {
          if (sentNow >= this.maxCatchUp) {
            s.seq++;
            this.skipped++;
          } else {
            s.sendFrame();
            sentNow++;
          }
          s.nextDueMs += this.frameMs;
        }
        if (s.seq < s.totalFrames) pending = true;
      }
      this.cancel = pending ? setTimeout(tick, 1) : null;
    };
    this.cancel = setTimeout(tick, Math.max(0, t0Ms - performance.now()));
  }

  stop(): void {
    if (this.cancel) clearTimeout(this.cancel);
    this.cancel = null;
  }
}
