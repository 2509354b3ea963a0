/**
 * The playback pipe of one call ('pipe' mode), owned by its MediaLeg: reads the channel's write
 * codec, makes the FIFO `<pipeDir>/<callId>.<codec>`, and has FreeSWITCH play it with one
 * `uuid_broadcast … aleg`. When FreeSWITCH reports PLAYBACK_START of that path the PipePlayback
 * starts writing (its lead first, so the reader never waits long). When FreeSWITCH stops reading
 * while the call goes on (someone's `uuid_break`), the writer stops, and after RESTART_DELAY_MS what
 * is left in the pipe is dropped and the pipe is broadcast again, at most MAX_RESTARTS times.
 * close() closes and unlinks the FIFO (FreeSWITCH sees the end of the file); it is the only way
 * the FIFO goes away.
 */
import type { Clock } from '../clock.js';
import type { EslControl } from '../esl/control.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { Fifo } from '../media/fifo.js';
import { PipeEncoder, pipeCodecFor } from '../media/pipe-encoder.js';
import type { PipePlayback } from '../media/pipe-playback.js';

/** The FIFO operations a PipeOutput uses (Fifo; tests may fake them). */
export type PipeFile = Pick<Fifo, 'path' | 'write' | 'drain' | 'close'>;

/** Options of {@link PipeOutput}. */
export interface PipeOutputOptions {
  callId: string;
  fsUuid: string;
  dir: string;
  /** Rate of the frames written (freeswitch.sampleRate); the pipe itself is 8 kHz. */
  inRateHz: 8000 | 16000;
  control: Pick<EslControl, 'uuidGetvar' | 'uuidBroadcast'>;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Makes and opens the FIFO (default Fifo.create). */
  createFifo?: (path: string) => Promise<PipeFile>;
}

/** Times the pipe is broadcast again after FreeSWITCH stopped reading it mid-call. */
const MAX_RESTARTS = 3;
/** Wait before playing the pipe again (a hang-up may be reported just after the playback's end). */
const RESTART_DELAY_MS = 500;
/** Start writing anyway when PLAYBACK_START of the pipe has not been seen this long after the broadcast. */
const START_FALLBACK_MS = 1000;

/**
 * How open() went. `retry`: the Event Socket connection was down or slow (FreeSWITCH restarting,
 * or lost: then the call's owner ends the call on its own account), so open() may be called again.
 */
export type PipeOpenResult = { ok: true } | { ok: false; reason: string; retry: boolean };

/** Event Socket failures that say nothing about the channel, only about the connection. */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['ESL_DISCONNECTED', 'ESL_NOT_CONNECTED', 'ESL_COMMAND_TIMEOUT']);

function failed(reason: string, code?: string): PipeOpenResult {
  return { ok: false, reason, retry: code !== undefined && CONNECTION_CODES.has(code) };
}

export class PipeOutput {
  private fifo: PipeFile | null = null;
  private encoder: PipeEncoder | null = null;
  private playback: PipePlayback | null = null;
  private closed = false;
  private reading = false;
  private restarts = 0;
  /** The pending restart, or the start fallback after a broadcast. */
  private timer: (() => void) | null = null;

  constructor(private readonly o: PipeOutputOptions) {}

  /** The FIFO's path once made. */
  get path(): string | undefined {
    return this.fifo?.path;
  }

  /** PipePlayback's writeFrame: one frame to the pipe (true, writing nothing, before open and after close). */
  writeFrame(pcm: Int16Array): boolean {
    if (this.closed || !this.fifo || !this.encoder) return true;
    return this.fifo.write(this.encoder.encode(pcm));
  }

  /** PipePlayback's dropWritten: empties the pipe; the frames it held (0 before open, after close). */
  dropWritten(): number {
    if (this.closed || !this.fifo || !this.encoder) return 0;
    return Math.round(this.fifo.drain() / (this.encoder.bytesPerSample * 160));
  }

