import { parseWindows, isTimeZone, type CallingWindow } from './calling-window.js';
import { SOUND_FILE_EXPECTED, SOUND_FILE_PATH } from '../calls/sound-file.js';
import { parseAmdRequest, type AmdRequest } from '../analysis/amd-request.js';
import { parseRetryRules, type RetryRules } from './retry-rules.js';

/** How fast a campaign dials. */
export interface Pacing {
  /** Most calls of this campaign at once. */
  maxConcurrent: number;
  /** Most call starts per second. */
  callsPerSecond: number;
  /**
   * Slots kept for inbound (and API) calls: the campaign never takes the last `reserveSlots` of
   * its trunk, its tenant or the node (calls.maxConcurrent).
   */
  reserveSlots: number;
}

/** Daily caps (UTC days); null: none. */
export interface CampaignCaps {
  /** Most attempts of this campaign per day. */
  perDay: number | null;
  /** Most attempts per callee number per day, across every campaign of the tenant. */
  perNumberPerDay: number | null;
}

/** Everything a campaign is, but its contacts (stored as JSON in `campaigns.spec`). */
export interface CampaignSpec {
  name: string;
  tenant: string;
  bot: string;
  trunk: string;
  /** Caller id (the trunk's outbound.from when absent). */
  callerId?: string;
  /** The zone of contacts whose own zone is not known (IANA). */
  timeZone: string;
  /** Country of numbers written without '+' (ISO 3166 alpha-2). */
  defaultCountry?: string;
  windows: CallingWindow[];
  pacing: Pacing;
  retry: RetryRules;
  caps: CampaignCaps;
  /** Ring time before an attempt is `no-answer`. */
  ringTimeoutSec: number;
  /** Played to an answered callee when the bot cannot be reached, then the call ends: an absolute file path (nothing else reaches uuid_broadcast). */
  offlinePrompt?: string;
  /** Answering-machine detection on every answered call of the campaign (src/analysis/amd-request.ts). */
  amd?: AmdRequest;
}

const intIn = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/**
 * Validates a campaign from the API (JSON): the spec, or every problem found (field: what was
 * expected). `tenant` is the tenant it belongs to (decided by the caller from the key and body).
 * Bot and trunk are checked against the configuration by the caller.
 */
export function parseCampaignSpec(b: Record<string, unknown>, tenant: string): { ok: true; spec: CampaignSpec } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const str = (k: string, re: RegExp, what: string, required: boolean): string | undefined => {
    const v = b[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || !re.test(v)) { problems.push(`${k}: expected ${what}`); return undefined; }
    return v;
  };
  const name = str('name', /^[^\u0000-\u001f]{1,200}$/, 'a name of 1 to 200 characters', true);
  const bot = str('bot', /^[A-Za-z0-9._-]{1,64}$/, 'the name of a configured bot', true);
  const trunk = str('trunk', /^[A-Za-z0-9._-]{1,64}$/, 'the name of a configured trunk', true);
  const callerId = str('callerId', /^\+?[0-9]{1,32}$/, 'a caller id of digits', false);
  const defaultCountry = str('defaultCountry', /^[A-Z]{2}$/, 'a country code such as US', false);
  // a file path only: uuid_broadcast would also run `app::args` (a dialplan application), and the
  // spec comes from tenants' keys
  const offlinePrompt = str('offlinePrompt', SOUND_FILE_PATH, SOUND_FILE_EXPECTED, false);
  const timeZone = b.timeZone === undefined ? 'UTC' : b.timeZone;
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) problems.push('timeZone: expected an IANA time zone such as Europe/Berlin');
  const w = parseWindows(b.windows ?? [], 'windows');
  if (!w.ok) problems.push(...w.problems);
  const p = (b.pacing ?? {}) as Record<string, unknown>;
  if (typeof p !== 'object' || Array.isArray(p)) problems.push('pacing: expected an object');
  const pacing: Pacing = { maxConcurrent: (p.maxConcurrent ?? 5) as number, callsPerSecond: (p.callsPerSecond ?? 1) as number, reserveSlots: (p.reserveSlots ?? 0) as number };
  if (!intIn(pacing.maxConcurrent, 1, 10_000)) problems.push('pacing.maxConcurrent: expected an integer from 1 to 10000');
  if (typeof pacing.callsPerSecond !== 'number' || !(pacing.callsPerSecond > 0 && pacing.callsPerSecond <= 1000)) problems.push('pacing.callsPerSecond: expected a number above 0, at most 1000');
  if (!intIn(pacing.reserveSlots, 0, 10_000)) problems.push('pacing.reserveSlots: expected an integer from 0 to 10000');
  const r = parseRetryRules(b.retry);
  if (!r.ok) problems.push(...r.problems);
  const c = (b.caps ?? {}) as Record<string, unknown>;
  if (typeof c !== 'object' || Array.isArray(c)) problems.push('caps: expected an object');
  const caps: CampaignCaps = { perDay: (c.perDay ?? null) as number | null, perNumberPerDay: (c.perNumberPerDay ?? null) as number | null };
  if (caps.perDay !== null && !intIn(caps.perDay, 1, 10_000_000)) problems.push('caps.perDay: expected an integer from 1');
  if (caps.perNumberPerDay !== null && !intIn(caps.perNumberPerDay, 1, 100)) problems.push('caps.perNumberPerDay: expected an integer from 1 to 100');
  const ringTimeoutSec = b.ringTimeoutSec ?? 30;
  if (!intIn(ringTimeoutSec, 1, 300)) problems.push('ringTimeoutSec: expected an integer from 1 to 300');
  const amd = parseAmdRequest(b.amd);
  if (!amd.ok) problems.push(...amd.problems);
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      name: name!, tenant, bot: bot!, trunk: trunk!, timeZone: timeZone as string, windows: (w as { windows: CallingWindow[] }).windows,
      pacing, retry: (r as { rules: RetryRules }).rules, caps, ringTimeoutSec: ringTimeoutSec as number,
      ...(callerId ? { callerId } : {}), ...(defaultCountry ? { defaultCountry } : {}), ...(offlinePrompt ? { offlinePrompt } : {}),
      ...(amd.ok && amd.amd ? { amd: amd.amd } : {}),
    },
  };
}
