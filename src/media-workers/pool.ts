/**
 * The media workers of a daemon (media.workers > 0): one thread per core, each with its own
 * websocket port for mod_audio_stream and its own bot connections; ESL, SIP, the API and the
 * calls' supervisors stay in the main thread. Each call's leg goes to the worker carrying the
 * fewest. A worker that dies ends only its calls (their records say MEDIA_WORKER_FAILED), the
 * FIFOs it held open are closed, and it is started again (backoff 100 ms doubling to 5 s).
 */
import { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.js';
import { FsbridgeError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { MetricSnapshot } from '../observability/metric-snapshot.js';
import { relogLine } from '../observability/forwarded-log.js';
import type { MediaLegSpec, StreamControl } from '../calls/media-leg.js';
import { releaseCallPipes } from '../media/fifo.js';
import { RemoteMediaLeg } from './remote-leg.js';
import { ESL_METHODS, type FromWorker, type ToWorker, type WorkerInit } from './messages.js';

export interface MediaWorkerPoolOptions {
  count: number;
  /** Worker i binds host:(port + i), or a free port when port is 0. */
  host: string;
  port: number;
  /** Worker i is advertised to FreeSWITCH as advertiseHost:(advertisePort + i) (its bound port when 0). */
  advertiseHost: string;
  advertisePort: number;
  maxMessageBytes: number;
  /** 'pipe' mode: where the calls' FIFOs are (those a dead worker held open are closed). */
  pipeDir: string | null;
  control: StreamControl;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: Clock;
  /** The worker's entry module; default worker.js (or .ts when running from source) beside this file. */
  entry?: URL;
}

/** How long a /metrics scrape waits for a worker's answer. */
const METRICS_WAIT_MS = 1000;
/** How long close() waits for a worker to finish before it is terminated. */
const CLOSE_WAIT_MS = 5000;
const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 5000;
/** A worker that ran this long before dying is restarted after the shortest delay again. */
const STABLE_MS = 10_000;

interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  readyAtMs: number;
  port: number;
  legs: Map<string, RemoteMediaLeg>;
  failures: number;
  cancelRespawn: (() => void) | null;
}

export class MediaWorkerPool {
  private readonly slots: Slot[];
  private readonly metricsWaits = new Map<number, (s: MetricSnapshot[] | null) => void>();
  private nextReq = 1;
  private closing = false;
  private logLevel: string;
  private readonly entry: URL;

  constructor(private readonly o: MediaWorkerPoolOptions) {
    this.logLevel = o.logger.level;
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    this.entry = o.entry ?? new URL(`./worker${ext}`, import.meta.url);
    this.slots = Array.from({ length: o.count }, (_, index) => ({
      index, worker: null, ready: false, readyAtMs: 0, port: 0, legs: new Map(), failures: 0, cancelRespawn: null,
    }));
    o.metrics.addRemote(() => this.collectMetrics());
    o.metrics.addCollector(() => {
      const g = o.metrics.gauge('fsbridge_media_workers', 'Media worker threads running (1) or being restarted (0), by worker');
      for (const s of this.slots) g.set(s.ready ? 1 : 0, { worker: String(s.index) });
    });
  }

  /** Starts every worker; resolves with their media ports once all listen (rejects if one cannot). */
  async start(): Promise<number[]> {
    await Promise.all(this.slots.map((s) => this.spawn(s)));
    return this.slots.map((s) => s.port);
  }

  /** Ports the workers listen on, by worker. */
  get ports(): number[] { return this.slots.map((s) => s.port); }

  /** A media leg for one call, on the worker that carries the fewest legs. */
  createLeg(spec: MediaLegSpec, logBindings: Record<string, unknown>): RemoteMediaLeg {
    const alive = this.slots.filter((s) => s.worker !== null);
    const slot = alive.reduce<Slot | null>((best, s) => (best === null || s.legs.size < best.legs.size ? s : best), null);
    const id = spec.info.callId;
    const leg = new RemoteMediaLeg(id, spec, logBindings, (m) => slot?.worker?.postMessage(m));
    if (!slot) { leg.workerLost(); return leg; }
    slot.legs.set(id, leg);
    return leg;
  }

  /** The worker carrying a call's leg (undefined when none does). */
  workerOf(callId: string): number | undefined {
    return this.slots.find((s) => s.legs.has(callId))?.index;
  }

  /** The log level of the workers' lines (SIGHUP reload). */
  setLogLevel(level: string): void {
    this.logLevel = level;
    this.broadcast({ t: 'log-level', level });
  }

  /** Ends worker `index` at once, as a crash would (its calls end, it is started again). */
  async terminate(index: number): Promise<void> {
    await this.slots[index]?.worker?.terminate();
  }

  /** Stops every worker (their legs were stopped by their calls' owners already). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map(async (s) => {
      s.cancelRespawn?.();
      const w = s.worker;
      if (!w) return;
      const exited = new Promise<void>((res) => w.once('exit', () => res()));
      w.postMessage({ t: 'close' } satisfies ToWorker);
      const cancel = this.o.clock.setTimeout(() => { void w.terminate(); }, CLOSE_WAIT_MS);
      await exited;
      cancel();
    }));
  }

  private spawn(slot: Slot): Promise<void> {
    const o = this.o;
    const init: WorkerInit = {
      index: slot.index, host: o.host, port: o.port === 0 ? 0 : o.port + slot.index,
      advertiseHost: o.advertiseHost, advertisePort: o.advertisePort === 0 ? 0 : o.advertisePort + slot.index,
      maxMessageBytes: o.maxMessageBytes, logLevel: this.logLevel,
    };
    const w = new Worker(this.entry, { workerData: init, stdout: false, stderr: false });
    slot.worker = w;
    slot.ready = false;
    return new Promise<void>((resolve, reject) => {
      w.on('message', (m: FromWorker) => {
        if (m.t === 'ready') {
          slot.ready = true;
          slot.readyAtMs = o.clock.nowMs();
          slot.port = m.port;
          o.logger.info({ worker: slot.index, port: m.port }, 'media worker ready');
          resolve();
          return;
        }
        if (m.t === 'listen-failed') {
          reject(new FsbridgeError('MEDIA_WORKER_FAILED', `media worker ${slot.index} cannot listen on ${init.host}:${init.port}: ${m.message}`));
          return;
        }
        this.onMessage(slot, w, m);
      });
      w.on('error', (err) => {
        o.logger.error({ err, worker: slot.index, code: 'MEDIA_WORKER_FAILED' }, 'media worker threw');
      });
      w.on('exit', (code) => {
        reject(new FsbridgeError('MEDIA_WORKER_FAILED', `media worker ${slot.index} exited (${code}) before it listened`));
        if (slot.worker === w) this.onExit(slot, code);
      });
    });
  }

  private onMessage(slot: Slot, w: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'log': relogLine(this.o.logger, m.line); return;
      case 'esl': {
        if (!ESL_METHODS.includes(m.method)) return;
        const fn = this.o.control[m.method] as (...a: unknown[]) => Promise<unknown>;
        void fn.apply(this.o.control, m.args)
          .catch(() => ({ ok: false, code: 'ESL_COMMAND_FAILED' }))
          .then((result) => { if (slot.worker === w) w.postMessage({ t: 'esl-reply', rpc: m.rpc, result } satisfies ToWorker); });
        return;
      }
      case 'metrics': {
        const settle = this.metricsWaits.get(m.req);
        this.metricsWaits.delete(m.req);
        settle?.(m.snapshot);
        return;
      }
      case 'started': slot.legs.get(m.id)?.started(); return;
      case 'start-failed': slot.legs.get(m.id)?.startFailed(m.code, m.message); return;
      case 'ended': slot.legs.get(m.id)?.ended(m.why); return;
      case 'request': slot.legs.get(m.id)?.request(m.r); return;
      case 'stopped': {
        const leg = slot.legs.get(m.id);
        slot.legs.delete(m.id);
        leg?.stopped();
        return;
      }
      default: return;
    }
  }

  /** A worker ended: on close, as asked; otherwise its calls end and it is started again. */
  private onExit(slot: Slot, code: number): void {
    const o = this.o;
    const legs = [...slot.legs.values()];
    slot.legs.clear();
    slot.worker = null;
    const wasReady = slot.ready;
    slot.ready = false;
    if (this.closing) return;
    o.metrics.error('MEDIA_WORKER_FAILED');
    // Its FIFOs are left in the directory, and may be left open (a descriptor belongs to the
    // process): FreeSWITCH would wait on an open one for ever. Closed and removed here.
    const pipes = o.pipeDir ? releaseCallPipes(o.pipeDir, new Set(legs.map((l) => l.id))) : 0;
    o.logger.error({ worker: slot.index, exitCode: code, calls: legs.length, pipesRemoved: pipes, code: 'MEDIA_WORKER_FAILED' },
      'media worker died: its calls end, it is started again');
    for (const leg of legs) leg.workerLost();
    if (wasReady && o.clock.nowMs() - slot.readyAtMs >= STABLE_MS) slot.failures = 0;
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_MIN_MS * 2 ** slot.failures);
    slot.failures++;
    slot.cancelRespawn = o.clock.setTimeout(() => {
      slot.cancelRespawn = null;
      if (this.closing) return;
      this.spawn(slot).catch((err: unknown) => o.logger.error({ err, worker: slot.index, code: 'MEDIA_WORKER_FAILED' }, 'media worker could not be started again'));
    }, delay);
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.slots) s.worker?.postMessage(m);
  }

  /** Every running worker's metrics (a worker that does not answer within 1 s is left out). */
  private collectMetrics(): Promise<MetricSnapshot[][]> {
    return Promise.all(this.slots.filter((s) => s.ready && s.worker).map((s) => new Promise<MetricSnapshot[] | null>((resolve) => {
      const req = this.nextReq++;
      const cancel = this.o.clock.setTimeout(() => { this.metricsWaits.delete(req); resolve(null); }, METRICS_WAIT_MS);
      this.metricsWaits.set(req, (snap) => { cancel(); resolve(snap); });
      s.worker!.postMessage({ t: 'metrics', req } satisfies ToWorker);
    }))).then((all) => all.filter((x): x is MetricSnapshot[] => x !== null));
  }
}
