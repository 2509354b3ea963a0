/**
 * Audio helpers for end-to-end checks: a deterministic test signal and normalised
 * cross-correlation to find where (and how well) a signal appears inside a recording.
 */

/** A 2 s, speech-band test signal at 8 kHz: tone bursts of changing pitch with short pauses. */
export function testSignal(seconds = 2): Int16Array {
  const out = new Int16Array(8000 * seconds);
  const freqs = [300, 450, 700, 520, 900, 380, 1200, 640];
  const burst = 1600; // 200 ms
  for (let i = 0; i < out.length; i++) {
    const k = Math.floor(i / burst) % freqs.length;
    const inBurst = i % burst;
    const env = inBurst < 1300 ? Math.sin((Math.PI * inBurst) / 1300) : 0; // 162 ms sound, 38 ms pause
    out[i] = Math.round(12000 * env * Math.sin((2 * Math.PI * freqs[k] * i) / 8000));
  }
  return out;
}

/**
 * The lag (samples) at which `needle` best matches a window of `hay`, and the normalised
 * cross-correlation there (1 = identical shape, 0 = unrelated).
 */
export function bestMatch(needle: Int16Array, hay: Int16Array): { lag: number; ncc: number } {
  const n = needle.length;
  let nn = 0;
  for (let i = 0; i < n; i++) nn += needle[i] * needle[i];
  if (hay.length < n || nn === 0) return { lag: -1, ncc: 0 };
  // Running energy of the window of hay.
  let hh = 0;
  for (let i = 0; i < n; i++) hh += hay[i] * hay[i];
  let best = { lag: -1, ncc: -Infinity };
  for (let lag = 0; lag + n <= hay.length; lag++) {
    if (lag > 0) hh += hay[lag + n - 1] * hay[lag + n - 1] - hay[lag - 1] * hay[lag - 1];
    if (hh <= 0) continue;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += needle[i] * hay[lag + i];
    const ncc = dot / Math.sqrt(nn * hh);
    if (ncc > best.ncc) best = { lag, ncc };
  }
  return best;
}
