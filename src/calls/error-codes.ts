import type { ErrorTable } from '../errors.js';

export const CALL_ERRORS = {
  CALL_OVER_CAPACITY: { meaning: 'A call arrived while calls.maxConcurrent calls were live.', consequence: 'The call is hung up with NORMAL_CIRCUIT_CONGESTION (SIP 503).' },
  CALL_UNKNOWN_BOT: { meaning: 'The channel named a bot (fsbridge_bot) that is not configured, or named none.', consequence: 'The call is hung up with NO_ROUTE_DESTINATION.' },
  CALL_DRAINING: { meaning: 'A call arrived while fsbridge was shutting down.', consequence: 'The call is hung up with NORMAL_TEMPORARY_FAILURE.' },
  CALL_ANSWER_FAILED: { meaning: 'FreeSWITCH did not answer the channel in time or refused to.', consequence: 'The call is hung up; its record says fsbridge ended it.' },
  CALL_MEDIA_FAILED: { meaning: 'mod_audio_stream could not be started or reported an error for the call.', consequence: 'The bot policy (onDisconnect) decides: hang up, fallback prompt or reconnect.' },
  CALL_RECORD_WRITE_FAILED: { meaning: 'A call record could not be appended to calls.recordFile.', consequence: 'The record is logged at error level instead; calls continue.' },
  CALL_LISTENER_THREW: { meaning: 'Code reacting to a call event threw an exception.', consequence: 'Logged and counted; the call and every other call continue.' },
  CALL_TRANSFER_FAILED: { meaning: 'FreeSWITCH refused the transfer a bot asked for (uuid_transfer failed).', consequence: 'The bot is already released; the call is hung up with NORMAL_TEMPORARY_FAILURE.' },
  CALL_CHANNEL_LEFT: { meaning: 'The channel left fsbridge\'s control without fsbridge asking (its `socket` application ended, e.g. someone else transferred it).', consequence: 'The bot and the audio stream are released, the channel is left to FreeSWITCH, and the call record is written.' },
  CALL_SOCKET_NOT_REACHED: { meaning: 'An answered outbound call\'s FreeSWITCH channel never connected to fsbridge\'s outbound socket (the global variable fsbridge_outbound_socket is wrong, or the port is unreachable).', consequence: 'Both legs are hung up after freeswitch.outboundSocket.handshakeTimeoutMs (or when FreeSWITCH gives up first); the call record says so.' },
  CALL_STALE_SESSION: { meaning: 'FreeSWITCH connected to the outbound socket for a SIP call (fsbridge_call_id set) that is not waiting for it: it already ended, or the id is not fsbridge\'s.', consequence: 'The channel is hung up; no second record is written.' },
  CALL_FREESWITCH_LOST: { meaning: 'The outbound-socket connection of a live call closed without FreeSWITCH reporting a hang-up (FreeSWITCH stopped or crashed).', consequence: 'The bot is released and the call recorded with endedBy freeswitch and NORMAL_TEMPORARY_FAILURE.' },
  CALL_CHANNEL_VANISHED: { meaning: 'After an ESL reconnect, FreeSWITCH no longer knew a call that fsbridge thought live.', consequence: 'The bot is released and the call recorded with endedBy freeswitch and NORMAL_TEMPORARY_FAILURE.' },
  CALL_DUPLICATE_SESSION: { meaning: 'A connection to the outbound socket carried the uuid of a channel that is already a live fsbridge call (a second `socket` for the same channel, or a client pretending to be FreeSWITCH).', consequence: 'That connection is closed without touching the channel; the live call and its one record are unaffected.' },
  CALL_MEDIA_STREAM_LOST: { meaning: 'mod_audio_stream\'s websocket closed while the call was live, and starting the stream again failed or it closed a second time.', consequence: 'The call is hung up with NORMAL_TEMPORARY_FAILURE; its record says fsbridge ended it with this code.' },
  CALL_TRANSFER_DENIED: { meaning: 'A bot asked to transfer the caller to a target its bots.<name>.transfer.allow does not allow (nothing is allowed by default).', consequence: 'The transfer is not made and the call goes on with the bot.' },
  CALL_DAEMON_CRASHED: { meaning: 'The call was still live in the store when its fsbridge node stopped without ending it (crash, kill -9, power loss).', consequence: 'At the node\'s next start its record is closed: endedBy fsbridge, NORMAL_TEMPORARY_FAILURE, ended at the node\'s last heartbeat; counted in fsbridge_calls_recovered_total.' },
} satisfies ErrorTable;
