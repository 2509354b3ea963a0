import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { FsbridgeError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { EslControl } from '../esl/control.js';
import type { FsEvent } from '../esl/events.js';
import type { MediaConnection, MediaServer, MediaSink } from '../media/server.js';
import type { PlaybackActions, PlaybackController } from '../media/playback.js';
import { FilePlayback } from '../media/file-playback.js';
import { StreamPlayback } from '../media/stream-playback.js';
import { PipePlayback } from '../media/pipe-playback.js';
import { Downsampler16kTo8k, Upsampler8kTo16k } from '../media/resample.js';
import { Reframer } from '../media/reframer.js';
import { BotConnection, type BotConnectionOptions } from '../bots/client.js';
import { createBotAdapter } from '../bots/create-adapter.js';
import { BotInputReporter } from '../bots/input-reporter.js';
import { LogLimiter, SUPPRESSED } from '../observability/log-limiter.js';
import type { BotAdapter, BotCommand, CallInfo } from '../bots/adapter.js';
import type { BotConfig } from '../config/schema.js';
import type { DeepReadonly, PlaybackMode } from '../config/schema.js';
import type { BotLegEnd, BotRequest } from './ports.js';
import type { SupervisedLeg } from './call-supervisor.js';
import { transferAllowed } from './transfer-policy.js';
import { PipeOutput, type PipeFile } from './pipe-output.js';
import { RecordingWriter, type RecordingTarget } from '../recordings/recording-writer.js';
import { StereoTap } from '../recordings/stereo-tap.js';
import { CallAnalysis, type AnalysisEvent } from '../analysis/call-analysis.js';
import { ComfortNoise } from '../analysis/comfort-noise.js';
import { AmdGate, type AmdAction } from './amd-gate.js';
import type { AmdRequest } from '../analysis/amd-request.js';
import { loadPrompt } from './prompt-audio.js';

/** The ESL commands the media leg uses (a subset of EslControl, so tests can fake it). */
export type StreamControl = Pick<EslControl, 'audioStreamStart' | 'audioStreamStop' | 'uuidBroadcast' | 'uuidBreak' | 'uuidSendDtmf' | 'uuidGetvar' | 'bgapi'>;

/** What one call's media leg is made of, as plain data (what a media worker receives). */
export interface MediaLegSpec {
  info: CallInfo;
  botName: string;
  bot: DeepReadonly<BotConfig>;
  /** Rate asked of mod_audio_stream (freeswitch.sampleRate). */
  fsSampleRateHz: 8000 | 16000;
  playback: PlaybackMode;
  segmentMs: number;
  playoutBufferMs: number;
  /** 'pipe' mode: where the call's FIFO is made (media.pipeDir). */
  pipeDir: string;
  /** 'pipe' mode: audio written ahead of FreeSWITCH (media.pipeLeadMs). */
  pipeLeadMs: number;
  /** Where the call is recorded (both directions, encrypted); absent: not recorded. */
  recording?: RecordingTarget;
  /** Answering-machine detection: the bot is connected once it decided (outbound calls that ask). */
  amd?: AmdRequest;
}

export interface MediaLegOptions extends MediaLegSpec {
  control: StreamControl;
  media: Pick<MediaServer, 'expect' | 'forget'>;
  /** `ws://host:port` that FreeSWITCH reaches the media server at (media.advertise). */
  mediaUrlBase: string;
  /** Makes and opens a FIFO ('pipe' mode; tests may replace it). */
  createFifo?: (path: string) => Promise<PipeFile>;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** The daemon's limiter for per-message warnings, shared by every call (see FilePlayback). */
  sharedLogs?: LogLimiter;
  /** Builds the bot websocket client; tests may replace it. */
  connectBot?: (o: BotConnectionOptions) => BotConnection;
}

type EndedCb = (why: BotLegEnd) => void;

/** Largest message resampled (samples in); longer ones are cut (mod_audio_stream sends 20–100 ms). */
const MAX_RESAMPLE_IN = 8192;
/** Text messages for mod_audio_stream kept while its websocket is not open yet. */
const MAX_PENDING_TEXT = 64;
/** How long the fallback prompt may take before the call is hung up anyway. */
const FALLBACK_MAX_MS = 60_000;
/**
 * How long a closed mod_audio_stream websocket is given before it counts as lost: on the real
 * FreeSWITCH 1.10.12 the module closes it when the channel hangs up, before the outbound socket
 * reports the hang-up (seen with caller hang-ups and with FreeSWITCH killed).
 */
const STREAM_LOSS_GRACE_MS = 1000;
/** 'pipe' mode: set-up tried again this often while the Event Socket connection is down … */
const PIPE_RETRY_MS = 500;
/** … this many times. */
const PIPE_RETRIES = 10;
/** One reconnect must open within this (design: within 2 s). */
const RECONNECT_WINDOW_MS = 2000;
/** How often the line is checked for audio that stopped arriving (dead line). */
const DEAD_LINE_CHECK_MS = 1000;
/** AMD's message: the call ends at the latest this long after the message's own length. */
const MESSAGE_GRACE_MS = 5000;
/** Buckets of the per-call speech ratio. */
const RATIO_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/**
 * The bot side of one call: the mod_audio_stream websocket (caller audio in, playback out), the
 * bot websocket and its protocol adapter, the playback controller ('pipe', 'file' or 'stream'), and the
 * bot's onDisconnect policy (hangup | fallback | reconnect). Lifecycle: start() once; stop() is
 * idempotent; `onEnded` fires at most once when the bot side ends the call by itself.
 * Faults stay inside this call: every bot message goes through the adapter, which never throws.
 */
export class MediaLeg implements SupervisedLeg, MediaSink {
  private readonly log: Logger;
  private readonly fsUuid: string;
  private readonly token = randomBytes(24).toString('base64url');
  private adapter: BotAdapter;
  private bot: BotConnection | null = null;
  private conn: MediaConnection | null = null;
  private pendingText: string[] = [];
  private readonly playback: PlaybackController;
  /** 'pipe' mode: the call's FIFO, opened when the bot first connects, and its writer. */
  private readonly pipe: PipeOutput | null = null;
  private readonly pipePlayback: PipePlayback | null = null;
  private pipeOpening = false;
  private cancelPipeRetry: (() => void) | null = null;
  /** Caller audio in 20 ms frames whatever the channel's packet time (30 ms trunks). */
  private readonly reframer: Reframer;
  private readonly up = new Upsampler8kTo16k();
  private readonly down = new Downsampler16kTo8k();
  /** Resampler output, allocated on first use (most calls never resample) and grown, rarely. */
  private scratch: Int16Array | null = null;
  private broadcastChain: Promise<unknown> = Promise.resolve();
  /** Bumped by every break: broadcasts queued before it are dropped, not sent after it. */
  private playGeneration = 0;
  private endedCb: EndedCb | null = null;
  private requestCb: ((r: BotRequest) => void) | null = null;
  private endedFired = false;
  private stopped = false;
  private reconnects = 0;
  /** Times mod_audio_stream's websocket was started again after it closed mid-call. */
  private streamRestarts = 0;
  private cancelStreamCheck: (() => void) | null = null;
  private fallbackFile: string | null = null;
  private cancelFallback: (() => void) | null = null;
  private readonly counters;
  /** Bad or ignored bot messages: every one counted, logged at most once per 10 s per code. */
  private readonly badInput: BotInputReporter;
  /** This leg's own per-message warnings (denied transfers), limited the same way. */
  private readonly logs: LogLimiter;
  /** The call's recording: both directions on the caller's clock, written encrypted. */
  private readonly recorder: RecordingWriter | null = null;
  private readonly tap: StereoTap | null = null;
  /** What the bot is told about the call (AMD adds AnsweredBy to its parameters). */
  private readonly info: CallInfo;
  /** The analysis of the caller's audio: speech, tones, AMD, silence timeout, flat line. */
  private readonly analysis: CallAnalysis;
  /** Speech events go to this bot (native always; others when they opted in). */
  private readonly speechEvents: boolean;
  /** Answering-machine detection: the bot waits for its decision (outbound calls that asked). */
  private readonly amd: AmdGate | null = null;
  /** AMD's message: the call ends this long after it started playing, whatever the playback says. */
  private cancelMessageGuard: (() => void) | null = null;
  private silencePrompts = 0;
  /** Caller audio time (ms) when the bot's `start` was sent: its events count from there. */
  private botOriginMs = 0;
  /** When caller audio last arrived (clock ms); dead-line check. */
  private lastAudioAtMs = 0;
  private cancelDeadCheck: (() => void) | null = null;
  /** Marks fsbridge placed after its own prompts: run when the prompt has played (or was cleared). */
  private readonly localMarks = new Map<string, () => void>();
  private localMarkSeq = 0;

  constructor(private readonly o: MediaLegOptions) {
    this.fsUuid = o.info.fsUuid;
    this.log = o.logger;
    this.adapter = this.makeAdapter(0);
    this.badInput = new BotInputReporter(o.logger, o.metrics, o.clock);
    this.logs = new LogLimiter({ clock: o.clock });
    this.reframer = new Reframer(o.fsSampleRateHz / 50, (frame) => this.onFrame(frame));
    this.info = { ...o.info, params: { ...o.info.params } };
    if (o.amd) {
      this.amd = new AmdGate({
        amd: o.amd, clock: o.clock, logger: o.logger, metrics: o.metrics,
        report: (answeredBy, decisionMs) => {
          this.info.params.AnsweredBy = answeredBy;
          this.requestCb?.({ kind: 'amd', answeredBy, decisionMs });
        },
        act: (action) => this.amdAct(action),
      });
    }
    const b = o.bot;
    this.speechEvents = b.protocol === 'native' || b.speechEvents === true || o.info.params.fsbridgeSpeechEvents === 'true';
    this.analysis = new CallAnalysis({
      sampleRateHz: o.fsSampleRateHz,
      ...(o.amd ? { amd: { params: o.amd.params, waitForEnd: o.amd.onMachine !== 'hangup' } } : {}),
      ...(b.silenceTimeout ? { silenceTimeoutMs: b.silenceTimeout.afterSec * 1000 } : {}),
      ...(b.deadLineSec > 0 ? { deadLineMs: b.deadLineSec * 1000 } : {}),
    });
    if (o.recording) {
      const recorder = new RecordingWriter({ target: o.recording, logger: o.logger, metrics: o.metrics });
      this.recorder = recorder;
      // 'pipe' mode taps the pipe's real-time writes: they stay within its lead of the caller's
      // clock. In the other modes a bot's burst runs ahead by up to the playout buffer.
      const aheadMs = (o.playback === 'pipe' ? 0 : o.playoutBufferMs) + 2000;
      this.tap = new StereoTap((stereo) => recorder.push(stereo), Math.round((o.fsSampleRateHz * aheadMs) / 1000));
    }
    const actions: PlaybackActions = {
      sendText: (t) => this.sendToFs(t),
      broadcast: (file) => this.broadcast(file),
      breakAll: () => this.breakAll(),
      breakCurrent: () => { void this.o.control.uuidBreak(this.fsUuid, undefined); },
      markPlayed: (name) => this.markPlayed(name),
    };
    const common = { clock: o.clock, logger: o.logger, metrics: o.metrics, actions, sampleRateHz: o.fsSampleRateHz, sharedLogs: o.sharedLogs };
    if (o.playback === 'pipe') {
      const pipe = new PipeOutput({
        callId: o.info.callId, fsUuid: this.fsUuid, dir: o.pipeDir, inRateHz: o.fsSampleRateHz,
        control: o.control, clock: o.clock, logger: o.logger, metrics: o.metrics, createFifo: o.createFifo,
      });
      this.pipe = pipe;
      this.playback = this.pipePlayback = new PipePlayback({
        clock: o.clock, logger: o.logger, metrics: o.metrics, sampleRateHz: o.fsSampleRateHz, sharedLogs: o.sharedLogs,
        maxBufferMs: o.playoutBufferMs, leadFrames: o.pipeLeadMs / 20,
        ...(b.comfortNoise ? { noise: new ComfortNoise({ levelDbfs: b.comfortNoise.levelDbfs, ambienceDbfs: b.comfortNoise.ambienceDbfs }) } : {}),
        // what goes into the pipe is what the caller hears: that is what is recorded
        actions: { writeFrame: (pcm) => { this.tap?.bot(pcm); return pipe.writeFrame(pcm); }, dropWritten: () => pipe.dropWritten(), markPlayed: actions.markPlayed },
      });
    } else {
      this.playback = o.playback === 'file'
        ? new FilePlayback({ ...common, segmentMs: o.segmentMs, maxBufferMs: o.playoutBufferMs })
        : new StreamPlayback({ ...common, maxBufferMs: o.playoutBufferMs });
    }
    const m = o.metrics;
    this.counters = {
      framesToBot: m.counter('fsbridge_bot_messages_out_total', 'Messages sent to bots'),
      framesFromBot: m.counter('fsbridge_bot_messages_in_total', 'Messages received from bots'),
      botConnectFailures: m.counter('fsbridge_bot_connect_failures_total', 'Bot connections that failed to open'),
    };
  }

  onEnded(cb: EndedCb): void { this.endedCb = cb; }
  onRequest(cb: (r: BotRequest) => void): void { this.requestCb = cb; }

  /**
   * Starts the audio stream and connects the bot; resolves when the bot is connected, or at once
   * when stop() came meanwhile (then nothing is left open). Rejects with CALL_MEDIA_FAILED when
   * FreeSWITCH refused the stream.
   */
  async start(): Promise<void> {
    const { info, media } = this.o;
    media.expect(info.callId, this.token, this, { sampleRateHz: this.o.fsSampleRateHz });
    const r = await this.startStream();
    if (this.stopped) return; // the call ended while FreeSWITCH started the stream
    if (!r.ok) {
      media.forget(info.callId);
      throw new FsbridgeError('CALL_MEDIA_FAILED', `uuid_audio_stream start failed: ${r.code}`);
    }
    // 'pipe' mode: the pipe is set up while the bot connects, so that it plays (silence) by the
    // time the bot's first audio arrives. Opened after the bot instead, the bot's audio of the
    // set-up time (~140 ms of an echo, measured on the real FreeSWITCH) queued in fsbridge, and
    // a real-time bot stayed that much behind for the whole call.
    this.openPipe();
    this.watchDeadLine();
    if (this.amd && !(await this.amd.wait())) return;
    // ended meanwhile (a dead line, a hang-up still on its way to stop()): no bot
    if (this.stopped || this.endedFired) return;
    await this.connectBot();
  }

  private startStream() {
    const { info, control } = this.o;
    const url = `${this.o.mediaUrlBase}/${info.callId}/${this.token}`;
    const metadata = JSON.stringify({ callId: info.callId, bot: this.o.botName });
    return control.audioStreamStart(this.fsUuid, url, 'mono', this.o.fsSampleRateHz, metadata);
  }

  /**
   * Caller hung up or fsbridge ends the call: `stop` to the bot, close 1000. With `detachStream`
   * (the channel lives on) `uuid_audio_stream stop` detaches the stream, and with `breakPlayback`
   * the bot audio still playing is broken off (`uuid_break all`); resolves when FreeSWITCH
   * answered those. Idempotent.
   */
  async stop(opts: { detachStream?: boolean; breakPlayback?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelFallback?.();
    this.cancelStreamCheck?.();
    this.cancelPipeRetry?.();
    this.cancelDeadCheck?.();
    this.cancelMessageGuard?.();
    this.amd?.close();
    if (this.analysis.vad.frames >= 50) {
      this.o.metrics.histogram('fsbridge_call_speech_ratio', 'Share of each call\'s caller audio that was speech (calls of 1 s or more)', RATIO_BUCKETS).observe(this.analysis.speechRatio);
    }
    this.playback.close();
    this.pipe?.close();
    this.badInput.close();
    this.logs.flush((code, suppressed) => this.log.warn({ code, suppressed }, 'repeated call warnings suppressed'));
    const detached = Promise.all([
      opts.breakPlayback ? this.o.control.uuidBreak(this.fsUuid, 'all') : null,
      opts.detachStream ? this.o.control.audioStreamStop(this.fsUuid) : null,
    ]);
    const bot = this.bot;
    if (bot && bot.state === 'open') {
      this.sendToBot(this.adapter.stop('callended'));
      bot.close(1000, 'call ended');
    } else bot?.close(1000);
    this.o.media.forget(this.o.info.callId);
    this.conn?.close(1000, 'call ended');
    await Promise.all([detached, this.recorder?.close()]);
  }

  dtmf(digit: string): void {
    this.sendToBot(this.adapter.dtmf(digit));
  }

  /** FreeSWITCH events of this channel (routed by uuid from the control connection). */
  onFsEvent(ev: FsEvent): void {
    if (this.stopped) return;
    if (ev.name === 'CUSTOM') {
      switch (ev.subclass) {
        case 'mod_audio_stream::play': {
          const file = parseJsonField(ev.body, 'file');
          if (file) this.playback.onPlay(file);
          return;
        }
        case 'mod_audio_stream::json':
          if (ev.body?.startsWith('{"type":"streamAudio"')) this.playback.onRejected();
          return;
        case 'mod_audio_stream::error':
          this.o.metrics.error('CALL_MEDIA_FAILED');
          this.log.warn({ code: 'CALL_MEDIA_FAILED', body: ev.body }, 'mod_audio_stream reported an error');
          this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'CALL_MEDIA_FAILED' });
          return;
        default:
          return;
      }
    }
    if (ev.name === 'PLAYBACK_START' || ev.name === 'PLAYBACK_STOP') {
      const hangingUp = ev.headers['Channel-Call-State'] === 'HANGUP' || ev.headers['Answer-State'] === 'hangup';
      if (this.pipe?.onPlaybackEvent(ev.name, ev.headers['Playback-File-Path'] ?? '', hangingUp)) return;
    }
    if (ev.name === 'PLAYBACK_START') {
      this.playback.onPlaybackStart(ev.headers['Playback-File-Path'] ?? '');
      return;
    }
    if (ev.name === 'PLAYBACK_STOP') {
      const file = ev.headers['Playback-File-Path'] ?? '';
      if (this.fallbackFile !== null && file === this.fallbackFile) {
        this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'BOT_FALLBACK_PLAYED' });
        return;
      }
      this.playback.onPlaybackStop(file);
    }
  }

  // --- MediaSink: mod_audio_stream's websocket ---

  onOpen(conn: MediaConnection): void {
    this.conn = conn;
    this.lastAudioAtMs = this.o.clock.nowMs();
    const pending = this.pendingText;
    this.pendingText = [];
    for (const t of pending) conn.sendText(t);
  }

  onAudio(pcm: Int16Array, _sampleRateHz: number): void {
    this.lastAudioAtMs = this.o.clock.nowMs();
    // recorded from the first frame, bot connected or not
    this.tap?.caller(pcm);
    if (this.stopped) return;
    this.reframer.push(pcm);
  }

  /** One 20 ms frame of caller audio (at fsSampleRateHz): analysed, then to the bot once it is connected. */
  private onFrame(frame: Int16Array): void {
    // the silence timeout (and the flat-line count) waits while the bot plays, or is not there yet
    const events = this.analysis.push(frame, this.playback.busy || this.bot?.state !== 'open');
    for (let i = 0; i < events.length; i++) this.onAnalysis(events[i]);
    if (this.stopped || this.endedFired || !this.bot || this.bot.state !== 'open') return;
    this.frameToBot(frame);
  }

  /** One 20 ms frame of caller audio (at fsSampleRateHz) to the bot, in its rate and format. */
  private frameToBot(frame: Int16Array): void {
    const want = this.adapter.sampleRateHz;
    const have = this.o.fsSampleRateHz;
    this.sendToBot(this.adapter.audio(want === have ? frame : this.resample(frame, have, want)));
  }

  onText(_text: string): void {
    // The start metadata comes back here (fsbridge sent it); nothing to do.
  }

  /**
   * mod_audio_stream's websocket closed while the call is live: the caller's audio no longer
   * reaches the bot. Unless the call ends within STREAM_LOSS_GRACE_MS (a hang-up closes the stream
   * first), the stream is started once more; a failed start or a second loss ends the call
   * (CALL_MEDIA_STREAM_LOST).
   */
  onClose(code: number, reason: string): void {
    this.conn = null;
    if (this.stopped || this.endedFired) return;
    this.cancelStreamCheck?.();
    this.cancelStreamCheck = this.o.clock.setTimeout(() => {
      this.cancelStreamCheck = null;
      if (!this.stopped && !this.endedFired && this.conn === null) this.streamLost(code, reason);
    }, STREAM_LOSS_GRACE_MS);
  }

  private streamLost(code: number, reason: string): void {
    this.o.metrics.error('CALL_MEDIA_STREAM_LOST');
    if (this.streamRestarts > 0) {
      this.log.warn({ code, reason, errorCode: 'CALL_MEDIA_STREAM_LOST' }, 'media stream closed again: ending the call');
      this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'CALL_MEDIA_STREAM_LOST' });
      return;
    }
    this.streamRestarts++;
    this.log.warn({ code, reason, errorCode: 'CALL_MEDIA_STREAM_LOST' }, 'media stream closed mid-call: starting it again');
    void (async () => {
      // the module's media bug may still be attached: stop it before starting again
      await this.o.control.audioStreamStop(this.fsUuid);
      if (this.stopped) return;
      const r = await this.startStream();
      if (this.stopped || r.ok) return;
      this.log.warn({ errorCode: 'CALL_MEDIA_STREAM_LOST', esl: r.code }, 'media stream could not be started again: ending the call');
      this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'CALL_MEDIA_STREAM_LOST' });
    })().catch(() => {});
  }

  // --- the analysis of the caller's audio ---

  private onAnalysis(e: AnalysisEvent): void {
    if (this.stopped || this.endedFired) return;
    const botOpen = this.bot?.state === 'open';
    switch (e.kind) {
      case 'speech_started':
        this.silencePrompts = 0;
        if (botOpen && this.o.bot.bargeIn && this.playback.busy) this.bargeIn(this.botMs(e.atMs));
        if (botOpen && this.speechEvents) this.sendToBot(this.adapter.event({ kind: 'speech_started', atMs: this.botMs(e.atMs) }));
        return;
      case 'speech_stopped':
        if (botOpen && this.speechEvents) this.sendToBot(this.adapter.event({ kind: 'speech_stopped', atMs: this.botMs(e.atMs) }));
        return;
      case 'beep':
        this.log.info({ beepAtMs: e.atMs, hz: e.hz }, 'answering machine beep heard');
        return;
      case 'amd':
        this.amd?.onDecision(e.decision);
        return;
      case 'silence_timeout':
        if (botOpen) this.silenceTimedOut();
        return;
      case 'dead_line':
        this.deadLine('flat');
        return;
    }
  }

  /** Local barge-in: the caller spoke over the bot, whose audio is dropped at once (as after `clear`). */
  private bargeIn(atMs: number): void {
    this.o.metrics.counter('fsbridge_barge_ins_total', 'Bot playback cleared by fsbridge because the caller started speaking (bargeIn)').inc();
    // told first: the marks that clear() answers then read as cut off, not as played
    this.sendToBot(this.adapter.event({ kind: 'barge_in', atMs }));
    if (!this.pipe) this.tap?.clearBot();
    this.playback.clear();
  }

  /**
   * A time of the caller's audio (ms since the stream started) as the bot counts it: since its
   * `start` (as Twilio's media timestamps do), 0 for what came before it.
   */
  private botMs(atMs: number): number {
    return Math.max(0, atMs - this.botOriginMs);
  }

  private silenceTimedOut(): void {
    const st = this.o.bot.silenceTimeout!;
    const prompt = st.action === 'prompt' && st.prompt !== undefined && this.silencePrompts < st.prompts ? st.prompt : null;
    this.o.metrics.counter('fsbridge_silence_timeouts_total', 'Caller silences that reached bots.<name>.silenceTimeout, by what followed').inc({ action: prompt ? 'prompt' : 'hangup' });
    if (prompt) {
      this.silencePrompts++;
      this.log.info({ prompt: this.silencePrompts }, 'caller silent: playing the silence prompt');
      void this.playPrompt(prompt).then((ms) => {
        if (ms === null) this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'CALL_SILENCE_TIMEOUT' });
      });
      return;
    }
    this.log.info({ code: 'CALL_SILENCE_TIMEOUT' }, 'caller silent: ending the call');
    this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'CALL_SILENCE_TIMEOUT' });
  }

  /** A line carrying no audio: none arrives (`silent`), or its samples never move (`flat`). */
  private deadLine(how: 'silent' | 'flat'): void {
    this.o.metrics.error('CALL_DEAD_LINE');
    this.log.warn({ code: 'CALL_DEAD_LINE', how, deadLineSec: this.o.bot.deadLineSec }, 'the line carries no audio: ending the call');
    this.fireEnded({ cause: 'MEDIA_TIMEOUT', endedBy: 'fsbridge', errorCode: 'CALL_DEAD_LINE' });
  }

  /** Checks every second that caller audio still arrives while the stream is open (bots.<name>.deadLineSec). */
  private watchDeadLine(): void {
    const limitMs = this.o.bot.deadLineSec * 1000;
    if (limitMs <= 0 || this.stopped) return;
    this.cancelDeadCheck = this.o.clock.setTimeout(() => {
      this.cancelDeadCheck = null;
      if (this.stopped || this.endedFired) return;
      if (this.conn && this.o.clock.nowMs() - this.lastAudioAtMs >= limitMs) { this.deadLine('silent'); return; }
      this.watchDeadLine();
    }, DEAD_LINE_CHECK_MS);
  }

  /** AMD settled (AmdGate): hang up, or leave the message and hang up once it played; `connect` needs nothing here. */
  private amdAct(action: AmdAction): void {
    if (action === 'hangup') {
      this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'CALL_AMD_HANGUP' });
      return;
    }
    if (action !== 'message') return;
    const ended = (): void => this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'CALL_AMD_MESSAGE_PLAYED' });
    void this.playPrompt(this.o.amd!.message!, ended).then((ms) => {
      if (ms === null) { this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'fsbridge', errorCode: 'CALL_AMD_HANGUP' }); return; }
      if (this.stopped || this.endedFired) return;
      // the playback answers the message's mark once it played; if it never does (the pipe gave
      // up), the call still ends
      this.cancelMessageGuard = this.o.clock.setTimeout(() => { this.cancelMessageGuard = null; ended(); }, ms + MESSAGE_GRACE_MS);
    });
  }

  /** Native bots are told who answered (the others read AnsweredBy from their start parameters). */
  private sendAmdEvent(): void {
    const answeredBy = this.amd?.answeredBy;
    if (answeredBy) this.sendToBot(this.adapter.event({ kind: 'amd', answeredBy, decisionMs: this.amd!.decisionMs }));
  }

  /**
   * Plays a WAV prompt through the call's own playback (so it is recorded, and the silence timeout
   * waits while it plays); `then` runs once it has played. Resolves with its length (ms), or null
   * when it could not be read.
   */
  private async playPrompt(path: string, then?: () => void): Promise<number | null> {
    const pcm = await loadPrompt(path, this.o.fsSampleRateHz);
    if (!pcm) {
      this.o.metrics.error('CALL_PROMPT_UNREADABLE');
      this.log.warn({ code: 'CALL_PROMPT_UNREADABLE', path }, 'prompt is not a readable 16-bit PCM WAV at 8 or 16 kHz');
      return null;
    }
    const ms = (pcm.length * 1000) / this.o.fsSampleRateHz;
    if (this.stopped || this.endedFired) return ms;
    if (!this.pipe) this.tap?.bot(pcm);
    this.playback.pushAudio(pcm);
    const name = `fsbridge-${this.token}-${++this.localMarkSeq}`;
    this.localMarks.set(name, then ?? (() => {}));
    this.playback.mark(name);
    return ms;
  }

  /** A mark has played: fsbridge's own runs its callback; the bot's is answered. */
  private markPlayed(name: string): void {
    const own = this.localMarks.get(name);
    if (own) {
      this.localMarks.delete(name);
      own();
      return;
    }
    this.sendToBot(this.adapter.markPlayed(name));
  }

  // --- bot side ---

  private makeAdapter(attempt: number): BotAdapter {
    const b = this.o.bot;
    return createBotAdapter(b.protocol, { attempt, sampleRateHz: b.sampleRate as 8000 | 16000, encoding: b.encoding });
  }

  /**
   * Opens the bot websocket. Resolves (never rejects) when it opened, or when it failed and the
   * onDisconnect policy took over, or when the leg was stopped meanwhile (the socket is closed).
   */
  private connectBot(maxConnectMs = Infinity): Promise<void> {
    const b = this.o.bot;
    const opts: BotConnectionOptions = {
      url: b.url, headers: { ...b.headers }, connectTimeoutMs: Math.min(b.connectTimeoutMs, maxConnectMs),
      rejectUnauthorized: b.tls?.rejectUnauthorized ?? true,
      ca: b.tls?.caFile ? readFileSync(b.tls.caFile) : undefined,
      clock: this.o.clock, logger: this.log, metrics: this.o.metrics,
    };
    const bot = (this.o.connectBot ?? ((x) => new BotConnection(x)))(opts);
    this.bot = bot;
    return new Promise<void>((resolve) => {
      let opened = false;
      bot.on('open', () => {
        opened = true;
        // stopped while connecting: stop() already closed it; nothing is sent
        if (this.stopped || this.bot !== bot) { bot.close(1000); resolve(); return; }
        for (const m of this.adapter.open(this.info)) this.sendToBot(m);
        this.sendAmdEvent();
        this.botOriginMs = this.analysis.atMs;
        // the caller is speaking as the bot arrives (after AMD, or a reconnect): it hears it started
        if (this.speechEvents && this.analysis.vad.speaking) this.sendToBot(this.adapter.event({ kind: 'speech_started', atMs: 0 }));
        resolve();
      });
      bot.on('message', (data, isBinary) => this.onBotMessage(data, isBinary));
      bot.on('close', (code, reason, info) => {
        if (!opened) this.counters.botConnectFailures.inc();
        if (this.stopped || this.bot !== bot) { resolve(); return; }
        if (info.normal && info.initiator === 'remote') {
          this.log.info({ code, reason }, 'bot closed normally');
          this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'bot' });
          if (!opened) resolve();
          return;
        }
        const errorCode = opened ? 'BOT_CLOSED_ABNORMALLY' : 'BOT_CONNECT_FAILED';
        // BotConnection itself counts BOT_CLOSED_ABNORMALLY (and the precise connect failure)
        if (!opened) this.o.metrics.error(errorCode);
        this.log.warn({ code, reason, errorCode, policy: this.o.bot.onDisconnect }, 'bot connection lost');
        // The policy runs in the background; start() itself succeeds once a policy took over.
        this.applyPolicy(errorCode);
        resolve();
      });
      bot.connect();
    });
  }

  /**
   * 'pipe' mode, once: the FIFO is made and FreeSWITCH starts playing it. While the Event Socket
   * connection is down (FreeSWITCH restarting) it is tried again every PIPE_RETRY_MS, up to
   * PIPE_RETRIES times; any other failure, or the last, ends the call (MEDIA_PIPE_FAILED) unless
   * the call ended within STREAM_LOSS_GRACE_MS (a hang-up reported after the refused broadcast).
   * If FreeSWITCH is gone for good the call's owner has ended the call meanwhile.
   */
  private openPipe(attempt = 0): void {
    const { pipe, pipePlayback } = this;
    if (!pipe || !pipePlayback || (attempt === 0 && this.pipeOpening) || this.stopped) return;
    this.pipeOpening = true;
    void pipe.open(pipePlayback).then((r) => {
      if (r.ok || this.stopped || this.endedFired) return;
      if (r.retry && attempt < PIPE_RETRIES) {
        this.cancelPipeRetry = this.o.clock.setTimeout(() => { this.cancelPipeRetry = null; this.openPipe(attempt + 1); }, PIPE_RETRY_MS);
        return;
      }
      // A uuid_broadcast refused because the caller just hung up must not be recorded as a pipe
      // failure: the hang-up may be reported a moment later (as with the stream's close).
      this.cancelPipeRetry = this.o.clock.setTimeout(() => {
        this.cancelPipeRetry = null;
        if (this.stopped || this.endedFired) return;
        this.o.metrics.error('MEDIA_PIPE_FAILED');
        this.log.warn({ code: 'MEDIA_PIPE_FAILED', reason: r.reason }, 'the playback pipe could not be set up: ending the call');
        this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'MEDIA_PIPE_FAILED' });
      }, STREAM_LOSS_GRACE_MS);
    });
  }

  private applyPolicy(errorCode: string): void {
    const policy = this.o.bot.onDisconnect;
    if (policy === 'reconnect' && this.reconnects === 0) {
      // One new connection, which must open within RECONNECT_WINDOW_MS; if it fails, this
      // method runs again from its close handler and falls through to fallback / hang-up.
      this.reconnects++;
      this.adapter = this.makeAdapter(this.reconnects);
      void this.connectBot(RECONNECT_WINDOW_MS);
      return;
    }
    if (policy === 'hangup') {
      this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode });
      return;
    }
    this.fallbackOrHangup(errorCode);
  }

  private fallbackOrHangup(errorCode: string): void {
    const file = this.o.bot.fallbackAudio;
    if (!file) {
      this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode });
      return;
    }
    this.playback.clear();
    if (this.pipe) {
      // the pipe's playback never ends by itself: closing it ends it, and the fallback plays next
      this.playback.close();
      this.pipe.close();
    }
    this.fallbackFile = file;
    this.cancelFallback = this.o.clock.setTimeout(
      () => this.fireEnded({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode }),
      FALLBACK_MAX_MS,
    );
    this.broadcast(file);
  }

  private onBotMessage(data: Buffer, isBinary: boolean): void {
    this.counters.framesFromBot.inc();
    const cmds = this.adapter.receive(data, isBinary);
    for (const c of cmds) this.onBotCommand(c);
  }

  private onBotCommand(c: BotCommand): void {
    switch (c.kind) {
      case 'audio': {
        const want = this.o.fsSampleRateHz;
        const pcm = c.sampleRateHz === want ? c.pcm : this.resample(c.pcm, c.sampleRateHz, want);
        // 'pipe' mode records what it writes; the other modes what the bot sent, unless cleared
        if (!this.pipe) this.tap?.bot(pcm);
        this.playback.pushAudio(pcm);
        return;
      }
      case 'mark': this.playback.mark(c.name); return;
      case 'clear':
        if (!this.pipe) this.tap?.clearBot();
        this.playback.clear();
        return;
      case 'dtmf': void this.o.control.uuidSendDtmf(this.fsUuid, c.digits); return;
      case 'hangup': this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'bot' }); return;
      case 'transfer':
        if (!transferAllowed(this.o.bot.transfer.allow, c.target)) {
          this.o.metrics.error('CALL_TRANSFER_DENIED');
          const suppressed = this.logs.hit('CALL_TRANSFER_DENIED');
          if (suppressed !== SUPPRESSED) this.log.warn({ code: 'CALL_TRANSFER_DENIED', transferTarget: c.target, suppressed }, 'bot transfer not allowed by bots.<name>.transfer.allow');
          return;
        }
        this.fireEnded({ cause: 'NORMAL_CLEARING', endedBy: 'bot', transferTarget: c.target });
        return;
      case 'dnc':
        this.log.info('the bot asked to put the far end on the do-not-call list');
        this.requestCb?.({ kind: 'dnc' });
        return;
      case 'ignored':
      case 'error':
        this.badInput.report(c);
        return;
    }
  }

  // --- helpers ---

  private sendToBot(msg: string | Buffer | null): void {
    if (msg === null || !this.bot) return;
    if (this.bot.send(msg)) this.counters.framesToBot.inc();
  }

  private sendToFs(text: string): void {
    if (this.conn) { this.conn.sendText(text); return; }
    if (this.pendingText.length >= MAX_PENDING_TEXT) {
      this.o.metrics.error('MEDIA_PLAYBACK_DROPPED');
      return;
    }
    this.pendingText.push(text);
  }

  /** uuid_broadcast in order: each waits for the previous command's reply. */
  private broadcast(file: string): void {
    const gen = this.playGeneration;
    this.broadcastChain = this.broadcastChain.then(() => (gen === this.playGeneration && !this.stopped
      ? this.o.control.uuidBroadcast(this.fsUuid, file, 'aleg')
      : undefined));
  }

  /**
   * `uuid_break <uuid> all`, after the broadcast in flight (if any) and instead of the ones still
   * queued: a broadcast sent after the break would play cleared audio (seen on the real FreeSWITCH).
   */
  private breakAll(): void {
    this.playGeneration++;
    this.broadcastChain = this.broadcastChain.then(() => this.o.control.uuidBreak(this.fsUuid, 'all'));
  }

  /** 8 ↔ 16 kHz into the scratch buffer (valid until the next call). */
  private resample(pcm: Int16Array, fromHz: number, toHz: number): Int16Array {
    const n = Math.min(pcm.length, MAX_RESAMPLE_IN);
    if (!this.scratch || this.scratch.length < 2 * n + 2) this.scratch = new Int16Array(2 * n + 2);
    const out = this.scratch;
    if (fromHz === 8000 && toHz === 16000) return out.subarray(0, this.up.process(pcm, out, n));
    if (fromHz === 16000 && toHz === 8000) return out.subarray(0, this.down.process(pcm, out, n));
    return pcm;
  }

  /** The bot side ends the call, once; not after stop() (the call is already ending: what resolves late, such as a prompt's read, says nothing). */
  private fireEnded(why: Parameters<EndedCb>[0]): void {
    if (this.endedFired || this.stopped) return;
    this.endedFired = true;
    this.cancelFallback?.();
    this.cancelStreamCheck?.();
    this.cancelPipeRetry?.();
    this.cancelDeadCheck?.();
    this.cancelMessageGuard?.();
    this.endedCb?.(why);
  }
}

function parseJsonField(body: string | undefined, field: string): string | undefined {
  if (!body) return undefined;
  try {
    const v = (JSON.parse(body) as Record<string, unknown>)[field];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
