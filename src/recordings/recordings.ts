/**
 * Call recordings on the main thread: which data key and file a call is recorded to (the media
 * leg writes it, in whatever thread carries the call), its row in the store from start to end,
 * reading one back for the API, erasure, and the hourly retention purge of this node's files.
 * Without recordings.masterKey nothing is recorded (the configuration check refuses a `record`
 * without it).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { DeepReadonly, RecordingsConfig, TenantConfig } from '../config/schema.js';
import { FsbridgeError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Store, StoreOp } from '../store/store.js';
import { deleteRecordings, erasedRecordings, expiredRecordings, findRecording } from '../store/recording-rows.js';
import type { RecordingsTable } from '../store/tables.js';
import { parseMasterKey } from './data-keys.js';
import { RecordingKeyring } from './keyring.js';
import { decryptRecording, recordingMs, scanRecording } from './reader.js';
import type { RecordingTarget } from './recording-writer.js';

/** How often the retention purge runs (and once at start). */
const PURGE_EVERY_MS = 3_600_000;
/** Rows read per purge query; at most PURGE_BATCHES of them per tenant and run. */
const PURGE_BATCH = 500;
const PURGE_BATCHES = 20;

/** A recording read back for the API: its audio in order, or why there is none. */
export type RecordingRead =
  | { ok: true; rateHz: number; plainBytes: number; complete: boolean; audio: AsyncIterable<Buffer> }
  | { ok: false; status: number; code: string; message: string };

export interface RecordingsOptions {
  config: () => { recordings: DeepReadonly<RecordingsConfig>; tenants: DeepReadonly<Record<string, TenantConfig>> };
  store: () => Store;
  writer: { push(op: StoreOp): void };
  nodeId: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
}

export class Recordings {
  private readonly keyring: RecordingKeyring | null;
  private readonly dir: string;
  private stopPurge: (() => void) | null = null;
  private purging: Promise<number> | null = null;

  constructor(private readonly o: RecordingsOptions) {
    const rc = o.config().recordings;
    this.dir = rc.dir;
    const master = rc.masterKey === undefined ? null : parseMasterKey(rc.masterKey);
    // the configuration check refuses a master key of the wrong size; this is the backstop
    if (rc.masterKey !== undefined && !master) throw new FsbridgeError('CONFIG_INVALID', 'recordings.masterKey: expected 32 bytes as 64 hex digits or base64');
    const previous = rc.previousMasterKey === undefined ? null : parseMasterKey(rc.previousMasterKey);
    this.keyring = master
      ? new RecordingKeyring({ master, previous, store: o.store, writer: o.writer, clock: o.clock, dataKeyDays: rc.dataKeyDays })
      : null;
  }

  /** Whether calls can be recorded (a master key is configured). */
  get enabled(): boolean { return this.keyring !== null; }

  /** After the store opened: unwraps the data keys (RECORDING_MASTER_KEY_WRONG is fatal), makes the directory, starts the purge. */
  async start(): Promise<void> {
    if (!this.keyring) return;
    const rewrapped = await this.keyring.load();
    if (rewrapped > 0) this.o.logger.info({ keys: rewrapped, masterKey: this.keyring.fingerprint }, 'data keys wrapped again with the new master key: recordings.previousMasterKey can be removed');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tick = () => {
      void this.purge().catch((err) => this.o.logger.warn({ err }, 'recording purge failed; tried again in an hour'));
      this.stopPurge = this.o.clock.setTimeout(tick, PURGE_EVERY_MS);
    };
    tick();
  }

  async close(): Promise<void> {
    this.stopPurge?.();
    this.stopPurge = null;
    await this.purging?.catch(() => {});
  }

  /** Where and with which key the call is recorded; its row is written (state `recording`). Null when recordings are off. */
  begin(callId: string, tenant: string, rateHz: 8000 | 16000): RecordingTarget | null {
    if (!this.keyring) return null;
    const now = this.o.clock.wallMs();
    const { id, key, wrapped, masterFp } = this.keyring.activeKey(tenant);
    // tenant names start with a letter or digit (config and API): a safe directory name
    const path = join(this.dir, tenant, new Date(now).toISOString().slice(0, 10), `${callId}.fsbrec`);
    this.o.writer.push({ kind: 'recording-started', row: { call_id: callId, tenant, node_id: this.o.nodeId, path, key_id: id, state: 'recording', started_at: now, ended_at: null, duration_ms: null, bytes: null } });
    return { path, keyId: id, key, wrappedKey: wrapped, masterFp, tenant, callId, rateHz };
  }

  /** After the leg that wrote it stopped: the row says what the file holds (`incomplete` when it was cut short). */
  async finish(t: RecordingTarget): Promise<void> {
    let state: 'complete' | 'incomplete' = 'incomplete';
    let durationMs = 0;
    let bytes = 0;
    try {
      const rec = await scanRecording(t.path);
      state = rec.complete ? 'complete' : 'incomplete';
      durationMs = recordingMs(rec.plainBytes, rec.header.rateHz);
      bytes = rec.plainBytes;
    } catch (err) {
      // no file at all (it could not be created): the write failure was reported where it happened
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.o.logger.warn({ err, callId: t.callId }, 'recording unreadable after the call');
    }
    this.o.writer.push({ kind: 'recording-ended', callId: t.callId, state, endedAt: this.o.clock.wallMs(), durationMs, bytes });
  }

