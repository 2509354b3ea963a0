import { toneSequence } from '../../src/cli/recording.js';

export { bestMatch } from '../../src/cli/recording.js';

/**
 * A 2 s speech-band test signal at 8 kHz: 200 ms tone bursts of changing pitch. Distinct enough
 * that cross-correlation finds exactly one best lag.
 */
export function testSignal(seconds = 2): Int16Array {
  const freqs = [300, 450, 700, 520, 900, 380, 1200, 640];
  const bursts = Math.round((seconds * 1000) / 200);
  const seq = Array.from({ length: bursts }, (_, k) => freqs[k % freqs.length]);
  const pcm = toneSequence(seq, 200, 8000, 0.4);
  // A short pause at the end of each burst, so that the pattern is not periodic.
  for (let i = 0; i < pcm.length; i++) if (i % 1600 >= 1300) pcm[i] = 0;
  return pcm;
}
