/**
 * What one campaign attempt came to, from the call's record (pure). Final outcomes end the
 * contact whatever the retry rules say; the others are retried per the campaign's rules.
 */
export type AttemptOutcome =
  | 'completed' // answered and connected to the bot
  | 'busy'
  | 'no-answer'
  | 'failed' // the network or fsbridge failed the call (or its outcome was lost in a crash)
  | 'machine' // an answering machine answered (answering-machine detection)
  | 'bot-unreachable' // answered, but the bot could not be reached or its connection failed (the offline prompt played)
  | 'invalid-number';

/** Outcomes a campaign may retry (per its retry rules). */
export const RETRYABLE = ['busy', 'no-answer', 'failed', 'machine', 'bot-unreachable'] as const;
export type RetryableOutcome = typeof RETRYABLE[number];

export function isRetryable(o: AttemptOutcome): o is RetryableOutcome {
  return (RETRYABLE as readonly string[]).includes(o);
}

/** What of a call record decides its outcome (a stored row or a live record alike). */
export interface OutcomeFacts {
  /** The dial's result: answered, busy, no-answer, rejected, failed (absent: not an outbound dial). */
  result?: string | null;
  sipStatus?: number | null;
  answeredAt: string | number | null;
  connectedAt: string | number | null;
  cause?: string | null;
  errorCode?: string | null;
  /** fsbridge refused to place the call (full, draining): no INVITE was sent. */
  notPlaced?: boolean;
  /** Answering-machine detection's result (Twilio AnsweredBy values), when the campaign asked for it. */
  answeredBy?: string | null;
}

/** SIP statuses that say the number does not exist (or is not a number). */
const INVALID_STATUSES = new Set([404, 410, 484, 604]);
const INVALID_CAUSES = new Set(['UNALLOCATED_NUMBER', 'INVALID_NUMBER_FORMAT', 'NO_ROUTE_DESTINATION', 'NUMBER_CHANGED']);

export function outcomeOf(f: OutcomeFacts): AttemptOutcome {
  if (f.answeredAt !== null || f.result === 'answered') {
    // a machine (or fax) answered: whether it was hung up on, left a message or given to the bot
    if (f.answeredBy && (f.answeredBy.startsWith('machine') || f.answeredBy === 'fax')) return 'machine';
    // the bot could not be reached, or its connection failed: the call ended on the offline
    // prompt (BOT_FALLBACK_PLAYED) or was hung up (BOT_CONNECT_FAILED, BOT_CLOSED_ABNORMALLY)
    if (f.errorCode?.startsWith('BOT_')) return 'bot-unreachable';
    // answered and handed to the bot; without a connection fsbridge itself failed
    return f.connectedAt !== null ? 'completed' : 'failed';
  }
  if (f.result === 'busy') return 'busy';
  if (f.result === 'no-answer') return 'no-answer';
  if ((f.sipStatus !== null && f.sipStatus !== undefined && INVALID_STATUSES.has(f.sipStatus)) || (f.cause && INVALID_CAUSES.has(f.cause))) return 'invalid-number';
  return 'failed';
}
