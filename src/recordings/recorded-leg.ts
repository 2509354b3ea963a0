import type { FsEvent } from '../esl/events.js';
import type { BotLegEnd, BotRequest } from '../calls/ports.js';
import type { SupervisedLeg } from '../calls/call-supervisor.js';

/**
 * A bot leg that records its call: once the leg stopped (its recording closed, in whatever thread
 * carried it) `finish` completes the recording's row. Everything else is the leg's own.
 */
export class RecordedLeg implements SupervisedLeg {
  private stopping: Promise<void> | null = null;

  constructor(private readonly leg: SupervisedLeg, private readonly finish: () => Promise<void>) {}

  start(): Promise<void> { return this.leg.start(); }

  stop(opts?: { detachStream?: boolean; breakPlayback?: boolean }): Promise<void> {
    this.stopping ??= this.leg.stop(opts).finally(() => this.finish());
    return this.stopping;
  }

  dtmf(digit: string): void { this.leg.dtmf(digit); }
  onEnded(cb: (why: BotLegEnd) => void): void { this.leg.onEnded(cb); }
  onRequest(cb: (r: BotRequest) => void): void { this.leg.onRequest?.(cb); }
  onFsEvent(ev: FsEvent): void { this.leg.onFsEvent?.(ev); }
}
