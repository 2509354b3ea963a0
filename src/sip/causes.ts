/**
 * SIP status ↔ Q.850 hang-up cause mapping, with FreeSWITCH's cause names and numbers
 * (switch_types.h SWITCH_CAUSE_*). SIP → cause follows RFC 3398 §8.2.6.1; cause → SIP follows
 * RFC 3398 §7.2.4.1. Where RFC 3398 has no entry, FreeSWITCH's own choice (sofia_glue.c
 * sofia_glue_sip_cause_to_freeswitch / hangup_cause_to_sip) fills the gap and is marked so.
 */
import { Q850_CAUSES } from '../q850.js';

/** Cause names and numbers (the project's one table, src/q850.ts). */
export const SIP_CAUSE_CODES = Q850_CAUSES;

/** A cause name known to this table. */
export type SipCauseName = keyof typeof SIP_CAUSE_CODES;

/** A hang-up cause: FreeSWITCH name and number. */
export interface SipCause {
  name: string;
  code: number;
}

/** RFC 3398 §8.2.6.1: SIP final status → cause. */
const STATUS_TO_CAUSE: Readonly<Record<number, SipCauseName>> = {
  400: 'NORMAL_TEMPORARY_FAILURE',
  401: 'CALL_REJECTED',
  402: 'CALL_REJECTED',
  403: 'CALL_REJECTED',
  404: 'UNALLOCATED_NUMBER',
  405: 'SERVICE_UNAVAILABLE',
  406: 'SERVICE_NOT_IMPLEMENTED',
  407: 'CALL_REJECTED',
  408: 'RECOVERY_ON_TIMER_EXPIRE',
  410: 'NUMBER_CHANGED',
  413: 'INTERWORKING',
  414: 'INTERWORKING',
  415: 'SERVICE_NOT_IMPLEMENTED',
  416: 'INTERWORKING',
  420: 'INTERWORKING',
  421: 'INTERWORKING',
  423: 'INTERWORKING',
  480: 'NO_USER_RESPONSE',
  481: 'NORMAL_TEMPORARY_FAILURE',
  482: 'EXCHANGE_ROUTING_ERROR',
  483: 'EXCHANGE_ROUTING_ERROR',
  484: 'INVALID_NUMBER_FORMAT',
  485: 'UNALLOCATED_NUMBER',
  486: 'USER_BUSY',
  // RFC 3398 has no ISUP equivalent for 487; FreeSWITCH uses its own ORIGINATOR_CANCEL (487).
  487: 'ORIGINATOR_CANCEL',
  // RFC 3398 leaves 488/606 to the Warning header; FreeSWITCH maps both to INCOMPATIBLE_DESTINATION.
  488: 'INCOMPATIBLE_DESTINATION',
  500: 'NORMAL_TEMPORARY_FAILURE',
  501: 'SERVICE_NOT_IMPLEMENTED',
  502: 'NETWORK_OUT_OF_ORDER',
  503: 'NORMAL_TEMPORARY_FAILURE',
  504: 'RECOVERY_ON_TIMER_EXPIRE',
  505: 'INTERWORKING',
  513: 'INTERWORKING',
  600: 'USER_BUSY',
  603: 'CALL_REJECTED',
  604: 'UNALLOCATED_NUMBER',
  606: 'INCOMPATIBLE_DESTINATION',
};

