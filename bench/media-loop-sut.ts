/**
 * The system under test of the media-loop benchmark, run as a child process of media-loop.ts
 * (spawned with an IPC channel, `--expose-gc`, pinned to one core when taskset is available) so
 * that its CPU time and memory are its own.
 *
 * mode 'daemon': fsbridge's MediaServer and one MediaLeg per call (playback 'stream'), exactly as
 * the daemon wires them, with a fake StreamControl whose audioStreamStart asks the parent to open
 * the simulated mod_audio_stream websocket to the URL it was given.
 * mode 'relay': the baseline, a bare websocket relay: a ws server for the caller side and one ws
 * client per call to the bot, forwarding every message unchanged both ways (the same number of
 * websocket hops as the daemon path, no conversion).
 *
 * In daemon mode it also measures the playout hold of every bot→caller frame (time from the bot
 * message's arrival to the streamAudio message that carries the frame), which is pacing by design
 * and is reported apart from transit. Messages: see {@link SutRequest} / {@link SutReply}.
 */
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { performance as perfHooks } from 'node:perf_hooks';
import { MediaLeg, type StreamControl } from '../src/calls/media-leg.js';
import { MediaServer, type MediaConnection, type MediaSink } from '../src/media/server.js';
import { BotConnection } from '../src/bots/client.js';
import type { BotProtocol } from '../src/bots/adapter.js';
import type { BotConfig, DeepReadonly } from '../src/config/schema.js';
import { MetricsRegistry } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/logger.js';
import { systemClock } from '../src/clock.js';
import { HOLD_EVERY, type SutReply, type SutRequest } from './media-loop-ipc.js';

const FRAME_SAMPLES = 160;
const ARRIVALS = 64;
const PAYLOAD_KEY = Buffer.from('"payload":"');
const AUDIO_KEY = '"audioData":"';
const ERROR_CODES = ['BOT_SEND_DROPPED', 'MEDIA_PLAYOUT_OVERFLOW', 'MEDIA_PACER_STALL', 'MEDIA_PLAYBACK_DROPPED', 'MEDIA_SINK_THREW', 'BOT_CLOSED_ABNORMALLY'];

function base64Bytes(len: number, last: number, prev: number): number {
  return (len / 4) * 3 - (last === 0x3d ? 1 : 0) - (prev === 0x3d ? 1 : 0);
}

/** Playout hold per bot→caller frame of one call, matched by sample position. */
class HoldTracker {
  private readonly arrMs = new Float64Array(ARRIVALS);
  private readonly arrEnd = new Float64Array(ARRIVALS);
  private head = 0;
  private count = 0;
  private inSamples = 0;
  private outSamples = 0;
  /** hold[k] = ms frame k of the bot's output waited in fsbridge; allocated when measuring starts. */
  hold: Float32Array | null = null;

  constructor(private readonly protocol: BotProtocol) {}

  onBotMessage(data: Buffer, isBinary: boolean): void {
    let samples: number;
    if (isBinary) {
      samples = data.length >> 1;
    } else {
      const at = data.indexOf(PAYLOAD_KEY);
      if (at < 0) return;
      const from = at + PAYLOAD_KEY.length;
      const end = data.indexOf(0x22, from);
      const bytes = base64Bytes(end - from, data[end - 1], data[end - 2]);
      samples = this.protocol === 'twilio' ? bytes : bytes >> 1;
    }
    if (samples <= 0) return;
    this.inSamples += samples;
    if (this.count === ARRIVALS) { this.head = (this.head + 1) % ARRIVALS; this.count--; }
    const i = (this.head + this.count) % ARRIVALS;
    this.arrMs[i] = performance.now();
    this.arrEnd[i] = this.inSamples;
    this.count++;
  }

  onSendText(text: string): void {
    const at = text.indexOf(AUDIO_KEY);
    if (at < 0) return;
    const from = at + AUDIO_KEY.length;
    const end = text.length - 3; // '"}}'
    const samples = base64Bytes(end - from, text.charCodeAt(end - 1), text.charCodeAt(end - 2)) >> 1;
    const now = performance.now();
    const stop = this.outSamples + samples;
    const hold = this.hold;
    for (let p = Math.ceil(this.outSamples / FRAME_SAMPLES) * FRAME_SAMPLES; p < stop; p += FRAME_SAMPLES) {
      while (this.count > 0 && this.arrEnd[this.head] <= p) { this.head = (this.head + 1) % ARRIVALS; this.count--; }
      const k = p / FRAME_SAMPLES;
      if (hold && this.count > 0 && k < hold.length) hold[k] = now - this.arrMs[this.head];
    }
    this.outSamples = stop;
  }
}

function send(m: SutReply): void {
  process.send?.(m);
}

const gc = (globalThis as { gc?: () => void }).gc;
const metrics = new MetricsRegistry();
const logger = silentLogger();
let init: Extract<SutRequest, { t: 'init' }> | null = null;
let media: MediaServer | null = null;
let relay: WebSocketServer | null = null;
let port = 0;
const legs: MediaLeg[] = [];
const trackers: (HoldTracker | undefined)[] = [];
let relayDropped = 0;
let cpu0 = process.cpuUsage();
let wall0 = 0;
let elu0 = perfHooks.eventLoopUtilization();

const ok = (): Promise<{ ok: true; body: string; value: string }> => Promise.resolve({ ok: true, body: '+OK\n', value: '' });

