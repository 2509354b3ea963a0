/**
 * Hang-up cause ↔ SIP status mapping of mod_sofia (hangup_cause_to_sip in mod_sofia.c and
 * sofia_glue_sip_cause_to_freeswitch), the subset fsbridge can meet. Pure.
 */

const CAUSE_TO_SIP: Readonly<Record<string, number>> = {
  UNALLOCATED_NUMBER: 404, NO_ROUTE_TRANSIT_NET: 404, NO_ROUTE_DESTINATION: 404,
  USER_BUSY: 486, NO_USER_RESPONSE: 408, NO_ANSWER: 480, SUBSCRIBER_ABSENT: 480,
  CALL_REJECTED: 603, NUMBER_CHANGED: 410, REDIRECTION_TO_NEW_DESTINATION: 410,
  NETWORK_OUT_OF_ORDER: 502, INVALID_PROFILE: 502, INVALID_NUMBER_FORMAT: 484, INVALID_URL: 484,
  INVALID_GATEWAY: 484, FACILITY_REJECTED: 501, NORMAL_UNSPECIFIED: 480,
  REQUESTED_CHAN_UNAVAIL: 503, NORMAL_CIRCUIT_CONGESTION: 503, NORMAL_TEMPORARY_FAILURE: 503,
  SWITCH_CONGESTION: 503, GATEWAY_DOWN: 503, BEARERCAPABILITY_NOTAVAIL: 503,
  OUTGOING_CALL_BARRED: 403, INCOMING_CALL_BARRED: 403, BEARERCAPABILITY_NOTAUTH: 403,
  BEARERCAPABILITY_NOTIMPL: 488, INCOMPATIBLE_DESTINATION: 488, FACILITY_NOT_IMPLEMENTED: 501,
  SERVICE_NOT_IMPLEMENTED: 501, RECOVERY_ON_TIMER_EXPIRE: 504, ORIGINATOR_CANCEL: 487,
  EXCHANGE_ROUTING_ERROR: 483,
};

/** The final status sofia sends for an unanswered INVITE hung up with this cause (default 480). */
export function causeToSipStatus(cause: string): number {
  return CAUSE_TO_SIP[cause] ?? 480;
}

/** Reason phrases of the statuses the twin sends. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 400: 'Bad Request', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 410: 'Gone', 480: 'Temporarily Unavailable',
  481: 'Call Does Not Exist', 483: 'Too Many Hops', 484: 'Address Incomplete', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Server Time-out', 603: 'Decline',
};
