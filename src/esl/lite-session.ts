import { FreeSwitchResponse } from 'esl-lite';
import type { Logger } from '../observability/logger.js';
import type { LiteTransport } from './lite-transport.js';

/** What esl-lite resolves a command with: its command/reply, or one of its error objects. */
export type LiteCommandOutcome = Awaited<ReturnType<FreeSwitchResponse['bgapi']>>;

/**
 * esl-lite's command layer (FreeSwitchResponse: auth on auth/request, one command in flight, FIFO
 * reply matching, bgapi Job-UUID matching) bound to one fsbridge LiteTransport. One instance per
 * TCP connection: when the connection ends, esl-lite fails every pending command with
 * FreeSwitchApplicationEndedError instead of re-sending it on the next connection (its own client
 * re-sends pending commands after a reconnect, which could run an `originate` twice).
 *
 * esl-lite's own subscriptions are switched off: EslControl sends exactly what fsbridge uses, in
 * one `event json …` command (issue 8).
 */
export class LiteSession extends FreeSwitchResponse {
  constructor(transport: LiteTransport, password: string, logger: Logger) {
    // esl-lite types its transport as the class EslLite (private fields), which it does not export;
    // LiteTransport has the same public shape (write / connect / end).
    super(transport as never, password, logger);
    // esl-lite 3.2.0 (response.ts constructor) pre-registers CUSTOM, CHANNEL_EXECUTE_COMPLETE and
    // BACKGROUND_JOB and sends `event json <name>` for each on every auth/request: one
    // CHANNEL_EXECUTE_COMPLETE per application run on every channel of the switch, for its
    // command_uuid, which fsbridge never calls. The set is private; emptied here so nothing is sent
    // (test/unit/esl/issue-8-esl-subscription.test.ts checks the exact commands on the wire).
    const registered = (this as unknown as { registeredEventNames?: unknown }).registeredEventNames;
    if (registered instanceof Set) registered.clear();
  }

  /** Runs esl-lite's read loop until the transport ends; never rejects. */
  async run(): Promise<void> {
    try {
      await this.connect();
    } catch {
      /* esl-lite logs inside; the transport's close is what the owner acts on */
    }
  }

  /**
   * Sends one socket command (`event …`, `filter …`) through esl-lite's FIFO queue, so it reaches
   * FreeSWITCH before any command queued after it. Resolves with the command/reply (a `-ERR` reply
   * as FreeSwitchFailedCommandError) or esl-lite's timeout / ended error after `timeoutMs` (a real
   * timer inside esl-lite); never rejects.
   */
  command(line: string, timeoutMs: number): Promise<LiteCommandOutcome> {
    return this.send(line, {}, undefined, timeoutMs);
  }
}
