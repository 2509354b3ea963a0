import type { ErrorTable } from '../errors.js';

/** Error codes of fsbridge's SIP side (src/sip). */
export const SIP_ERRORS = {
  SIP_LISTENER_THREW: {
    meaning: 'Code reacting to a SIP event (link, registration, inbound or outbound call) threw an exception.',
    consequence: 'Logged at error level and counted; the other listeners and every call go on',
  },
  SIP_DIAL_CANCELLED: {
    meaning: 'fsbridge cancelled an outbound dial before it was answered (the call was hung up through the API, or the daemon shut down).',
    consequence: 'FreeSWITCH\'s leg is hung up, the trunk\'s INVITE cancelled; the call record says who ended it',
  },
  SIP_REGISTER_REJECTED: {
    meaning: 'The registrar refused the registration with 403 or 404 (wrong account or not allowed).',
    consequence: 'the trunk is marked failed and retried with capped backoff',
  },
  SIP_REGISTER_AUTH_FAILED: {
    meaning: 'The registrar challenged again after the digest answer (wrong username or password).',
    consequence: 'the trunk is marked failed and retried with capped backoff',
  },
  SIP_REGISTER_TIMEOUT: {
    meaning: 'The registrar did not answer a REGISTER in time (or answered 408).',
    consequence: 'the next registrar is tried; when all failed, retried with capped backoff',
  },
  SIP_REGISTER_SERVER_ERROR: {
    meaning: 'The registrar answered with a 5xx or 6xx status.',
    consequence: 'the next registrar is tried; when all failed, retried with capped backoff',
  },
  SIP_REGISTER_FAILED: {
    meaning: 'A REGISTER failed with another status, a bad 423, or could not be sent through drachtio.',
    consequence: 'the trunk is marked failed and retried with capped backoff',
  },
  SIP_DRACHTIO_AUTH_FAILED: {
    meaning: 'drachtio-server refused fsbridge\'s secret (drachtio.secret does not match the server\'s admin secret).',
    consequence: 'the drachtio link is closed and not retried; no SIP calls or registrations until fixed',
  },
  SIP_INBOUND_FORBIDDEN: {
    meaning: 'An INVITE came from an address in no trunk\'s inbound.allow list and carried no valid digest credentials.',
    consequence: 'the INVITE is answered 403 Forbidden; no call is created',
  },
  SIP_AUTH_URI_MISMATCH: {
    meaning: 'An INVITE carried valid digest credentials of a trunk, but computed for another request-URI than its own (a captured header sent to another number, or a proxy that rewrote the request-URI).',
    consequence: 'the INVITE is answered 403 Forbidden; no call is created; the nonce stays unused',
  },
  SIP_AUTH_REPLAY: {
    meaning: 'An INVITE carried valid digest credentials whose nonce count (nc) was not above one already accepted with that nonce, or reused a nonce without qop (a replayed or re-sent Authorization header).',
    consequence: 'the INVITE is answered 401 with a fresh nonce (stale=true); no call is created',
  },
  SIP_INBOUND_NO_ROUTE: {
    meaning: 'The dialled number of an inbound INVITE matches no route (did, trunk).',
    consequence: 'the INVITE is answered 404 Not Found; no call is created',
  },
  SIP_INBOUND_OVER_CAPACITY: {
    meaning: 'An inbound INVITE came while fsbridge was at capacity, draining, or already working on too many INVITEs.',
    consequence: 'the INVITE is answered 503 with Retry-After; no call is created',
  },
  SIP_INBOUND_TENANT_LIMIT: { meaning: 'A trunk INVITE routed to a bot whose tenant is at its limit of simultaneous calls or calls today (TENANT_CONCURRENCY_LIMIT, TENANT_DAILY_LIMIT).', consequence: 'Answered 486 Busy Here; nothing is bridged; the other tenants are unaffected.' },
  SIP_INBOUND_FAILED: {
    meaning: 'The leg from drachtio to FreeSWITCH\'s SIP profile failed (FreeSWITCH rejected it or did not answer).',
    consequence: 'the caller gets FreeSWITCH\'s failure status (or 500); the call ends',
  },
  SIP_OUTBOUND_QUEUE_FULL: {
    meaning: 'An outbound dial found the trunk\'s queue (outbound.queueMax) full.',
    consequence: 'the dial fails at once; no INVITE is sent',
  },
  SIP_OUTBOUND_FREESWITCH_FAILED: {
    meaning: 'FreeSWITCH did not place its leg of an outbound call (originate refused, or its INVITE did not reach drachtio-server in time), or cancelled it.',
    consequence: 'the dial fails; nothing (more) is sent to the trunk',
  },
  SIP_DRACHTIO_LOST: {
    meaning: 'The connection to drachtio-server dropped while SIP calls were up or being set up (its dialogs and transactions do not survive).',
    consequence: 'those calls end at once (FreeSWITCH channel hung up, bot released), each with a record; fsbridge reconnects and registers again',
  },
  SIP_OUTBOUND_FAILED: {
    meaning: 'The trunk answered an outbound INVITE with a failure status other than busy, no answer or rejection, or it could not be sent.',
    consequence: 'the dial fails; the FreeSWITCH leg is torn down',
  },
} satisfies ErrorTable;

/** A SIP-side error code. */
export type SipErrorCode = keyof typeof SIP_ERRORS;