/** RFC 3398 §7.2.4.1: cause → SIP status (the RFC row for each cause number). */
const CAUSE_TO_STATUS: Readonly<Partial<Record<SipCauseName, number>>> = {
  UNALLOCATED_NUMBER: 404,
  NO_ROUTE_TRANSIT_NET: 404,
  NO_ROUTE_DESTINATION: 404,
  USER_BUSY: 486,
  NO_USER_RESPONSE: 408,
  NO_ANSWER: 480,
  SUBSCRIBER_ABSENT: 480,
  CALL_REJECTED: 403,
  NUMBER_CHANGED: 410,
  REDIRECTION_TO_NEW_DESTINATION: 410,
  DESTINATION_OUT_OF_ORDER: 502,
  INVALID_NUMBER_FORMAT: 484,
  FACILITY_REJECTED: 501,
  NORMAL_UNSPECIFIED: 480,
  NORMAL_CIRCUIT_CONGESTION: 503,
  NETWORK_OUT_OF_ORDER: 503,
  NORMAL_TEMPORARY_FAILURE: 503,
  SWITCH_CONGESTION: 503,
  // 44 and 50 are not in RFC 3398's table; FreeSWITCH answers 503 and 403.
  REQUESTED_CHAN_UNAVAIL: 503,
  FACILITY_NOT_SUBSCRIBED: 403,
  OUTGOING_CALL_BARRED: 403,
  INCOMING_CALL_BARRED: 403,
  BEARERCAPABILITY_NOTAUTH: 403,
  BEARERCAPABILITY_NOTAVAIL: 503,
  // 63 is not in RFC 3398's table; 503 is the natural reading and FreeSWITCH's choice.
  SERVICE_UNAVAILABLE: 503,
  BEARERCAPABILITY_NOTIMPL: 488,
  FACILITY_NOT_IMPLEMENTED: 501,
  SERVICE_NOT_IMPLEMENTED: 501,
  INCOMPATIBLE_DESTINATION: 503,
  RECOVERY_ON_TIMER_EXPIRE: 504,
  PROTOCOL_ERROR: 500,
  INTERWORKING: 500,
  // FreeSWITCH-only causes.
  EXCHANGE_ROUTING_ERROR: 483,
  ORIGINATOR_CANCEL: 487,
  USER_NOT_REGISTERED: 480,
  GATEWAY_DOWN: 503,
};

/**
 * Maps a final SIP status (≥ 300) to a cause. A 2xx is NORMAL_CLEARING; a status absent from
 * RFC 3398's table gives NORMAL_UNSPECIFIED (31), FreeSWITCH's default branch.
 */
export function sipStatusToCause(status: number): SipCause {
  let name: SipCauseName;
  if (status >= 200 && status < 300) name = 'NORMAL_CLEARING';
  else name = STATUS_TO_CAUSE[status] ?? 'NORMAL_UNSPECIFIED';
  return { name, code: SIP_CAUSE_CODES[name] };
}

/**
 * Maps a cause name (FreeSWITCH spelling) to the SIP status fsbridge answers an INVITE with.
 * Unknown causes and NORMAL_CLEARING (which ends a call with BYE/CANCEL, not a status) give 480,
 * as FreeSWITCH does for its default branch.
 */
export function causeToSipStatus(name: string): number {
  return CAUSE_TO_STATUS[name as SipCauseName] ?? 480;
}

/** Returns the number for a cause name, or undefined when this table does not know it. */
export function causeCode(name: string): number | undefined {
  return (SIP_CAUSE_CODES as Record<string, number>)[name];
}

/**
 * Builds a Reason header value (RFC 3326) for a cause, e.g.
 * `Q.850;cause=16;text="NORMAL_CLEARING"`. Accepts a name or a {name, code}.
 */
export function reasonHeader(cause: string | SipCause): string {
  const c = typeof cause === 'string' ? { name: cause, code: causeCode(cause) ?? 0 } : cause;
  return `Q.850;cause=${c.code};text="${c.name.replace(/["\\\r\n]/g, '')}"`;
}

/**
 * Parses a Reason header value with protocol Q.850 (RFC 3326). Returns undefined for other
 * protocols (e.g. `SIP;cause=200`) or malformed values.
 */
export function parseReasonHeader(value: string): SipCause | undefined {
  const m = /^\s*Q\.850\s*;(.*)$/i.exec(value);
  if (!m) return undefined;
  const cause = /(?:^|;)\s*cause\s*=\s*(\d{1,3})/i.exec(m[1]);
  if (!cause) return undefined;
  const code = Number(cause[1]);
  const text = /(?:^|;)\s*text\s*=\s*"([^"]*)"/i.exec(m[1]);
  const known = Object.entries(SIP_CAUSE_CODES).find(([, v]) => v === code)?.[0];
  return { name: text?.[1] || known || 'UNSPECIFIED', code };
}
