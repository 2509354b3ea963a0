import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `fsb_<id>_<secret>`. The id (12 hex digits) names the key in lists, logs and the audit
 * log; the secret (32 base64url characters, 192 random bits) is shown once, when the key is
 * created. The store keeps only the SHA-256 of the whole key: a key this random needs no slow hash.
 */
export interface NewApiKey { id: string; token: string; hash: string }

const KEY_RE = /^fsb_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/;

export function generateApiKey(): NewApiKey {
  const id = randomBytes(6).toString('hex');
  const token = `fsb_${id}_${randomBytes(24).toString('base64url')}`;
  return { id, token, hash: hashApiKey(token) };
}

/** The key's id, or null when `token` is not shaped like a key. */
export function apiKeyId(token: string): string | null {
  return KEY_RE.exec(token)?.[1] ?? null;
}

export function hashApiKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of a presented key with a stored hash. */
export function apiKeyMatches(token: string, hash: string): boolean {
  const a = Buffer.from(hashApiKey(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
