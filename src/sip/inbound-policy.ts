/**
 * Pure decisions for inbound INVITEs: which trunk a source belongs to, which route a dialled
 * number takes, the request-URI toward FreeSWITCH's profile, stateless digest nonces (an HMAC
 * over the issue time, so no per-challenge state is kept and a flood cannot grow memory) and the
 * bounded table of nonce counts that detects replayed credentials (issue 8).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DeepReadonly, RouteConfig as RouteConfigMutable, TrunkConfig as TrunkConfigMutable } from '../config/schema.js';

/** Trunk settings as the validated (frozen) config holds them. */
export type TrunkConfig = DeepReadonly<TrunkConfigMutable>;
/** A route as the validated (frozen) config holds it. */
export type RouteConfig = DeepReadonly<RouteConfigMutable>;
import { compileAllowList, type AllowList } from './cidr.js';

/** The user part of a SIP URI (`sip:+15551234@host;x` → `+15551234`), or undefined. */
export function uriUser(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /sips?:([^@;>?]+)@/i.exec(uri);
  if (!m) return undefined;
  try { return decodeURIComponent(m[1]); } catch { return m[1]; }
}

/** Compares dialled numbers ignoring a leading '+' (operators differ in sending it). */
export function sameNumber(a: string, b: string): boolean {
  return a.replace(/^\+/, '') === b.replace(/^\+/, '');
}

/** The first route whose DID equals `did` and whose trunk (when set) equals `trunk`. */
export function matchRoute(routes: readonly RouteConfig[], did: string, trunk: string): RouteConfig | undefined {
  return routes.find((r) => sameNumber(r.did, did) && (r.trunk === undefined || r.trunk === trunk));
}

/**
 * Puts `user` into a profile URI: `sip:127.0.0.1:5080;transport=udp` + `15551234`
 * → `sip:15551234@127.0.0.1:5080;transport=udp` (an existing user part is replaced).
 */
export function uriWithUser(profileUri: string, user: string): string {
  const m = /^(sips?:)(?:[^@]*@)?(.*)$/i.exec(profileUri.trim());
  if (!m) return profileUri;
  return `${m[1]}${encodeURIComponent(user).replace(/%2B/g, '+')}@${m[2]}`;
}

/** Trunks with their compiled allow lists, for the source check. */
export interface InboundTrunk {
  trunk: TrunkConfig;
  allow: AllowList;
}

/** Compiles each trunk's `inbound.allow`. */
export function compileTrunks(trunks: readonly TrunkConfig[]): InboundTrunk[] {
  return trunks.map((trunk) => ({ trunk, allow: compileAllowList(trunk.inbound.allow) }));
}

/** The first trunk whose allow list holds `address`. */
export function trunkForSource(trunks: readonly InboundTrunk[], address: string): TrunkConfig | undefined {
  return trunks.find((t) => t.allow.has(address))?.trunk;
}

/**
 * A nonce `<issuedMs hex>.<salt hex>.<hmac>`, valid for a lifetime after issue under the same
 * key. The random salt makes every challenge's nonce unique: nonce counts are tracked per nonce,
 * so two callers challenged in the same millisecond must not share one.
 */
export function makeNonce(key: Buffer, issuedMs: number, salt: Buffer = randomBytes(8)): string {
  const body = `${Math.floor(issuedMs).toString(16)}.${salt.toString('hex')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('hex').slice(0, 32)}`;
}

/**
 * The issue time of `nonce` when it was made with `key` and is not older than `ttlMs` at
 * `nowMs` (nor more than 1 s in the future); undefined otherwise.
 */
export function nonceIssuedMs(key: Buffer, nonce: string, nowMs: number, ttlMs: number): number | undefined {
  const m = /^(([0-9a-f]{1,13})\.[0-9a-f]{16})\.([0-9a-f]{32})$/.exec(nonce);
  if (!m) return undefined;
  const issued = parseInt(m[2], 16);
  if (!(issued <= nowMs + 1000 && nowMs - issued <= ttlMs)) return undefined;
  const want = Buffer.from(createHmac('sha256', key).update(m[1]).digest('hex').slice(0, 32));
  const got = Buffer.from(m[3]);
  return want.length === got.length && timingSafeEqual(want, got) ? issued : undefined;
}

/** True when `nonce` was made with `key` and is not older than `ttlMs` at `nowMs`. */
export function checkNonce(key: Buffer, nonce: string, nowMs: number, ttlMs: number): boolean {
  return nonceIssuedMs(key, nonce, nowMs, ttlMs) !== undefined;
}

/** Most nonces whose use {@link NonceUseTable} remembers at once (about 1 MB at most). */
export const MAX_TRACKED_NONCES_COUNT = 10_000;

/** Whether a use of a nonce is new or repeats an earlier one. */
export type NonceUse = 'fresh' | 'replay';

/**
 * The highest nonce count (nc) seen per digest nonce, so that a captured Authorization header
 * cannot be sent again while its nonce is valid (RFC 2617 §3.2.2: nc lets the server detect
 * replays; RFC 7616 §5.5). Only nonces that authenticated a request are entered, so a flood of
 * unauthenticated INVITEs cannot grow it or push entries out. Entries expire `ttlMs` after their
 * nonce was issued; beyond `maxEntries` the oldest entry is dropped and every nonce issued no
 * later than a dropped one counts as used, so dropping never re-opens a replay. Pure: time comes
 * in as arguments (wall-clock ms, the clock of the nonces).
 */
export class NonceUseTable {
  // insertion order is first-use order: the head is the oldest entry
  private readonly entries = new Map<string, { issuedMs: number; lastNc: number }>();
  private droppedUpToMs = -Infinity;

  constructor(private readonly ttlMs: number, private readonly maxEntries = MAX_TRACKED_NONCES_COUNT) {}

  /** Nonces remembered now. */
  get size(): number { return this.entries.size; }

  /**
   * Records one authenticated request with `nonce` (issued at `issuedMs`) and nonce count `nc`;
   * `nc` undefined (no qop) makes the nonce good for that one request. 'replay' when `nc` is not
   * above the highest count seen for the nonce, or the nonce was used without qop before.
   */
  use(nonce: string, issuedMs: number, nc: number | undefined, nowMs: number): NonceUse {
    for (const [k, e] of this.entries) {
      if (nowMs - e.issuedMs <= this.ttlMs) break;
      this.entries.delete(k);
    }
    const count = nc ?? Number.MAX_SAFE_INTEGER;
    const seen = this.entries.get(nonce);
    if (seen) {
      if (nc === undefined || nc <= seen.lastNc) return 'replay';
      seen.lastNc = count;
      return 'fresh';
    }
    if (issuedMs <= this.droppedUpToMs) return 'replay';
    this.entries.set(nonce, { issuedMs, lastNc: count });
    if (this.entries.size > this.maxEntries) {
      const [k, e] = this.entries.entries().next().value as [string, { issuedMs: number }];
      this.entries.delete(k);
      this.droppedUpToMs = Math.max(this.droppedUpToMs, e.issuedMs);
    }
    return 'fresh';
  }
}
