/**
 * One outbound call's answering-machine detection, as the call sees it: the bot waits here until
 * AMD decided, and the decision becomes an action — connect the bot, hang up, or leave the
 * message. Owns its one timer (the wall-clock limit, for a call whose caller audio never comes);
 * close() ends it whatever came first. Decisions may arrive before wait() (the analysis runs from
 * the first caller frame, the wait starts once FreeSWITCH confirmed the stream).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { AmdDecision } from '../analysis/amd.js';
import type { AmdRequest } from '../analysis/amd-request.js';

/** What a settled decision asks of the call. */
export type AmdAction = 'connect' | 'hangup' | 'message';

export interface AmdGateOptions {
  amd: AmdRequest;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Who answered, as soon as it is known (a machine's machine_start first, then its end): for the call record. */
  report(answeredBy: string, decisionMs: number): void;
  /** The settled decision's action (hangup and message: the call's owner ends the call). */
  act(action: AmdAction, d: AmdDecision): void;
}

/** The wait ends on the wall clock this long after the detector's own limit (no caller audio came). */
const WALL_SLACK_MS = 2000;
/** Buckets of the AMD decision time (s). */
const DECISION_BUCKETS = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 7.5, 10, 20, 30];

export class AmdGate {
  /** The settled result (Twilio AnsweredBy value), or null while undecided. */
  answeredBy: string | null = null;
  /** When the first decision was made (ms of caller audio, or of wall clock when none came). */
  decisionMs = 0;
  private first: AmdDecision | null = null;
  private settled = false;
  private connect = false;
  private closed = false;
  private waiter: ((connect: boolean) => void) | null = null;
  private cancelTimer: (() => void) | null = null;
  private waitStartedMs = 0;

  constructor(private readonly o: AmdGateOptions) {}

  /**
   * Resolves true when the bot is to be connected (human, unknown, or a machine's greeting ended
   * with onMachine connect); stays pending while AMD ends the call itself, until close(), which
   * resolves it false. Starts the wall-clock limit. Call once.
   */
  wait(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.settled && this.connect) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      this.waiter = resolve;
      if (this.settled) return;
      const p = this.o.amd.params;
      const limitMs = (this.o.amd.onMachine === 'hangup' ? p.totalAnalysisMs : Math.max(p.totalAnalysisMs, p.machineEndTimeoutMs)) + WALL_SLACK_MS;
      this.waitStartedMs = this.o.clock.nowMs();
      this.cancelTimer = this.o.clock.setTimeout(() => {
        this.cancelTimer = null;
        const atMs = this.o.clock.nowMs() - this.waitStartedMs;
        this.settle({ answeredBy: this.first ? 'machine_end_other' : 'unknown', atMs, reason: 'no decision in time (caller audio late or missing)' });
      }, limitMs);
    });
  }

  /** A decision of the call's analysis. A machine's first one waits for the greeting's end, unless the request hangs up on machines. */
  onDecision(d: AmdDecision): void {
    if (this.settled || this.closed) return;
    if (d.answeredBy === 'machine_start' && this.o.amd.onMachine !== 'hangup') {
      this.first = d;
      this.observeFirst(d.atMs);
      this.o.logger.info({ answeredBy: d.answeredBy, atMs: d.atMs, reason: d.reason }, 'answering machine: waiting for the end of its greeting');
      // the record says machine even if the machine hangs up before its greeting ends
      this.o.report(d.answeredBy, d.atMs);
      return;
    }
    this.settle(d);
  }

  /** The call ends: a pending wait resolves false; a machine heard but not settled is counted as machine_start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (!this.settled && this.first) this.count('machine_start');
    this.waiter?.(false);
    this.waiter = null;
  }

  private settle(d: AmdDecision): void {
    if (this.settled || this.closed) return;
    this.settled = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (!this.first) this.observeFirst(d.atMs);
    this.answeredBy = d.answeredBy;
    this.count(d.answeredBy);
    this.o.logger.info({
      answeredBy: d.answeredBy, decisionMs: this.decisionMs, atMs: d.atMs, reason: d.reason,
      ...(d.beepStartMs !== undefined ? { beepAtMs: d.beepStartMs } : {}),
    }, 'answering-machine detection decided');
    this.o.report(d.answeredBy, this.decisionMs);
    const machine = d.answeredBy.startsWith('machine');
    const onMachine = this.o.amd.onMachine;
    const action: AmdAction = d.answeredBy === 'fax' || (machine && onMachine === 'hangup') ? 'hangup'
      : machine && onMachine === 'message' ? 'message' : 'connect';
    this.connect = action === 'connect';
    this.o.act(action, d);
    if (this.connect) {
      this.waiter?.(true);
      this.waiter = null;
    }
  }

  private observeFirst(atMs: number): void {
    this.decisionMs = atMs;
    this.o.metrics.histogram('fsbridge_amd_decision_seconds', 'Time from the first caller audio to the first AMD decision (human / machine / fax / unknown), s', DECISION_BUCKETS).observe(atMs / 1000);
  }

  private count(result: string): void {
    this.o.metrics.counter('fsbridge_amd_results_total', 'Answering-machine detection results (Twilio AnsweredBy values)').inc({ result });
  }
}
