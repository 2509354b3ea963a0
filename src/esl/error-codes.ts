import type { ErrorTable } from '../errors.js';

/** Every error code of the Event Socket layer (inbound control connection and outbound socket server). */
export const ESL_ERRORS = {
  ESL_AUTH_FAILED: {
    meaning: 'FreeSWITCH rejected the Event Socket password (-ERR invalid).',
    consequence: 'Fatal: EslControl emits `fatal` once and stops; it never reconnects on its own.',
  },
  ESL_ACL_REJECTED: {
    meaning: 'FreeSWITCH refused the connection by ACL (text/rude-rejection).',
    consequence: 'Fatal: EslControl emits `fatal` once and stops; fix apply-inbound-acl in event_socket.conf.',
  },
  ESL_CONNECT_FAILED: {
    meaning: 'The TCP connection to the Event Socket could not be made (FreeSWITCH down or not listening).',
    consequence: 'Retry after a capped, jittered backoff.',
  },
  ESL_DISCONNECTED: {
    meaning: 'The Event Socket connection ended (FreeSWITCH closed it, restarted or the network broke).',
    consequence: 'Commands in flight fail with this code; reconnect after a backoff, re-subscribe, reconcile channels.',
  },
  ESL_NOT_CONNECTED: {
    meaning: 'A command was issued while no authenticated Event Socket connection existed.',
    consequence: 'The command fails at once with this code; nothing is queued.',
  },
  ESL_FRAME_TOO_LARGE: {
    meaning: 'A frame announced a Content-Length above the limit (default 16 MiB) or its header block was too long.',
    consequence: 'The connection is dropped (and, inbound, reconnected); the daemon stays up.',
  },
  ESL_BAD_FRAME: {
    meaning: 'Bytes from FreeSWITCH were not a valid Event Socket frame (header line without ":", no Content-Type, bad Content-Length).',
    consequence: 'The connection is dropped (and, inbound, reconnected); the daemon stays up.',
  },
  ESL_BACKLOG_OVERFLOW: {
    meaning: 'More than 50,000 received frames were waiting to be processed on the control connection.',
    consequence: 'The connection is dropped and reconnected (FreeSWITCH flooded fsbridge or the event loop stalled).',
  },
  ESL_BAD_EVENT: {
    meaning: 'An event frame carried a body that is not a valid event (bad JSON, no Event-Name).',
    consequence: 'That event is dropped and counted; the connection continues.',
  },
  ESL_COMMAND_TIMEOUT: {
    meaning: 'FreeSWITCH did not answer a command (or its background job) within its timeout.',
    consequence: 'The command resolves {ok:false}; the caller decides (usually the call ends).',
  },
  ESL_COMMAND_FAILED: {
    meaning: 'FreeSWITCH answered a command with -ERR / -USAGE (e.g. unknown uuid, Operation Failed).',
    consequence: 'The command resolves {ok:false} with the reply text.',
  },
  ESL_BAD_ARGUMENT: {
    meaning: 'A command argument would break the Event Socket framing (line break, or a space inside a uuid).',
    consequence: 'The command is not sent; it resolves {ok:false}.',
  },
  ESL_RECONCILE_FAILED: {
    meaning: 'After a reconnect, `show channels as json` failed or returned unparsable output.',
    consequence: 'No `reconciled` event for this connection; calls are kept until their own events end them.',
  },
  ESL_OUTBOUND_TIMEOUT: {
    meaning: 'An outbound socket connection from FreeSWITCH did not finish connect/myevents/linger in time.',
    consequence: 'That socket is closed; no session is created (FreeSWITCH continues its dialplan).',
  },
  ESL_OUTBOUND_CLOSED_EARLY: {
    meaning: 'An outbound socket closed (or the channel hung up without linger) before the session was set up.',
    consequence: 'No session is created; counted.',
  },
  ESL_OUTBOUND_HANDSHAKE_TOO_LARGE: {
    meaning: 'An outbound socket connection sent more than 64 KiB before valid channel data, or a frame announcing more (FreeSWITCH\'s connect reply is a few KB: the peer is not FreeSWITCH).',
    consequence: 'That socket is closed at once, before more is buffered; no session is created.',
  },
  ESL_OUTBOUND_BAD_CHANNEL_DATA: {
    meaning: 'The outbound connect reply had no Unique-ID / Channel-Unique-ID.',
    consequence: 'That socket is closed; no session is created.',
  },
  ESL_OUTBOUND_NOT_FULL: {
    meaning: 'FreeSWITCH refused `myevents json` or `linger` on an outbound socket (the dialplan lacks `async full`).',
    consequence: 'That socket is closed; no session is created. Use `socket 127.0.0.1:8084 async full`.',
  },
  ESL_LISTENER_THREW: {
    meaning: 'Code listening to an Event Socket event threw an exception.',
    consequence: 'Logged and counted; the connection and other listeners continue.',
  },
} satisfies ErrorTable;

/** One of the Event Socket error codes. */
export type EslErrorCode = keyof typeof ESL_ERRORS;
