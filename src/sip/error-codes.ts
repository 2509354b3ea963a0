import type { ErrorTable } from '../errors.js';

/** Error codes of fsbridge's SIP side (src/sip). */
export const SIP_ERRORS = {
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
} satisfies ErrorTable;

/** A SIP-side error code. */
export type SipErrorCode = keyof typeof SIP_ERRORS;
