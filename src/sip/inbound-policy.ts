/**
 * Pure decisions for inbound INVITEs: which trunk a source belongs to, which route a dialled
 * number takes, the request-URI toward FreeSWITCH's profile, and stateless digest nonces
 * (an HMAC over the issue time, so no per-challenge state is kept and a flood cannot grow memory).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** A nonce `<issuedMs hex>.<hmac>`; valid for `ttlMs` after issue under the same key. */
export function makeNonce(key: Buffer, issuedMs: number): string {
  const ts = Math.floor(issuedMs).toString(16);
  return `${ts}.${createHmac('sha256', key).update(ts).digest('hex').slice(0, 32)}`;
}

/** True when `nonce` was made with `key` and is not older than `ttlMs` at `nowMs`. */
export function checkNonce(key: Buffer, nonce: string, nowMs: number, ttlMs: number): boolean {
  const m = /^([0-9a-f]{1,13})\.([0-9a-f]{32})$/.exec(nonce);
  if (!m) return false;
  const issued = parseInt(m[1], 16);
  if (!(issued <= nowMs + 1000 && nowMs - issued <= ttlMs)) return false;
  const want = Buffer.from(makeNonce(key, issued).split('.')[1]);
  const got = Buffer.from(m[2]);
  return want.length === got.length && timingSafeEqual(want, got);
}
