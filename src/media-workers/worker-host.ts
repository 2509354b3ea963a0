/**
 * What runs inside one media worker: its media server (mod_audio_stream connects here), the media
 * legs of the calls the main thread gives it, and the ESL commands those legs ask of the main
 * thread (answered by `esl-reply`). One leg per call id, from `start` until its stop resolved.
 * Written against a message port so that a test can drive it without a thread.
 */
import { FsbridgeError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { LogLimiter } from '../observability/log-limiter.js';
import type { MediaServer } from '../media/server.js';
import { MediaLeg, type StreamControl } from '../calls/media-leg.js';
import { ESL_METHODS, type EslMethod, type FromWorker, type ToWorker } from './messages.js';

export interface WorkerHostOptions {
  /** This worker's number (the `worker` label of its gauges). */
  index: number;
  media: MediaServer;
  mediaUrlBase: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  post(msg: FromWorker): void;
}

export class WorkerHost {
  private readonly legs = new Map<string, MediaLeg>();
  private readonly rpcs = new Map<number, (result: unknown) => void>();
  private nextRpc = 1;
  private readonly control: StreamControl;
  private readonly sharedLogs: LogLimiter;

  constructor(private readonly o: WorkerHostOptions) {
    this.sharedLogs = new LogLimiter({ clock: o.clock });
    const control: Partial<Record<EslMethod, (...args: unknown[]) => Promise<unknown>>> = {};
    for (const method of ESL_METHODS) control[method] = (...args: unknown[]) => this.esl(method, args);
    this.control = control as unknown as StreamControl;
    o.metrics.addCollector(() => o.metrics.gauge('fsbridge_media_worker_legs', 'Media legs carried by media workers').set(this.legs.size, { worker: String(o.index) }));
  }

  get size(): number { return this.legs.size; }

  onMessage(m: ToWorker): void {
    switch (m.t) {
      case 'start': this.start(m.id, m); return;
      case 'stop': {
        const leg = this.legs.get(m.id);
        if (!leg) { this.o.post({ t: 'stopped', id: m.id }); return; }
        void leg.stop(m.opts).catch(() => {}).finally(() => {
          if (this.legs.get(m.id) === leg) this.legs.delete(m.id);
          this.o.post({ t: 'stopped', id: m.id });
        });
        return;
      }
      case 'dtmf': this.legs.get(m.id)?.dtmf(m.digit); return;
      case 'fs-event': this.legs.get(m.id)?.onFsEvent(m.ev); return;
      case 'esl-reply': {
        const settle = this.rpcs.get(m.rpc);
        this.rpcs.delete(m.rpc);
        settle?.(m.result);
        return;
      }
      case 'metrics': this.o.post({ t: 'metrics', req: m.req, snapshot: this.o.metrics.snapshot() }); return;
      case 'log-level': this.o.logger.level = m.level; return;
      case 'close': return; // handled by the entry (closes the server, then the thread ends)
    }
  }

  private start(id: string, m: Extract<ToWorker, { t: 'start' }>): void {
    if (this.legs.has(id)) {
      this.o.post({ t: 'start-failed', id, code: 'CALL_MEDIA_FAILED', message: 'a leg of this call is already running' });
      return;
    }
    const leg = new MediaLeg({
      ...m.spec, control: this.control, media: this.o.media, mediaUrlBase: this.o.mediaUrlBase,
      clock: this.o.clock, logger: this.o.logger.child(m.logBindings), metrics: this.o.metrics, sharedLogs: this.sharedLogs,
    });
    this.legs.set(id, leg);
    leg.onEnded((why) => this.o.post({ t: 'ended', id, why }));
    leg.onRequest((r) => this.o.post({ t: 'request', id, r }));
    leg.start().then(
      () => this.o.post({ t: 'started', id }),
      (err: unknown) => {
        const code = err instanceof FsbridgeError ? err.code : 'CALL_MEDIA_FAILED';
        this.o.post({ t: 'start-failed', id, code, message: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  /** One ESL command through the main thread's control connection. */
  private esl(method: EslMethod, args: unknown[]): Promise<unknown> {
    const rpc = this.nextRpc++;
    return new Promise((resolve) => {
      this.rpcs.set(rpc, resolve);
      this.o.post({ t: 'esl', rpc, method, args });
    });
  }

  /** Stops every leg (the worker is closing); resolves when all stopped. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.legs.values()].map((leg) => leg.stop().catch(() => {})));
    this.legs.clear();
  }
}
