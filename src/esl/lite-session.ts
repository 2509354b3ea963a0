import { FreeSwitchResponse } from 'esl-lite';
import type { Logger } from '../observability/logger.js';
import type { LiteTransport } from './lite-transport.js';

/**
 * esl-lite's command layer (FreeSwitchResponse: auth on auth/request, one command in flight, FIFO
 * reply matching, `event json` subscriptions, bgapi Job-UUID matching) bound to one fsbridge
 * LiteTransport. One instance per TCP connection: when the connection ends, esl-lite fails every
 * pending command with FreeSwitchApplicationEndedError instead of re-sending it on the next
 * connection (its own client re-sends pending commands after a reconnect, which could run an
 * `originate` twice).
 */
export class LiteSession extends FreeSwitchResponse {
  constructor(transport: LiteTransport, password: string, logger: Logger) {
    // esl-lite types its transport as the class EslLite (private fields), which it does not export;
    // LiteTransport has the same public shape (write / connect / end).
    super(transport as never, password, logger);
  }

  /** Runs esl-lite's read loop until the transport ends; never rejects. */
  async run(): Promise<void> {
    try {
      await this.connect();
    } catch {
      /* esl-lite logs inside; the transport's close is what the owner acts on */
    }
  }

  /** Subscribes (esl-lite sends `event json <NAME>` / `event json CUSTOM <subclass> ` per name). */
  subscribe(names: readonly string[], subclasses: readonly string[]): void {
    const noop = (): void => {};
    for (const n of names) (this.on as (e: string, h: () => void) => unknown)(n, noop);
    for (const s of subclasses) (this.custom.on as (e: string, h: () => void) => unknown)(s, noop);
  }
}
