/**
 * Data keys and the master key (pure, node:crypto only). Each tenant's recordings are sealed
 * under a data key of that tenant (32 random bytes); data keys are stored only wrapped: sealed
 * with AES-256-GCM under the master key (recordings.masterKey, from a systemd credential), bound
 * to their id and tenant. A master key is known by its fingerprint, which is stored beside each
 * wrapped key so that the one it needs can be named.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A master key from its text: 64 hex digits, or base64 of 32 bytes; null when it is neither. */
export function parseMasterKey(text: string): Buffer | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  return null;
}

/** What a master key is called in the store and in messages (not secret: a hash of it). */
export function masterFingerprint(master: Uint8Array): string {
  return createHash('sha256').update('fsbridge recordings master key\0').update(master).digest('hex').slice(0, 16);
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}

function aad(id: string, tenant: string): Buffer {
  return Buffer.from(`fsbridge data key\0${id}\0${tenant}`, 'utf8');
}

/** `dataKey` sealed under `master` (base64 of iv | ciphertext | tag). */
export function wrapDataKey(master: Uint8Array, dataKey: Uint8Array, id: string, tenant: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', master, iv);
  c.setAAD(aad(id, tenant));
  const ct = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64');
}

/** The data key, or null when `master` is not the key it was wrapped with (or it was altered). */
export function unwrapDataKey(master: Uint8Array, wrapped: string, id: string, tenant: string): Buffer | null {
  const b = Buffer.from(wrapped, 'base64');
  if (b.length !== 12 + 32 + 16) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', master, b.subarray(0, 12));
    d.setAAD(aad(id, tenant));
    d.setAuthTag(b.subarray(44));
    return Buffer.concat([d.update(b.subarray(12, 44)), d.final()]);
  } catch {
    return null;
  }
}
