/**
 * Sound files that API requests (tenants' keys) may name: for FreeSWITCH to play, absolute paths of
 * sound files only (`uuid_broadcast` also runs `app::args`, a dialplan application, so nothing else
 * may reach it from a request); for fsbridge to play itself, WAV files.
 */
export const SOUND_FILE_PATH = /^\/(?!.*\.\.)[A-Za-z0-9_./-]{1,990}\.(wav|mp3|ulaw|alaw|gsm|r8|r16|sln)$/i;

/** What SOUND_FILE_PATH expects, for a request's problem list. */
export const SOUND_FILE_EXPECTED = 'the absolute path of a sound file on the FreeSWITCH host (letters, digits, _ . / -; .wav, .mp3, .ulaw, .alaw, .gsm, .r8, .r16 or .sln)';

/** A 16-bit PCM WAV that fsbridge reads and plays itself (an AMD message): absolute, no `..`, `.wav`. */
export const WAV_FILE_PATH = /^\/(?!.*\.\.)[A-Za-z0-9_./-]{1,990}\.wav$/i;

/** What WAV_FILE_PATH expects. */
export const WAV_FILE_EXPECTED = 'the absolute path of a 16-bit PCM WAV file on the fsbridge host (letters, digits, _ . / -; .wav)';
