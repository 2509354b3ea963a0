import type { ErrorTable } from '../errors.js';

/**
 * Stable error codes of the bot side: the websocket client ({@link BotConnection}) and the protocol
 * adapters. Adapter codes arrive as `{kind:'error'|'ignored', code}` commands from `receive()`; the
 * owner of the call counts every one with `metrics.error(code)` and logs them through a
 * {@link BotInputReporter} (first at once, then rate limited).
 */
export const BOT_ERRORS = {
  BOT_BAD_URL: {
    meaning: 'The configured bot URL is not a valid ws:// or wss:// URL.',
    consequence: 'call ends (bot not connected)',
  },
  BOT_CONNECT_TIMEOUT: {
    meaning: 'The bot did not complete the websocket handshake within connectTimeoutMs.',
    consequence: 'connection abandoned; the call follows its bot-failure policy',
  },
  BOT_CONNECT_REFUSED: {
    meaning: 'The bot host refused the TCP connection (nothing listening).',
    consequence: 'connection abandoned; the call follows its bot-failure policy',
  },
  BOT_HANDSHAKE_REJECTED: {
    meaning: 'The bot answered the upgrade request with an HTTP status other than 101 (e.g. 401, 404).',
    consequence: 'connection abandoned; the call follows its bot-failure policy',
  },
  BOT_TLS_FAILED: {
    meaning: 'The TLS handshake with a wss:// bot failed (untrusted or mismatched certificate).',
    consequence: 'connection abandoned; the call follows its bot-failure policy',
  },
  BOT_CONNECT_FAILED: {
    meaning: 'The bot could not be reached for another reason (DNS, network unreachable, reset).',
    consequence: 'connection abandoned; the call follows its bot-failure policy',
  },
  BOT_CLOSED_ABNORMALLY: {
    meaning: 'The bot connection ended without a normal close (code other than 1000/1001, or no close frame).',
    consequence: 'the call follows its bot-failure policy (reconnect once, fallback prompt, hang up)',
  },
  BOT_PROTOCOL_ERROR: {
    meaning: 'The bot sent an invalid websocket frame.',
    consequence: 'connection closed; the call follows its bot-failure policy',
  },
  BOT_SEND_DROPPED: {
    meaning: 'A message to the bot was dropped because more than maxBufferedBytes were waiting to be sent.',
    consequence: 'message dropped (every one counted; logged the first time, then at most one summary line per 10 s per connection)',
  },
  BOT_OVERSIZE: {
    meaning: 'A message from the bot is larger than the configured maximum.',
    consequence: 'message dropped (adapter) or connection closed with 1009 (websocket maxPayload)',
  },
  BOT_BAD_UTF8: {
    meaning: 'A text message from the bot is not valid UTF-8.',
    consequence: 'message dropped',
  },
  BOT_BAD_JSON: {
    meaning: 'A text message from the bot is not a JSON object.',
    consequence: 'message dropped',
  },
  BOT_MISSING_FIELD: {
    meaning: 'A bot message lacks a field its event requires (e.g. media.payload, mark.name).',
    consequence: 'message dropped',
  },
  BOT_BAD_FIELD: {
    meaning: 'A bot message field has the wrong type or an invalid value.',
    consequence: 'message dropped',
  },
  BOT_BAD_BASE64: {
    meaning: 'A media payload from the bot is not valid base64.',
    consequence: 'message dropped',
  },
  BOT_BAD_AUDIO_LENGTH: {
    meaning: 'Audio from the bot is not a whole number of samples (odd byte count for 16-bit PCM).',
    consequence: 'message dropped',
  },
  BOT_UNKNOWN_EVENT: {
    meaning: 'A bot message has an event name the protocol does not define.',
    consequence: 'message ignored',
  },
  BOT_UNSUPPORTED_EVENT: {
    meaning: 'A bot message asks for something this protocol mode cannot do (e.g. dtmf or hangup in twilio mode).',
    consequence: 'message ignored',
  },
  BOT_BINARY_IGNORED: {
    meaning: 'The bot sent a binary frame on a protocol whose messages are JSON text only.',
    consequence: 'message ignored',
  },
  BOT_LISTENER_THREW: {
    meaning: 'Code reacting to a bot connection event (open, message, close, error) threw an exception.',
    consequence: 'Logged (at most one line per 10 s per connection) and counted; the other listeners, the connection and the call continue.',
  },
} satisfies ErrorTable;

/** One of the bot-side error codes. */
export type BotErrorCode = keyof typeof BOT_ERRORS;
