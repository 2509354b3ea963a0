import { toneSequence } from '../../src/cli/recording.js';

export { bestMatch } from '../../src/cli/recording.js';

const FREQS_HZ = [300, 450, 700, 520, 900, 380, 1200, 640];

/**
 * A 2 s speech-band test signal at 8 kHz: 200 ms tone bursts of changing pitch. Distinct enough
 * that cross-correlation finds exactly one best lag.
 */
export function testSignal(seconds = 2): Int16Array {
  const pcm = toneSequence(testSignalTones(seconds), 200, 8000, 0.4);
  // A short pause at the end of each burst, so that the pattern is not periodic.
  for (let i = 0; i < pcm.length; i++) if (i % 1600 >= 1300) pcm[i] = 0;
  return pcm;
}

/** The pitch of each 200 ms burst of {@link testSignal}, in order (Hz). */
export function testSignalTones(seconds = 2): number[] {
  const bursts = Math.round((seconds * 1000) / 200);
  return Array.from({ length: bursts }, (_, k) => FREQS_HZ[k % FREQS_HZ.length]);
}

/** Goertzel power of `freqHz` in `x` (8 kHz). */
export function tonePower(x: Int16Array, freqHz: number): number {
  const c = 2 * Math.cos((2 * Math.PI * freqHz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/**
 * The tones of `candidatesHz` heard in `pcm` (8 kHz), in the order heard, with where each began.
 * Every 20 ms frame with an RMS above `minRms` is labelled with the candidate of highest power if
 * that power is at least 4 times the next candidate's (frames at a burst's edge or straddling a
 * gap stay unlabelled); runs of one label shorter than `minFrames` are dropped and neighbouring
 * runs of the same tone merged. It depends only on what was heard, not on when: gaps, a longer or
 * varying delay and level changes leave the sequence as it is; silence, noise, a wrong codec,
 * lost, repeated or reordered audio change it.
 */
export function heardTones(pcm: Int16Array, candidatesHz: readonly number[], o: { minRms?: number; minFrames?: number } = {}): { hz: number; atMs: number }[] {
  const minRms = o.minRms ?? 1000;
  const minFrames = o.minFrames ?? 3;
  const hzs = [...new Set(candidatesHz)];
  const runs: { hz: number; at: number; frames: number }[] = [];
  for (let f = 0; f + 160 <= pcm.length; f += 160) {
    const frame = pcm.subarray(f, f + 160);
    let e = 0;
    for (const s of frame) e += s * s;
    if (Math.sqrt(e / 160) < minRms) continue;
    const p = hzs.map((hz) => tonePower(frame, hz));
    const order = p.map((_, i) => i).sort((a, b) => p[b] - p[a]);
    if (p[order[0]] < 4 * (p[order[1]] ?? 0)) continue;
    const hz = hzs[order[0]];
    const last = runs.at(-1);
    if (last && last.hz === hz) last.frames++;
    else runs.push({ hz, at: f, frames: 1 });
  }
  const out: { hz: number; atMs: number }[] = [];
  for (const r of runs) {
    if (r.frames < minFrames) continue;
    if (out.at(-1)?.hz !== r.hz) out.push({ hz: r.hz, atMs: r.at / 8 });
  }
  return out;
}