  /**
   * Makes the FIFO (once) and broadcasts it; `playback` starts at the pipe's PLAYBACK_START.
   * Resolves ok: false with the reason when a step failed (called again, it goes on from that
   * step), and ok: true without doing anything more when close() came meanwhile.
   */
  async open(playback: PipePlayback): Promise<PipeOpenResult> {
    const { o } = this;
    this.playback = playback;
    if (!this.fifo) {
      const codecVar = await o.control.uuidGetvar(o.fsUuid, 'write_codec');
      if (this.closed) return { ok: true };
      if (!codecVar.ok) return failed(`write_codec: ${codecVar.code}`, codecVar.code);
      const codec = pipeCodecFor(codecVar.value);
      const path = `${o.dir.replace(/\/+$/, '')}/${o.callId}.${codec}`;
      let fifo: PipeFile;
      try {
        fifo = await (o.createFifo ?? ((p) => Fifo.create(p)))(path);
      } catch (err) {
        return failed(`mkfifo ${path}: ${(err as Error).message}`);
      }
      if (this.closed) { fifo.close(); return { ok: true }; }
      this.fifo = fifo;
      this.encoder = new PipeEncoder(codec, o.inRateHz);
      o.logger.debug({ path, codec }, 'playback pipe made');
    }
    return this.broadcast();
  }

  /**
   * PLAYBACK_START / PLAYBACK_STOP of the channel (`hangingUp`: the event says the channel is
   * hanging up). Returns true when the event was about this pipe.
   */
  onPlaybackEvent(name: 'PLAYBACK_START' | 'PLAYBACK_STOP', file: string, hangingUp = false): boolean {
    if (this.closed || !this.fifo || file !== this.fifo.path) return false;
    if (name === 'PLAYBACK_START') {
      this.startWriting();
      return true;
    }
    this.reading = false;
    this.stopTimer();
    this.playback?.stop();
    if (hangingUp) return true; // the call is ending: its owner closes the pipe
    if (this.restarts >= MAX_RESTARTS) {
      this.o.metrics.error('MEDIA_PIPE_FAILED');
      this.o.logger.warn({ code: 'MEDIA_PIPE_FAILED', path: this.fifo.path, restarts: this.restarts }, 'FreeSWITCH stopped playing the bot\'s pipe again: the bot is no longer heard');
      return true;
    }
    // A hang-up can be reported after the playback's end: wait a moment before playing it again.
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      if (this.closed || this.reading || !this.fifo) return;
      this.restarts++;
      const dropped = this.fifo.drain();
      this.o.logger.info({ path: this.fifo.path, dropped, restart: this.restarts }, 'FreeSWITCH stopped playing the bot\'s pipe mid-call: playing it again');
      void this.broadcast().then((r) => {
        if (r.ok) return;
        this.o.metrics.error('MEDIA_PIPE_FAILED');
        this.o.logger.warn({ code: 'MEDIA_PIPE_FAILED', reason: r.reason }, 'the bot\'s pipe could not be played again');
      });
    }, RESTART_DELAY_MS);
    return true;
  }

  /** Closes and unlinks the FIFO; FreeSWITCH's playback of it ends. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.fifo?.close();
  }

  private async broadcast(): Promise<PipeOpenResult> {
    const fifo = this.fifo!;
    const r = await this.o.control.uuidBroadcast(this.o.fsUuid, fifo.path, 'aleg');
    if (this.closed) return { ok: true };
    if (!r.ok) return failed(`uuid_broadcast: ${r.code}${r.reply ? ` ${r.reply.trim()}` : ''}`, r.code);
    if (!this.reading) {
      this.stopTimer();
      this.timer = this.o.clock.setTimeout(() => {
        this.timer = null;
        if (!this.closed && !this.reading) {
          this.o.logger.debug({ path: fifo.path }, 'no PLAYBACK_START seen for the pipe: writing anyway');
          this.startWriting();
        }
      }, START_FALLBACK_MS);
    }
    return { ok: true };
  }

  private startWriting(): void {
    this.stopTimer();
    if (this.reading) return;
    this.reading = true;
    this.playback?.start();
  }

  private stopTimer(): void {
    this.timer?.();
    this.timer = null;
  }
}
