import { Q850_CAUSES } from '../../q850.js';
/** FreeSWITCH channel states (switch_channel_state_t), index = Channel-State-Number. */
export const CHANNEL_STATES = [
  'CS_NEW', 'CS_INIT', 'CS_ROUTING', 'CS_SOFT_EXECUTE', 'CS_EXECUTE', 'CS_EXCHANGE_MEDIA', 'CS_PARK',
  'CS_CONSUME_MEDIA', 'CS_HIBERNATE', 'CS_RESET', 'CS_HANGUP', 'CS_REPORTING', 'CS_DESTROY', 'CS_NONE',
] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

/** Call states (switch_channel_callstate_t), index = Channel-Call-State-Number. */
export const CALL_STATES = ['DOWN', 'DIALING', 'RINGING', 'EARLY', 'ACTIVE', 'HELD', 'RING_WAIT', 'HANGUP', 'UNHELD'] as const;
export type CallState = (typeof CALL_STATES)[number];

/** Q.850 hang-up causes by name with their codes (the project's one table, src/q850.ts). */
export const HANGUP_CAUSES: Readonly<Record<string, number>> = Q850_CAUSES;

/** `switch_channel_str2cause`: a cause name (case-insensitive) or number; unknown gives undefined. */
export function parseHangupCause(s: string | undefined): string | undefined {
  if (s === undefined || s === '') return undefined;
  const up = s.trim().toUpperCase();
  if (up in HANGUP_CAUSES) return up;
  const n = Number(up);
  if (Number.isInteger(n)) {
    for (const [k, v] of Object.entries(HANGUP_CAUSES)) if (v === n) return k;
  }
  return undefined;
}
