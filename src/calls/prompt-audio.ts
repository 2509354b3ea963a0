/**
 * Prompts fsbridge plays itself through a call's playback (a silence-timeout prompt, an AMD
 * message): a 16-bit PCM WAV at 8 or 16 kHz on the fsbridge host, read when it is played and
 * converted to the call's rate.
 */
import { readFile, stat } from 'node:fs/promises';
import { monoOf, parseWav } from '../media/wav-file.js';
import { Downsampler16kTo8k, Upsampler8kTo16k } from '../media/resample.js';

/** Most samples of a prompt (2 minutes at 16 kHz). */
const MAX_PROMPT_SAMPLES = 16_000 * 120;
/** Larger files are not read at all (a stereo 2-minute WAV at 16 kHz, with room for its header). */
const MAX_PROMPT_BYTES = 4 * MAX_PROMPT_SAMPLES + 65_536;

/** The prompt at `rateHz`, or null when the file cannot be read as such a WAV. Never rejects. */
export async function loadPrompt(path: string, rateHz: 8000 | 16000): Promise<Int16Array | null> {
  let wav;
  try {
    if ((await stat(path)).size > MAX_PROMPT_BYTES) return null;
    wav = parseWav(await readFile(path));
  } catch { return null; }
  if (!wav || (wav.rateHz !== 8000 && wav.rateHz !== 16000) || wav.channels[0].length === 0) return null;
  const pcm = monoOf(wav.channels).subarray(0, MAX_PROMPT_SAMPLES);
  if (wav.rateHz === rateHz) return pcm;
  if (rateHz === 16000) {
    const out = new Int16Array(pcm.length * 2 + 2);
    return out.subarray(0, new Upsampler8kTo16k().process(pcm, out, pcm.length));
  }
  const out = new Int16Array(pcm.length + 2);
  return out.subarray(0, new Downsampler16kTo8k().process(pcm, out, pcm.length));
}

/** A request's problem with the prompt at `path` (for its 400 answer), or null when it can be played. */
export async function promptProblem(path: string, field: string): Promise<string | null> {
  return (await loadPrompt(path, 8000)) ? null : `${field}: expected a 16-bit PCM WAV file at 8 or 16 kHz, at most 2 minutes, that fsbridge can read`;
}
