import t from 'tap';
import { isRetryable, outcomeOf, RETRYABLE, type AttemptOutcome, type OutcomeFacts } from '../../../src/campaigns/outcome.js';

const ANSWERED_ISO = '2026-06-17T13:00:05.000Z';
const CONNECTED_ISO = '2026-06-17T13:00:06.000Z';

/** A dial that never got answered, with the given overrides. */
const unanswered = (f: Partial<OutcomeFacts>): OutcomeFacts => ({ answeredAt: null, connectedAt: null, ...f });

t.test('answered and connected to the bot is completed', (t) => {
  t.equal(outcomeOf({ result: 'answered', answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO }), 'completed', 'ISO timestamps');
  t.equal(outcomeOf({ result: 'answered', answeredAt: 1_750_000_000_000, connectedAt: 1_750_000_001_000 }), 'completed', 'ms timestamps');
  t.equal(outcomeOf({ answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO }), 'completed', 'no result (a stored row without one)');
  t.equal(outcomeOf({ result: null, answeredAt: 0, connectedAt: 0 }), 'completed', 'epoch 0 is a time, not "absent"');
  t.equal(outcomeOf({ result: 'answered', answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO, errorCode: 'MEDIA_FAILED' }), 'completed',
    'a non-bot error after the connection');
  t.end();
});

t.test('answered but never connected: bot-unreachable for BOT_* errors, else failed', (t) => {
  const answered = { result: 'answered', answeredAt: ANSWERED_ISO, connectedAt: null } as const;
  t.equal(outcomeOf({ ...answered, errorCode: 'BOT_UNREACHABLE' }), 'bot-unreachable');
  t.equal(outcomeOf({ ...answered, errorCode: 'BOT_CONNECT_TIMEOUT' }), 'bot-unreachable');
  t.equal(outcomeOf({ ...answered, errorCode: 'MEDIA_FAILED' }), 'failed', 'a non-bot error');
  t.equal(outcomeOf({ ...answered, errorCode: 'XBOT_UNREACHABLE' }), 'failed', 'BOT_ must be a prefix');
  t.equal(outcomeOf({ ...answered, errorCode: 'bot_unreachable' }), 'failed', 'codes are upper case');
  t.equal(outcomeOf({ ...answered, errorCode: null }), 'failed', 'null error code');
  t.equal(outcomeOf({ ...answered }), 'failed', 'no error code');
  t.equal(outcomeOf({ result: 'answered', answeredAt: null, connectedAt: null, errorCode: 'BOT_UNREACHABLE' }), 'bot-unreachable',
    'result answered alone counts as answered');
  t.equal(outcomeOf({ answeredAt: ANSWERED_ISO, connectedAt: null, errorCode: 'BOT_UNREACHABLE' }), 'bot-unreachable',
    'answeredAt alone counts as answered');
  t.end();
});

t.test('a BOT_* error makes an answered call bot-unreachable even after the bot was connected', (t) => {
  // the bot's connection failed mid-call (BOT_CLOSED_ABNORMALLY) or the offline prompt played (BOT_FALLBACK_PLAYED)
  t.equal(outcomeOf({ result: 'answered', answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO, errorCode: 'BOT_CLOSED_ABNORMALLY' }), 'bot-unreachable');
  t.equal(outcomeOf({ result: 'answered', answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO, errorCode: 'BOT_FALLBACK_PLAYED' }), 'bot-unreachable');
  t.end();
});

t.test('an answered call is never busy, no-answer or invalid-number whatever else the record says', (t) => {
  t.equal(outcomeOf({ result: 'answered', sipStatus: 404, cause: 'UNALLOCATED_NUMBER', answeredAt: ANSWERED_ISO, connectedAt: null }), 'failed');
  t.equal(outcomeOf({ result: 'busy', answeredAt: ANSWERED_ISO, connectedAt: CONNECTED_ISO }), 'completed');
  t.end();
});

t.test('busy and no-answer', (t) => {
  t.equal(outcomeOf(unanswered({ result: 'busy', sipStatus: 486, cause: 'USER_BUSY' })), 'busy');
  t.equal(outcomeOf(unanswered({ result: 'busy' })), 'busy', 'without a status');
  t.equal(outcomeOf(unanswered({ result: 'no-answer', cause: 'NO_ANSWER' })), 'no-answer');
  t.equal(outcomeOf(unanswered({ result: 'no-answer', sipStatus: 480, cause: 'NO_USER_RESPONSE' })), 'no-answer');
  t.end();
});

t.test('rejected with a status saying the number does not exist is invalid-number', (t) => {
  for (const sipStatus of [404, 410, 484, 604]) {
    t.equal(outcomeOf(unanswered({ result: 'rejected', sipStatus })), 'invalid-number', `rejected ${sipStatus}`);
  }
  t.end();
});

t.test('a cause saying the number does not exist is invalid-number', (t) => {
  for (const cause of ['UNALLOCATED_NUMBER', 'INVALID_NUMBER_FORMAT', 'NO_ROUTE_DESTINATION', 'NUMBER_CHANGED']) {
    t.equal(outcomeOf(unanswered({ result: 'rejected', sipStatus: 500, cause })), 'invalid-number', `rejected 500 ${cause}`);
    t.equal(outcomeOf(unanswered({ result: 'failed', cause })), 'invalid-number', `failed ${cause}`);
  }
  t.end();
});

t.test('other rejections and failures are failed', (t) => {
  for (const sipStatus of [400, 403, 405, 408, 480, 500, 502, 503, 603]) {
    t.equal(outcomeOf(unanswered({ result: 'rejected', sipStatus })), 'failed', `rejected ${sipStatus}`);
  }
  t.equal(outcomeOf(unanswered({ result: 'rejected', sipStatus: 503, cause: 'NORMAL_TEMPORARY_FAILURE' })), 'failed');
  t.equal(outcomeOf(unanswered({ result: 'rejected', sipStatus: null, cause: null })), 'failed', 'nothing known');
  t.equal(outcomeOf(unanswered({ result: 'failed', errorCode: 'TRUNK_DOWN' })), 'failed');
  t.equal(outcomeOf(unanswered({ result: 'failed', cause: 'unallocated_number' })), 'failed', 'causes are matched exactly');
  t.equal(outcomeOf(unanswered({ result: 'failed', cause: '' })), 'failed', 'empty cause');
  t.equal(outcomeOf(unanswered({})), 'failed', 'no result at all');
  t.equal(outcomeOf(unanswered({ result: null })), 'failed', 'null result');
  t.end();
});

t.test('the dial result decides before the status or cause', (t) => {
  t.equal(outcomeOf(unanswered({ result: 'busy', sipStatus: 404 })), 'busy');
  t.equal(outcomeOf(unanswered({ result: 'no-answer', cause: 'UNALLOCATED_NUMBER' })), 'no-answer');
  t.end();
});

t.test('isRetryable', (t) => {
  const expected: Record<AttemptOutcome, boolean> = {
    'completed': false,
    'busy': true,
    'no-answer': true,
    'failed': true,
    'machine': true,
    'bot-unreachable': true,
    'invalid-number': false,
  };
  for (const [o, want] of Object.entries(expected)) t.equal(isRetryable(o as AttemptOutcome), want, o);
  t.same([...RETRYABLE].sort(), Object.keys(expected).filter((o) => expected[o as AttemptOutcome]).sort(), 'RETRYABLE lists the retryable outcomes');
  t.end();
});
