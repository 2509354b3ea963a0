import AudioBuffer from 'audio-buffer';
import { from, normalize } from 'audio-buffer/util';

/**
 * Whole recordings (not the per-frame hot path): what the simulated caller said and heard, held
 * as mono AudioBuffers (float samples in [-1, 1]) for analysis and for making the demo's prompts.
 */

/** 16-bit PCM → a mono AudioBuffer. */
export function toAudioBuffer(pcm: Int16Array, sampleRateHz: number): AudioBuffer {
  const buf = new AudioBuffer({ length: Math.max(1, pcm.length), sampleRate: sampleRateHz, numberOfChannels: 1 });
  const ch = buf.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
  return buf;
}

/** A mono AudioBuffer → 16-bit PCM (clipped). */
export function toPcm16(buf: AudioBuffer): Int16Array {
  const ch = buf.getChannelData(0);
  const out = new Int16Array(ch.length);
  for (let i = 0; i < ch.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(ch[i] * 32767)));
  return out;
}

/** Tones one after the other (Hz, ms each), normalised to `peak` of full scale. */
export function toneSequence(freqsHz: number[], eachMs: number, sampleRateHz = 8000, peak = 0.25): Int16Array {
  const each = Math.round((sampleRateHz * eachMs) / 1000);
  const buf = from(each * freqsHz.length, (_s: number, i: number) => Math.sin((2 * Math.PI * freqsHz[Math.floor(i / each)] * i) / sampleRateHz), { sampleRate: sampleRateHz });
  normalize(buf);
  const ch = buf.getChannelData(0);
  for (let i = 0; i < ch.length; i++) ch[i] *= peak;
  return toPcm16(buf);
}

/**
 * Where `needle` best matches a window of `hay` (same rate): the lag in samples and the
 * normalised cross-correlation there (1 = same waveform, 0 = unrelated). O(n·m): meant for
 * seconds of audio, not hours.
 */
export function bestMatch(needle: Int16Array, hay: Int16Array): { lag: number; ncc: number } {
  const x = toAudioBuffer(needle, 8000).getChannelData(0);
  const y = toAudioBuffer(hay, 8000).getChannelData(0);
  const n = needle.length;
  let xx = 0;
  for (let i = 0; i < n; i++) xx += x[i] * x[i];
  if (hay.length < n || xx === 0) return { lag: -1, ncc: 0 };
  let yy = 0;
  for (let i = 0; i < n; i++) yy += y[i] * y[i];
  let best = { lag: -1, ncc: -Infinity };
  for (let lag = 0; lag + n <= hay.length; lag++) {
    if (lag > 0) yy += y[lag + n - 1] * y[lag + n - 1] - y[lag - 1] * y[lag - 1];
    if (yy <= 1e-9) continue;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += x[i] * y[lag + i];
    const ncc = dot / Math.sqrt(xx * yy);
    if (ncc > best.ncc) best = { lag, ncc };
  }
  return best;
}
