// Caller audio for the analysis tests (issue 12): a phrase spoken by espeak-ng (resampled to 8 kHz
// by sox, as bench/lib/amd-corpus.ts makes its corpus), tones and silence made here, and where the
// speech in a signal is (the corpus's ground truth: 5 ms windows above -51 dBFS, joined across
// pauses shorter than 300 ms).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavBytes } from '../../src/sim/freeswitch/audio-source.js';
import { tonePower } from './audio.js';

export { corpusSkipReason as speechSkipReason, speechSegments } from '../../bench/lib/amd-corpus.js';
import { espeakPcm, speechSegments } from '../../bench/lib/amd-corpus.js';

const RATE_HZ = 8000;

/** `text` spoken by espeak-ng (voice en-us unless given) at 8 kHz, cut to its speech (first to last window above -51 dBFS). */
export async function speak(text: string, o: { voice?: string; wpm?: number } = {}): Promise<Int16Array> {
  // espeak-ng cuts long output paths: the files are made in a short temporary directory
  const tmp = mkdtempSync(join(tmpdir(), 'fsb-speak-'));
  try {
    const pcm = await espeakPcm(text, { voice: o.voice ?? 'en-us', speedWpm: o.wpm ?? 160, pitch: 50 }, tmp);
    const segs = speechSegments(pcm);
    if (segs.length === 0) throw new Error(`espeak-ng said nothing for "${text}"`);
    return pcm.slice(segs[0][0] * 8, segs[segs.length - 1][1] * 8);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `ms` of digital silence at 8 kHz. */
export function silence(ms: number): Int16Array {
  return new Int16Array((ms * RATE_HZ) / 1000);
}

/** `ms` of a sine at `hz`, peak `amp`, 8 kHz. */
export function tone(ms: number, hz: number, amp = 8000): Int16Array {
  const out = new Int16Array((ms * RATE_HZ) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / RATE_HZ));
  return out;
}

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Writes 8 kHz mono 16-bit PCM as a WAV file; returns the path. */
export function writeWav8k(path: string, pcm: Int16Array): string {
  writeFileSync(path, wavBytes(pcm));
  return path;
}

/** Goertzel power share of `hz` in `x` (8 kHz): near 1 for a pure tone at hz, near 0 for anything else. */
export function toneShare(x: Int16Array, hz: number): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  return e === 0 ? 0 : (2 * tonePower(x, hz)) / (x.length * e);
}

/**
 * The 20 ms frames of `pcm` (8 kHz) that hold a `hz` tone (RMS above `minRms`, most of the energy
 * at hz), as runs [startMs, endMs); runs less than `maxGapMs` apart are one (a frame or two that a
 * loaded machine played late).
 */
export function toneRuns(pcm: Int16Array, hz: number, o: { minRms?: number; maxGapMs?: number } = {}): [number, number][] {
  const minRms = o.minRms ?? 1000;
  const maxGapMs = o.maxGapMs ?? 0;
  const runs: [number, number][] = [];
  for (let f = 0; f + 160 <= pcm.length; f += 160) {
    const frame = pcm.subarray(f, f + 160);
    let e = 0;
    for (const s of frame) e += s * s;
    if (Math.sqrt(e / 160) < minRms || toneShare(frame, hz) < 0.8) continue;
    const at = f / 8;
    const last = runs[runs.length - 1];
    if (last && at - last[1] <= maxGapMs) last[1] = at + 20;
    else runs.push([at, at + 20]);
  }
  return runs;
}
