/**
 * The main thread's side of one call's media leg when the media loop runs in a worker: the same
 * interface as MediaLeg (what the call's supervisor uses), carried out by messages. Its worker may
 * die: then the leg ends the call (MEDIA_WORKER_FAILED) and every promise it gave settles.
 */
import type { FsEvent } from '../esl/events.js';
import type { BotLegEnd, BotRequest } from '../calls/ports.js';
import type { SupervisedLeg } from '../calls/call-supervisor.js';
import type { MediaLegSpec } from '../calls/media-leg.js';
import { FsbridgeError } from '../errors.js';
import type { ToWorker } from './messages.js';

type Settle = { resolve: () => void; reject: (e: Error) => void };

export class RemoteMediaLeg implements SupervisedLeg {
  private endedCb: ((why: BotLegEnd) => void) | null = null;
  private requestCb: ((r: BotRequest) => void) | null = null;
  private endedFired = false;
  private starting: Settle | null = null;
  private stopping: Promise<void> | null = null;
  private settleStop: (() => void) | null = null;
  private sentStart = false;
  private gone = false;

  constructor(
    readonly id: string,
    private readonly spec: MediaLegSpec,
    private readonly logBindings: Record<string, unknown>,
    private readonly post: (msg: ToWorker) => void,
  ) {}

  onEnded(cb: (why: BotLegEnd) => void): void { this.endedCb = cb; }
  onRequest(cb: (r: BotRequest) => void): void { this.requestCb = cb; }

  start(): Promise<void> {
    if (this.gone) return Promise.reject(new FsbridgeError('MEDIA_WORKER_FAILED', 'no media worker is running'));
    this.sentStart = true;
    return new Promise<void>((resolve, reject) => {
      this.starting = { resolve, reject };
      this.post({ t: 'start', id: this.id, spec: this.spec, logBindings: this.logBindings });
    });
  }

  stop(opts: { detachStream?: boolean; breakPlayback?: boolean } = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.sentStart || this.gone) return (this.stopping = Promise.resolve());
    this.stopping = new Promise<void>((resolve) => { this.settleStop = resolve; });
    this.post({ t: 'stop', id: this.id, opts });
    return this.stopping;
  }

  dtmf(digit: string): void {
    if (this.sentStart && !this.gone && !this.stopping) this.post({ t: 'dtmf', id: this.id, digit });
  }

  onFsEvent(ev: FsEvent): void {
    if (this.sentStart && !this.gone && !this.stopping) this.post({ t: 'fs-event', id: this.id, ev });
  }

  // --- what the worker reported (through the pool) ---

  started(): void { this.starting?.resolve(); this.starting = null; }

  startFailed(code: string, message: string): void {
    this.starting?.reject(new FsbridgeError(code, message));
    this.starting = null;
  }

  /** Its stop is done; a start still waiting settles too (a leg stopped while starting resolves it, as MediaLeg does). */
  stopped(): void {
    this.started();
    this.settleStop?.();
    this.settleStop = null;
  }

  ended(why: BotLegEnd): void {
    if (this.endedFired) return;
    this.endedFired = true;
    this.endedCb?.(why);
  }

  request(r: BotRequest): void {
    if (!this.endedFired) this.requestCb?.(r);
  }

  /** Its worker died: the call ends (unless it already did), and nothing waits for the worker. */
  workerLost(): void {
    if (this.gone) return;
    this.gone = true;
    this.ended({ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'MEDIA_WORKER_FAILED' });
    this.started();
    this.stopped();
  }
}
