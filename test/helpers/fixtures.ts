import { fileURLToPath } from 'node:url';

/**
 * The captures from a real FreeSWITCH 1.10.12 (+ mod_audio_stream, drachtio-server), in the
 * `shared/` folder that sits beside the repository (as in CI: a fresh clone with ../shared).
 * No trailing slash.
 */
export const CAPTURES = fileURLToPath(new URL('../../../shared/fixtures/real-freeswitch', import.meta.url));
