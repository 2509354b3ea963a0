// What a caller on the real FreeSWITCH said and heard: a seeded, aperiodic test signal to play as
// the caller, and the analysis of FreeSWITCH's stereo recording (record_session with
// RECORD_STEREO=true: left = what the channel read = what the caller heard, right = what it wrote
// = what the caller said).
import { writeFileSync } from 'node:fs';
import { bestMatch } from '../../src/cli/recording.js';
import { parseWav, readWav, wavBytes } from '../../src/sim/freeswitch/audio-source.js';

/**
 * `seconds` of 8 kHz speech-band audio: tone bursts of random pitch (300–2000 Hz) and length
 * (60–180 ms) with short random gaps, from a seeded generator, so that no 0.5 s window repeats
 * and cross-correlation finds one lag.
 */
export function aperiodicSignal(seconds: number, seed = 7): Int16Array {
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const out = new Int16Array(Math.round(seconds * 8000));
  let i = 0;
  while (i < out.length) {
    const f = 300 + rnd() * 1700;
    const len = Math.round((60 + rnd() * 120) * 8);
    for (let k = 0; k < len && i < out.length; k++, i++) {
      const env = Math.min(1, k / 40, (len - k) / 40);
      out[i] = Math.round(9000 * env * Math.sin((2 * Math.PI * f * k) / 8000));
    }
    i += Math.round(rnd() * 30 * 8);
  }
  return out;
}

/** Writes 8 kHz mono PCM as a WAV file (for FreeSWITCH's `playback`). */
export function writeWav(path: string, pcm: Int16Array): void {
  writeFileSync(path, wavBytes(pcm, 8000));
}

/** A 16-bit stereo WAV file as its two channels. */
export function readStereoWav(path: string): { left: Int16Array; right: Int16Array; rateHz: number } {
  return stereoOf(readWav(path), path);
}

/** The same of a WAV's bytes (e.g. a recording the API streamed). */
export function parseStereoWav(bytes: Buffer, what = 'the WAV'): { left: Int16Array; right: Int16Array; rateHz: number } {
  return stereoOf(parseWav(bytes), what);
}

function stereoOf(wav: ReturnType<typeof parseWav>, what: string): { left: Int16Array; right: Int16Array; rateHz: number } {
  if (!wav) throw new Error(`${what}: not a 16-bit WAV file`);
  if (wav.channels.length !== 2) throw new Error(`${what}: ${wav.channels.length} channels, expected 2 (RECORD_STEREO=true)`);
  return { left: wav.channels[0], right: wav.channels[1], rateHz: wav.rateHz };
}

export function rms(pcm: Int16Array): number {
  let s = 0;
  for (const x of pcm) s += x * x;
  return Math.sqrt(s / Math.max(1, pcm.length));
}

/** One 0.5 s window of what the caller said, found again in what the caller heard. */
export interface EchoWindow { atMs: number; delayMs: number; ncc: number }

/**
 * For each `windowMs` window of `said` that is not silent, the delay after which it appears in
 * `heard` (best normalised cross-correlation within `maxDelayMs`). 8 kHz.
 */
export function echoDelays(said: Int16Array, heard: Int16Array, windowMs = 500, maxDelayMs = 4000): EchoWindow[] {
  const w = (windowMs * 8000) / 1000;
  const out: EchoWindow[] = [];
  for (let at = 0; at + w <= said.length; at += w) {
    const win = said.subarray(at, at + w);
    if (rms(win) < 500) continue;
    const hay = heard.subarray(at, Math.min(heard.length, at + w + (maxDelayMs * 8000) / 1000));
    if (hay.length < w) break;
    const m = bestMatch(win, hay);
    out.push({ atMs: at / 8, delayMs: m.lag / 8, ncc: m.ncc });
  }
  return out;
}

/** The median ncc of the windows (0 when there are none). */
export function medianNcc(ws: EchoWindow[]): number {
  const v = ws.map((w) => w.ncc).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : 0;
}

/** `0.0s 420ms (0.99), 0.5s 440ms (1.00), …` */
export function describeDelays(ws: EchoWindow[]): string {
  return ws.map((x) => `${(x.atMs / 1000).toFixed(1)}s ${x.delayMs.toFixed(0)}ms (${x.ncc.toFixed(2)})`).join(', ');
}

/**
 * echoDelays for long calls: the first window is searched over `firstMaxMs`, each next one only
 * from `backMs` before to `aheadMs` after the delay found for the window before it (a delay moves
 * little from one window to the next, and the search is then ~10 times cheaper). Windows whose
 * search range runs past the end of `heard` are left out.
 */
export function trackedEchoDelays(said: Int16Array, heard: Int16Array, windowMs = 500, firstMaxMs = 4000, backMs = 200, aheadMs = 600): EchoWindow[] {
  const w = (windowMs * 8000) / 1000;
  const out: EchoWindow[] = [];
  let prev: number | null = null;
  for (let at = 0; at + w <= said.length; at += w) {
    const win = said.subarray(at, at + w);
    if (rms(win) < 500) continue;
    const lo: number = prev === null ? 0 : Math.max(0, prev - backMs);
    const hi = prev === null ? firstMaxMs : prev + aheadMs;
    if (at + w + hi * 8 > heard.length) break; // the rest was not heard back before the hang-up
    const hay = heard.subarray(at + lo * 8, at + w + hi * 8);
    const m = bestMatch(win, hay);
    const delayMs: number = lo + m.lag / 8;
    out.push({ atMs: at / 8, delayMs, ncc: m.ncc });
    if (m.ncc >= 0.5) prev = delayMs;
  }
  return out;
}
