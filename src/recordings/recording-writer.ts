/**
 * Writes one call's recording while the call runs (in the thread that carries its media): stereo
 * samples are gathered into chunks of `chunkMs`, each sealed (format.ts) and appended to the file
 * in order, without waiting on the disk in the caller's path. A write that fails (disk full, file
 * system gone) or a disk that falls more than MAX_PENDING chunks behind stops the recording:
 * RECORDING_WRITE_FAILED is counted and logged once, what was written stays readable, and the call
 * goes on. close() seals the last chunk (marked final) and closes the file; idempotent.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { chunkContext, encodeHeader, sealChunk, type ChunkContext, type RecordingHeader } from './format.js';

/** Where and how one call is recorded (plain data: crosses to a media worker). */
export interface RecordingTarget {
  path: string;
  keyId: string;
  /** The tenant's data key (32 bytes). Held in memory only. */
  key: Uint8Array;
  /** The same key wrapped by the master key, and the master key's fingerprint (for the header). */
  wrappedKey: string;
  masterFp: string;
  tenant: string;
  callId: string;
  rateHz: 8000 | 16000;
}

/** The file operations a writer uses (tests may make them fail). */
export interface RecordingFileHandle {
  write(buf: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Audio sealed but not yet written before the disk counts as failed. */
const MAX_PENDING_MS = 10_000;

/** Creates the directory (0700) and the file (0600; never an existing one). */
export async function openRecordingFile(path: string): Promise<RecordingFileHandle> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const fh = await open(path, 'wx', 0o600);
  return {
    async write(buf) {
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
    },
    close: () => fh.close(),
  };
}

export interface RecordingWriterOptions {
  target: RecordingTarget;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Plaintext per sealed chunk (default 1000 ms): at most this much is lost in a crash. */
  chunkMs?: number;
  openFile?: (path: string) => Promise<RecordingFileHandle>;
}

export class RecordingWriter {
  private readonly ctx: ChunkContext;
  private readonly headerBytes: Buffer;
  private readonly plain: Buffer;
  /** The same bytes as 16-bit samples (little-endian hosts, as the WAV wants): frames are copied in without a view per frame. */
  private readonly samples: Int16Array;
  /** Samples gathered in `plain`. */
  private fill = 0;
  private index = 0;
  private pending = 0;
  private readonly maxPending: number;
  private chain: Promise<RecordingFileHandle | null>;
  private closing: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: RecordingWriterOptions) {
    const t = o.target;
    const header: RecordingHeader = {
      v: 1, callId: t.callId, tenant: t.tenant, keyId: t.keyId, wrappedKey: t.wrappedKey, masterFp: t.masterFp,
      rateHz: t.rateHz, channels: 2, nonce: randomBytes(8).toString('hex'),
    };
    this.headerBytes = encodeHeader(header);
    this.ctx = chunkContext(t.key, this.headerBytes, header);
    const chunkMs = o.chunkMs ?? 1000;
    this.plain = Buffer.alloc(Math.round((t.rateHz * chunkMs) / 1000) * 4);
    this.samples = new Int16Array(this.plain.buffer, this.plain.byteOffset, this.plain.length / 2);
    this.maxPending = Math.ceil(MAX_PENDING_MS / chunkMs);
    this.chain = (o.openFile ?? openRecordingFile)(t.path).then(
      async (fh) => { await fh.write(this.headerBytes); return fh; },
    ).catch((err: unknown) => { this.fail(err, 'the file could not be created'); return null; });
  }

  /** True once the recording stopped on a failure. */
  get failed(): boolean { return this.stopped; }

  /** Interleaved stereo samples (caller, bot, caller, bot, ...). */
  push(stereo: Int16Array): void {
    if (this.stopped || this.closing) return;
    const dst = this.samples;
    for (let i = 0; i < stereo.length; i++) {
      dst[this.fill++] = stereo[i];
      if (this.fill === dst.length) {
        this.seal(false);
        if (this.stopped) return;
      }
    }
  }

  /** Seals what is left as the final chunk and closes the file; resolves when it is on disk (or failed). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.stopped) this.seal(true);
      const fh = await this.chain;
      await fh?.close().catch(() => {});
    })();
    return this.closing;
  }

  private seal(final: boolean): void {
    if (this.pending >= this.maxPending) { this.fail(null, 'the disk does not keep up'); return; }
    const sealed = sealChunk(this.ctx, this.index++, final, this.plain.subarray(0, this.fill * 2));
    this.fill = 0;
    this.pending++;
    this.chain = this.chain.then(async (fh) => {
      if (!fh || this.stopped) return fh;
      try { await fh.write(sealed); } catch (err) { this.fail(err, 'a write failed'); }
      this.pending--;
      return fh;
    });
  }

  private fail(err: unknown, what: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.o.metrics.error('RECORDING_WRITE_FAILED');
    this.o.logger.warn({ err, code: 'RECORDING_WRITE_FAILED', path: this.o.target.path }, `recording stopped: ${what}; the call goes on`);
  }
}
