import type { Socket } from 'node:net';
import { EslFrameParser, type EslFrame, type FrameParserLimits } from './frame-parser.js';
import { eventFromFrame, isEventFrame, type FsEvent } from './events.js';
import { liteEvent, liteHeaders, type LiteEvent, type LiteWriteRequest } from './lite-adapter.js';
import type { EslErrorCode } from './error-codes.js';

/** What the transport reports to its owner (EslControl). */
export interface LiteTransportHooks {
  /** Every frame, before esl-lite sees it. Return false to withhold it from esl-lite. */
  onFrame(frame: EslFrame): boolean;
  /** A parsed event (each event frame is parsed once, here; BACKGROUND_JOB is also handed to esl-lite). */
  onEvent(ev: FsEvent): void;
  /** Bad input: for frame errors the socket is already being destroyed. */
  onInputError(code: EslErrorCode, detail: string): void;
  /** The socket is gone (after any error). Called once. */
  onClosed(): void;
}

/** Most frames waiting for esl-lite's reader; beyond it the connection is dropped as overloaded. */
const MAX_QUEUED_EVENTS = 50_000;

/**
 * Replaces esl-lite's socket + parser layer (EslLite / FreeSwitchSocket / FreeSwitchParser) for ONE
 * TCP connection, keeping esl-lite's command layer (FreeSwitchResponse) on top. Why, in short
 * (details in docs/esl-client.md): esl-lite's parser misses a `\n\n` split across chunks, has no
 * Content-Length limit and drops Content-Length: 0 frames; its socket loop reconnects in a tight loop
 * after a wrong password and cannot take an injected clock. The object satisfies the EslLite shape:
 * `write(req)`, `connect()` (async iterable of processed events), `end()`.
 */
export class LiteTransport {
  private readonly parser: EslFrameParser;
  private readonly queue: LiteEvent[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private closedReported = false;
  /** Times (clock ms) of written commands still waiting for their command/reply, oldest first. */
  readonly unanswered: number[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly hooks: LiteTransportHooks,
    private readonly nowMs: () => number,
    limits: Partial<FrameParserLimits> = {},
  ) {
    this.parser = new EslFrameParser(limits);
  }

  /** Wires the socket; call once, right after construction. */
  attach(): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => { /* 'close' follows; the owner logs the reason */ });
    this.socket.on('close', () => this.finish());
  }

  /** esl-lite: write one command. */
  write(req: LiteWriteRequest): void {
    if (this.ended || this.socket.destroyed) {
      req.resolve(new Error('socket closed'));
      return;
    }
    if (this.unanswered.length < 10_000) this.unanswered.push(this.nowMs());
    this.socket.write(req.buf, (err) => req.resolve(err ?? undefined));
  }

  /** esl-lite: the stream of processed events for this one connection; ends when the socket closes. */
  connect(): AsyncIterable<LiteEvent> {
    const next = async (): Promise<LiteEvent | undefined> => {
      for (;;) {
        const ev = this.queue.shift();
        if (ev !== undefined) return ev;
        if (this.ended) return undefined;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = null;
      }
    };
    return (async function* () {
      for (;;) {
        const ev = await next();
        if (ev === undefined) return;
        yield ev;
      }
    })();
  }

  /** esl-lite / owner: close this connection. Safe to call twice. */
  end(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.finish();
  }

  private push(ev: LiteEvent): void {
    this.queue.push(ev);
    this.wake?.();
  }

  private finish(): void {
    this.ended = true;
    this.wake?.();
    if (!this.closedReported) {
      this.closedReported = true;
      this.hooks.onClosed();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    const { frames, error } = this.parser.feed(chunk);
    for (const frame of frames) {
      if (this.ended) return;
      this.onFrame(frame);
    }
    if (error && !this.ended) {
      this.hooks.onInputError(error.code, error.detail);
      this.end();
    }
    if (this.queue.length > MAX_QUEUED_EVENTS && !this.ended) {
      this.hooks.onInputError('ESL_BACKLOG_OVERFLOW', 'event backlog over limit');
      this.end();
    }
  }

  private onFrame(frame: EslFrame): void {
    if (frame.contentType === 'command/reply') this.unanswered.shift();
    if (!this.hooks.onFrame(frame)) return;
    if (isEventFrame(frame)) {
      const ev = eventFromFrame(frame);
      if (!ev) {
        this.hooks.onInputError('ESL_BAD_EVENT', 'event body without Event-Name or not parsable');
        return;
      }
      this.hooks.onEvent(ev);
      // esl-lite's command layer needs only BACKGROUND_JOB (bgapi results, matched by Job-UUID);
      // every other event would be rebuilt into its shape and dispatched to no listener (issue 8).
      if (ev.name === 'BACKGROUND_JOB') this.push(liteEvent(frame, ev));
      return;
    }
    switch (frame.contentType) {
      case 'auth/request':
        this.push({ event: 'freeswitch_auth_request', headers: liteHeaders(frame), body: frame.body });
        return;
      case 'command/reply':
        this.push({ event: 'freeswitch_command_reply', headers: liteHeaders(frame), body: frame.body });
        return;
      default:
        // api/response (never requested), log/data, disconnect notices: handled by the owner in onFrame.
        return;
    }
  }
}