  /** The call's recording decrypted, for the API (the caller checked that the call is visible to the key). */
  async read(callId: string): Promise<RecordingRead> {
    const row = await findRecording(this.o.store(), callId);
    if (!row || row.state === 'erased' || !this.keyring) return { ok: false, status: 404, code: 'API_NOT_FOUND', message: 'the call has no recording' };
    if (row.state === 'recording') return { ok: false, status: 409, code: 'API_RECORDING_IN_PROGRESS', message: 'the call is still being recorded' };
    let rec;
    try { rec = await scanRecording(row.path); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { ok: false, status: 404, code: 'API_RECORDING_MISSING', message: `the recording's file is not on this node's disk (recorded by node ${row.node_id})` };
      }
      return this.corrupt(callId, err);
    }
    const h = rec.header;
    // a stored key this master key cannot open (another node's, under another master key) is a read failure here, not a store outage
    const stored = await this.keyring.keyById(h.keyId, row.tenant).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'RECORDING_MASTER_KEY_WRONG') return null;
      throw err;
    });
    const key = stored ?? this.keyring.keyFromHeader(h.keyId, row.tenant, h.wrappedKey, h.masterFp);
    if (!key || rec.header.callId !== callId) return this.corrupt(callId, new Error('the file names another call or a key of another tenant'));
    return { ok: true, rateHz: rec.header.rateHz, plainBytes: rec.plainBytes, complete: rec.complete, audio: this.reported(callId, decryptRecording(row.path, rec, key)) };
  }

  /** Removes recording files whose rows are gone (erasure); a file that cannot be removed is reported. */
  async removeFiles(paths: readonly string[]): Promise<number> {
    let removed = 0;
    for (const p of paths) {
      try { await unlink(p); removed++; } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.o.metrics.error('RECORDING_DELETE_FAILED');
        this.o.logger.error({ err, code: 'RECORDING_DELETE_FAILED', path: p }, 'a recording file could not be removed');
      }
    }
    return removed;
  }

  /** Removes this node's recordings erased on another node, and those older than their tenant's retention; returns how many. */
  purge(): Promise<number> {
    this.purging ??= this.purgeNow().finally(() => { this.purging = null; });
    return this.purging;
  }

  private async purgeNow(): Promise<number> {
    const { recordings, tenants } = this.o.config();
    const now = this.o.clock.wallMs();
    const own = Object.entries(tenants).filter(([, t]) => t.recordingRetentionDays !== undefined);
    let removed = 0;
    for (let i = 0; i < PURGE_BATCHES; i++) {
      const erased = await this.removeRows(await erasedRecordings(this.o.store(), this.o.nodeId, PURGE_BATCH));
      removed += erased.removed;
      if (erased.rows < PURGE_BATCH || erased.removed === 0) break;
    }
    for (const [name, t] of own) removed += await this.purgeOlder(name, [], t.recordingRetentionDays!, now);
    removed += await this.purgeOlder(null, own.map(([n]) => n), recordings.retentionDays, now);
    if (removed > 0) {
      this.o.metrics.counter('fsbridge_recordings_purged_total', 'Recordings removed by the purge (retention, or erased on another node)').inc({}, removed);
      this.o.logger.info({ recordings: removed }, 'recordings removed (past their retention, or erased on another node)');
    }
    return removed;
  }

  private async purgeOlder(tenant: string | null, except: string[], days: number, now: number): Promise<number> {
    if (days <= 0) return 0;
    let removed = 0;
    for (let i = 0; i < PURGE_BATCHES; i++) {
      const r = await this.removeRows(await expiredRecordings(this.o.store(), this.o.nodeId, tenant, except, now - days * 86_400_000, PURGE_BATCH));
      removed += r.removed;
      if (r.rows < PURGE_BATCH || r.removed === 0) break;
    }
    return removed;
  }

  /** Removes the rows' files, then the rows of those removed (a file that cannot be removed keeps its row for the next purge). */
  private async removeRows(rows: RecordingsTable[]): Promise<{ rows: number; removed: number }> {
    const gone: string[] = [];
    for (const r of rows) {
      try { await unlink(r.path); } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.o.metrics.error('RECORDING_DELETE_FAILED');
          this.o.logger.error({ err, code: 'RECORDING_DELETE_FAILED', path: r.path }, 'a recording could not be removed');
          continue;
        }
      }
      gone.push(r.call_id);
    }
    await deleteRecordings(this.o.store(), gone);
    return { rows: rows.length, removed: gone.length };
  }

  /** The audio, with a chunk that does not authenticate reported (the API then cuts the body short). */
  private async *reported(callId: string, audio: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
    try {
      yield* audio;
    } catch (err) {
      this.corrupt(callId, err);
      throw err;
    }
  }

  private corrupt(callId: string, err: unknown): RecordingRead {
    this.o.metrics.error('RECORDING_CORRUPT');
    this.o.logger.error({ err, code: 'RECORDING_CORRUPT', callId }, 'a recording cannot be read');
    return { ok: false, status: 500, code: 'RECORDING_CORRUPT', message: 'the recording cannot be read (see the daemon log)' };
  }
}
