import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Who ended a call: the far end, the bot, fsbridge itself, the HTTP API, a daemon shutdown, or
 * FreeSWITCH (the media server was lost, or the channel was taken out of fsbridge's control).
 */
export type EndedBy = 'caller' | 'callee' | 'bot' | 'fsbridge' | 'api' | 'shutdown' | 'freeswitch';

/** Who a call is: its ids, direction, bot and numbers (phone numbers are personal data). */
export interface CallIdentity {
  callId: string;
  /** FreeSWITCH's channel uuid ('' for a SIP call that ended before FreeSWITCH took it). */
  fsUuid: string;
  direction: 'inbound' | 'outbound';
  bot: string | null;
  from: string;
  to: string;
  /** The tenant the call belongs to: its bot's (`default` when none is configured). */
  tenant: string;
}

/** One line of the call record file (JSON Lines). Times are ISO 8601 UTC. */
export interface CallRecord extends CallIdentity {
  offeredAt: string;
  answeredAt: string | null;
  connectedAt: string | null;
  endedAt: string;
  durationMs: number;
  billableMs: number;
  cause: string;
  causeCode: number;
  endedBy: EndedBy;
  sipStatus?: number;
  /** Outbound: the dial's result (answered, busy, ...); any call: `transferred` when the bot transferred it. */
  result?: string;
  /** Where the bot transferred the call (result `transferred`). */
  transferTarget?: string;
  errorCode?: string;
  /** Outbound with answering-machine detection: who answered (human, machine_start, machine_end_beep, …). */
  answeredBy?: string;
}

/** A call as it is when offered (admitted): what a crash must not lose. */
export type OfferedCall = CallIdentity & { offeredAt: string };

/** A live call that was answered or connected (or got its FreeSWITCH channel). */
export interface CallProgress { callId: string; fsUuid: string; answeredAt: string | null; connectedAt: string | null }

/**
 * Where call records go. No method may throw into the caller; failures are reported by the sink.
 * `offered` is told of every admitted call and `progressed` of its answer and connection (a sink
 * that keeps only ended calls ignores both), `write` of its end.
 */
export interface CallRecordSink {
  offered?(call: OfferedCall): void;
  progressed?(p: CallProgress): void;
  write(rec: CallRecord): Promise<void>;
}

/** Several sinks as one, each told everything. */
export function fanOut(sinks: readonly CallRecordSink[]): CallRecordSink {
  return {
    offered: (c) => { for (const s of sinks) s.offered?.(c); },
    progressed: (p) => { for (const s of sinks) s.progressed?.(p); },
    write: async (rec) => { await Promise.all(sinks.map((s) => s.write(rec))); },
  };
}

/**
 * Appends one JSON line per record to a file. Writes are chained so lines never interleave;
 * `flush()` resolves when every write so far has reached the file.
 */
export class JsonlRecordFile implements CallRecordSink {
  private chain: Promise<void> = Promise.resolve();
  private dirReady = false;
  constructor(readonly path: string, private readonly onError: (err: unknown) => void) {}
  write(rec: CallRecord): Promise<void> {
    const line = JSON.stringify(rec) + '\n';
    this.chain = this.chain.then(async () => {
      try {
        if (!this.dirReady) {
          await mkdir(dirname(this.path), { recursive: true });
          this.dirReady = true;
        }
        await appendFile(this.path, line);
      } catch (err) {
        this.onError(err);
      }
    });
    return this.chain;
  }
  flush(): Promise<void> {
    return this.chain;
  }

  /**
   * Removes the lines whose record `drop` selects (an erasure request), in the same chain as the
   * appends so that none is lost or interleaved: the file is rewritten beside itself and renamed
   * over. Resolves with how many lines were removed.
   */
  erase(drop: (rec: CallRecord) => boolean): Promise<number> {
    let removed = 0;
    this.chain = this.chain.then(async () => {
      let text: string;
      try { text = await readFile(this.path, 'utf8'); } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(err);
        return;
      }
      const kept = text.split('\n').filter((line) => {
        if (!line) return false;
        try { if (drop(JSON.parse(line) as CallRecord)) { removed++; return false; } } catch { /* keep what is not a record */ }
        return true;
      });
      if (removed === 0) return;
      try {
        await writeFile(`${this.path}.erase`, kept.map((l) => l + '\n').join(''));
        await rename(`${this.path}.erase`, this.path);
      } catch (err) {
        // nothing was removed: the answer must not say otherwise
        removed = 0;
        await rm(`${this.path}.erase`, { force: true }).catch(() => {});
        this.onError(err);
      }
    });
    return this.chain.then(() => removed);
  }
}
