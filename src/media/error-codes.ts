import type { ErrorTable } from '../errors.js';

/** Every error code the media layer reports (metrics `fsbridge_errors_total{code}` and log lines). */
export const MEDIA_ERRORS = {
  MEDIA_UNKNOWN_TOKEN: {
    meaning: 'A websocket upgrade on the media port named a call that is not expected, or carried the wrong token.',
    consequence: 'The upgrade is refused (HTTP 404 for an unknown call or path, 401 for a wrong token); no call is affected.',
  },
  MEDIA_DUPLICATE_STREAM: {
    meaning: 'A second websocket arrived for a call whose media stream is already open.',
    consequence: 'The new upgrade is refused with HTTP 409; the open stream continues.',
  },
  MEDIA_OVERSIZE_MESSAGE: {
    meaning: 'mod_audio_stream sent a websocket message larger than media.maxMessageBytes.',
    consequence: 'That stream is closed with 1009; the call loses its caller audio (the call layer decides what follows).',
  },
  MEDIA_SOCKET_ERROR: {
    meaning: 'The media websocket failed (protocol violation, reset, invalid UTF-8 text).',
    consequence: 'That stream is closed; the sink gets onClose with the code ws reports.',
  },
  MEDIA_SINK_THREW: {
    meaning: 'Code receiving media for a call (the sink) threw an exception.',
    consequence: 'Logged and counted; the message is dropped, the stream and every other call continue.',
  },
  MEDIA_PLAYOUT_OVERFLOW: {
    meaning: 'The bot sent more audio than the playout buffer holds (media.maxBufferMs).',
    consequence: 'The oldest buffered audio is dropped and counted; playback continues with the newest.',
  },
  MEDIA_TOO_MANY_MARKS: {
    meaning: 'The bot placed more pending marks than the playout buffer keeps.',
    consequence: 'The extra mark is answered at once instead of after its audio.',
  },
  MEDIA_PACER_STALL: {
    meaning: 'The event loop was blocked for longer than the pacer catches up (5 frames by default).',
    consequence: 'The pacer skips to the current frame; the skipped frames stay buffered and play late.',
  },
  MEDIA_PLAYBACK_TIMEOUT: {
    meaning: 'A streamed file segment never reported PLAYBACK_STOP (or never produced mod_audio_stream::play) in time.',
    consequence: 'The segment is treated as played so that later marks are still answered.',
  },
  MEDIA_PLAYBACK_REJECTED: {
    meaning: 'mod_audio_stream did not accept a streamAudio message (it fired mod_audio_stream::json instead of ::play).',
    consequence: 'That segment of bot audio is lost; marks after it are answered.',
  },
  MEDIA_PLAYBACK_DROPPED: {
    meaning: 'Bot audio for FreeSWITCH could not be sent: the media websocket was not open yet and the queue of waiting messages was full.',
    consequence: 'That streamAudio message is lost; marks after it are still answered (file mode: by the playback timeout).',
  },
  MEDIA_PLAYBACK_BEHIND: {
    meaning: 'Playback fell behind a bot that speaks in real time by more than its bound (maxLagMs): `file` playback by more than one largest segment (every file costs FreeSWITCH a gap, so continuous speech falls further behind with each one); `stream` playback by more than 200 ms (the far end ran dry during a stall longer than the lead, and the rest would play that much later for good).',
    consequence: 'The oldest queued bot audio is dropped, a little at a time, so that playback stays within that bound of the bot; marks in it are answered. A bot that sends faster than real time is never behind. `pipe` playback has no gaps and needs no such bound.',
  },
  MEDIA_PIPE_FAILED: {
    meaning: 'The playback pipe of a call could not be set up: the channel\'s codec could not be read, the FIFO could not be made or opened in media.pipeDir, or FreeSWITCH refused the uuid_broadcast of it.',
    consequence: 'The call is ended (errorCode MEDIA_PIPE_FAILED): without the pipe the caller would not hear the bot. `fsbridge doctor` and docs/media-playback.md say what the directory needs.',
  },
  MEDIA_PIPE_FULL: {
    meaning: 'A frame of bot audio (or silence) could not be written to the playback pipe because it was full: FreeSWITCH has stopped reading it.',
    consequence: 'That frame is dropped; the playback is stopped when FreeSWITCH reports the end of the pipe\'s playback.',
  },
  MEDIA_WORKER_FAILED: {
    meaning: 'A media worker thread (media.workers) died, threw, or could not listen on its port.',
    consequence: 'The calls it carried end (their records say MEDIA_WORKER_FAILED), the playback pipes it held are closed, and it is started again (100 ms, doubling to 5 s while it keeps dying); other calls go on. At start, a worker that cannot listen stops the daemon.',
  },
} satisfies ErrorTable;

/** A code of {@link MEDIA_ERRORS}. */
export type MediaErrorCode = keyof typeof MEDIA_ERRORS;