async function onInit(m: Extract<SutRequest, { t: 'init' }>): Promise<void> {
  init = m;
  if (m.mode === 'daemon') {
    media = new MediaServer({ logger, metrics, host: '127.0.0.1', port: 0 });
    port = (await media.listen()).port;
  } else {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 65_536 });
    await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject); });
    wss.on('error', () => {});
    wss.on('connection', (fs) => {
      const bot = new WebSocket(m.botUrl, { perMessageDeflate: false });
      fs.on('message', (d: Buffer, isBinary: boolean) => {
        if (bot.readyState === WebSocket.OPEN) bot.send(d, { binary: isBinary });
        else relayDropped++;
      });
      bot.on('message', (d: Buffer, isBinary: boolean) => {
        if (fs.readyState === WebSocket.OPEN) fs.send(d, { binary: isBinary });
        else relayDropped++;
      });
      fs.on('close', () => bot.close(1000));
      bot.on('close', () => fs.close(1000));
      fs.on('error', () => {});
      bot.on('error', () => {});
    });
    relay = wss;
    port = (wss.address() as AddressInfo).port;
  }
  send({ t: 'listening', port });
}

async function onStart(): Promise<void> {
  const m = init!;
  const srv = media!;
  const protocol = m.protocol!;
  const bot = {
    url: m.botUrl + protocol, protocol, headers: {}, connectTimeoutMs: 3000, onDisconnect: 'hangup',
    sampleRate: 8000, encoding: 'l16', tls: { rejectUnauthorized: true },
  } as DeepReadonly<BotConfig>;
  let failed = 0;
  const BATCH = 50;
  for (let b = 0; b < m.calls; b += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = b; i < Math.min(m.calls, b + BATCH); i++) {
      const tracker = i % HOLD_EVERY === 0 ? new HoldTracker(protocol) : null;
      if (tracker) trackers[i] = tracker;
      const control: StreamControl = {
        audioStreamStart: (_uuid: string, url: string, _mix: unknown, _rate: number, metadata?: string) => {
          send({ t: 'open', call: i, url, metadata: metadata ?? '' });
          return ok();
        },
        audioStreamStop: ok, uuidBroadcast: ok, uuidBreak: ok, uuidSendDtmf: ok, bgapi: ok,
      } as unknown as StreamControl;
      // Wrap the media sink so that streamAudio messages pass the hold tracker on their way out.
      const mediaPort = !tracker ? srv : {
        expect: (callId: string, token: string, sink: MediaSink, o?: { sampleRateHz?: number }) => srv.expect(callId, token, {
          onOpen: (conn: MediaConnection) => sink.onOpen({
            callId: conn.callId,
            sendText: (text: string) => { tracker.onSendText(text); conn.sendText(text); },
            close: (code?: number, reason?: string) => conn.close(code, reason),
          }),
          onAudio: (pcm: Int16Array, rate: number) => sink.onAudio(pcm, rate),
          onText: (text: string) => sink.onText(text),
          onClose: (code: number, reason: string) => sink.onClose(code, reason),
        }, o),
        forget: (callId: string) => srv.forget(callId),
      };
      const leg = new MediaLeg({
        info: { callId: `c${i}`, fsUuid: `uuid-${i}`, from: '+15550000000', to: '+15550000001', direction: 'inbound', params: {}, accountSid: 'AC' + '0'.repeat(32) },
        botName: 'bench', bot, control, media: mediaPort, mediaUrlBase: `ws://127.0.0.1:${port}`,
        fsSampleRateHz: 8000, playback: 'stream', segmentMs: 200, playoutBufferMs: 60_000, pipeDir: '', pipeLeadMs: 40,
        clock: systemClock, logger, metrics,
        connectBot: !tracker ? undefined : (o) => {
          const c = new BotConnection(o);
          // registered before MediaLeg's own listener, so the arrival is stamped before playback runs
          c.on('message', (data, isBinary) => tracker.onBotMessage(data, isBinary));
          return c;
        },
      });
      legs.push(leg);
      batch.push(leg.start().catch(() => { failed++; }));
    }
    await Promise.all(batch);
  }
  send({ t: 'started', failed });
}

function onMem(): void {
  gc?.();
  gc?.();
  const u = process.memoryUsage();
  let apparatusBytes = 0;
  for (const tr of trackers) if (tr) apparatusBytes += 2 * ARRIVALS * 8;
  send({ t: 'mem', heapUsed: u.heapUsed, external: u.external, rss: u.rss, apparatusBytes });
}

async function onStop(): Promise<void> {
  await Promise.all(legs.map((l) => l.stop()));
  await media?.close();
  if (relay) {
    for (const c of relay.clients) c.terminate();
    await new Promise<void>((resolve) => relay!.close(() => resolve()));
  }
  send({ t: 'stopped' });
  setTimeout(() => process.exit(0), 50).unref();
}

process.on('message', (m: SutRequest) => {
  switch (m.t) {
    case 'init': void onInit(m); return;
    case 'start': void onStart(); return;
    case 'mem': onMem(); return;
    case 'measureStart':
      for (const tr of trackers) if (tr) tr.hold = new Float32Array(init!.frames + 64).fill(NaN);
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
      elu0 = perfHooks.eventLoopUtilization();
      return;
    case 'measureStop': {
      const c = process.cpuUsage(cpu0);
      const elu = perfHooks.eventLoopUtilization(elu0);
      send({ t: 'cpu', userUs: c.user, systemUs: c.system, wallMs: performance.now() - wall0, elu: elu.utilization });
      return;
    }
    case 'report': {
      const errors: Record<string, number> = { RELAY_DROPPED: relayDropped };
      for (const code of ERROR_CODES) errors[code] = metrics.errorCount(code);
      const holds: Float32Array[] = [];
      for (let i = 0; i < (init?.calls ?? 0); i++) holds.push(trackers[i]?.hold ?? new Float32Array(0));
      send({ t: 'report', holds, errors });
      for (const tr of trackers) if (tr) tr.hold = null;
      return;
    }
    case 'stop': void onStop(); return;
  }
});
process.on('disconnect', () => process.exit(0));
