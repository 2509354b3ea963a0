import type { ErrorTable } from '../errors.js';

export const CALL_ERRORS = {
  CALL_OVER_CAPACITY: { meaning: 'A call arrived while calls.maxConcurrent calls were live.', consequence: 'The call is hung up with NORMAL_CIRCUIT_CONGESTION (SIP 503).' },
  CALL_UNKNOWN_BOT: { meaning: 'The channel named a bot (fsbridge_bot) that is not configured, or named none.', consequence: 'The call is hung up with NO_ROUTE_DESTINATION.' },
  CALL_DRAINING: { meaning: 'A call arrived while fsbridge was shutting down.', consequence: 'The call is hung up with NORMAL_TEMPORARY_FAILURE.' },
  CALL_ANSWER_FAILED: { meaning: 'FreeSWITCH did not answer the channel in time or refused to.', consequence: 'The call is hung up; its record says fsbridge ended it.' },
  CALL_MEDIA_FAILED: { meaning: 'mod_audio_stream could not be started or reported an error for the call.', consequence: 'The bot policy (onDisconnect) decides: hang up, fallback prompt or reconnect.' },
  CALL_RECORD_WRITE_FAILED: { meaning: 'A call record could not be appended to calls.recordFile.', consequence: 'The record is logged at error level instead; calls continue.' },
  CALL_LISTENER_THREW: { meaning: 'Code reacting to a call event threw an exception.', consequence: 'Logged and counted; the call and every other call continue.' },
  CALL_CHANNEL_VANISHED: { meaning: 'After an ESL reconnect, FreeSWITCH no longer knew a call that fsbridge thought live.', consequence: 'The call is ended with its record marked NORMAL_CLEARING by fsbridge.' },
} satisfies ErrorTable;
