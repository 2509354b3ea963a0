import type { ErrorTable } from '../errors.js';

export const WEBHOOK_ERRORS = {
  WEBHOOK_DELIVERY_FAILED: { meaning: 'A status callback got no 2xx answer (an error status, no answer within 5 s, a refused connection).', consequence: 'Retried from the outbox after 1 s, doubling up to 10 min, with the same idempotency key; logged at most once per 10 s.' },
  WEBHOOK_GAVE_UP: { meaning: 'A status callback failed 10 times.', consequence: 'It stays in the outbox as failed (state, last status and error kept); the call is not affected.' },
} satisfies ErrorTable;
