/**
 * The data keys of every tenant, unwrapped in memory (main thread). load() at start reads every
 * stored key and unwraps it with the master key; a key wrapped by recordings.previousMasterKey is
 * wrapped again with the master key (rotation); a key neither opens is fatal
 * (RECORDING_MASTER_KEY_WRONG): recordings could no longer be read, so fsbridge does not start
 * and make more. activeKey() gives a tenant's current key, making a new one when it has none or
 * it is older than recordings.dataKeyDays (written through the store's queue: it is usable at
 * once). keyById() finds the key a recording names, also one another node made; keyFromHeader()
 * opens the wrapped copy a recording carries when the store lost the key's row.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { FsbridgeError } from '../errors.js';
import type { Store, StoreOp } from '../store/store.js';
import { allRecordingKeys, findRecordingKey, rewrapRecordingKey } from '../store/recording-rows.js';
import type { RecordingKeysTable } from '../store/tables.js';
import { masterFingerprint, newDataKey, unwrapDataKey, wrapDataKey } from './data-keys.js';

export interface KeyringOptions {
  master: Buffer;
  previous: Buffer | null;
  store: () => Store;
  writer: { push(op: StoreOp): void };
  clock: Clock;
  dataKeyDays: number;
}

interface DataKey { id: string; tenant: string; key: Buffer; createdAt: number; wrapped: string; masterFp: string }

export class RecordingKeyring {
  private readonly byId = new Map<string, DataKey>();
  private readonly active = new Map<string, DataKey>();
  readonly fingerprint: string;
  private readonly previousFp: string | null;

  constructor(private readonly o: KeyringOptions) {
    this.fingerprint = masterFingerprint(o.master);
    this.previousFp = o.previous ? masterFingerprint(o.previous) : null;
  }

  /** Reads and unwraps every stored key; returns how many were wrapped again. Throws RECORDING_MASTER_KEY_WRONG. */
  async load(): Promise<number> {
    let rewrapped = 0;
    for (const row of await allRecordingKeys(this.o.store())) {
      const key = this.unwrap(row);
      let wrapped = row.wrapped;
      if (row.master_fp !== this.fingerprint) {
        wrapped = wrapDataKey(this.o.master, key, row.id, row.tenant);
        await rewrapRecordingKey(this.o.store(), row.id, wrapped, this.fingerprint);
        rewrapped++;
      }
      this.remember({ id: row.id, tenant: row.tenant, key, createdAt: Number(row.created_at), wrapped, masterFp: this.fingerprint });
    }
    return rewrapped;
  }

  /** The tenant's key for a new recording. */
  activeKey(tenant: string): { id: string; key: Buffer; wrapped: string; masterFp: string } {
    const now = this.o.clock.wallMs();
    const cur = this.active.get(tenant);
    if (cur && now - cur.createdAt < this.o.dataKeyDays * 86_400_000) return cur;
    const id = `rk_${randomBytes(8).toString('hex')}`;
    const key = newDataKey();
    const k: DataKey = { id, tenant, key, createdAt: now, wrapped: wrapDataKey(this.o.master, key, id, tenant), masterFp: this.fingerprint };
    this.o.writer.push({ kind: 'recording-key', row: { id, tenant, wrapped: k.wrapped, master_fp: this.fingerprint, created_at: now } });
    this.remember(k);
    return k;
  }

  /** The key `id` of `tenant`; null when the store has none such. */
  async keyById(id: string, tenant: string): Promise<Buffer | null> {
    let k = this.byId.get(id);
    if (!k) {
      const row = await findRecordingKey(this.o.store(), id);
      if (!row) return null;
      k = { id, tenant: row.tenant, key: this.unwrap(row), createdAt: Number(row.created_at), wrapped: row.wrapped, masterFp: row.master_fp };
      this.remember(k);
    }
    return k.tenant === tenant ? k.key : null;
  }

  /**
   * A key from a recording's header, when the store has no row for it (its write was lost while
   * the database was away): opened with the master key (or the previous one) it names; null when
   * neither opens it. Bound to its id and tenant, so a header cannot pass off another tenant's key.
   */
  keyFromHeader(id: string, tenant: string, wrapped: string, masterFp: string): Buffer | null {
    const master = masterFp === this.fingerprint ? this.o.master : masterFp === this.previousFp ? this.o.previous : null;
    return master ? unwrapDataKey(master, wrapped, id, tenant) : null;
  }

  private remember(k: DataKey): void {
    this.byId.set(k.id, k);
    const cur = this.active.get(k.tenant);
    if (!cur || k.createdAt >= cur.createdAt) this.active.set(k.tenant, k);
  }

  private unwrap(row: RecordingKeysTable): Buffer {
    const master = row.master_fp === this.fingerprint ? this.o.master
      : row.master_fp === this.previousFp ? this.o.previous : null;
    const key = master && unwrapDataKey(master, row.wrapped, row.id, row.tenant);
    if (key) return key;
    throw new FsbridgeError('RECORDING_MASTER_KEY_WRONG',
      `recordings.masterKey (master key ${this.fingerprint}${this.previousFp ? `, previousMasterKey ${this.previousFp}` : ''}) does not open data key ${row.id} of tenant ${row.tenant}, `
      + `which master key ${row.master_fp} wrapped${master ? ' (and it did not authenticate)' : ''}: give recordings.masterKey the credential the recordings were made with `
      + '(to rotate: the new key in masterKey, the old one in previousMasterKey)');
  }
}
