import type { ErrorTable } from '../errors.js';

export const CAMPAIGN_ERRORS = {
  CAMPAIGN_STORE_FAILED: { meaning: 'The campaign dialler could not read or write the store (contacts, attempts, DNC lists).', consequence: 'No campaign call starts until the store answers again (no contact is dialled without its attempt stored first); calls in flight go on, and their outcomes are stored once it is back.' },
  CAMPAIGN_ATTEMPT_RECOVERED: { meaning: 'At start, an attempt an earlier run stored but never completed (the daemon was killed or crashed during the call).', consequence: 'Its outcome is taken from the call\'s record (answered and connected: completed) or counted as failed, and the contact is retried or ended per the campaign\'s rules: it is never dialled twice for the same attempt.' },
  CAMPAIGN_DNC_FAILED: { meaning: 'A bot asked (native `dnc` message) to put its call\'s far end on the do-not-call list, and it could not be: the number is not E.164, or the store did not answer.', consequence: 'The number is not added (the log line names the call); the call goes on. POST /v1/calls/{id}/dnc or /v1/dnc adds it later.' },
} satisfies ErrorTable;
