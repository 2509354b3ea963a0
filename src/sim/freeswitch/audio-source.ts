import { readFileSync } from 'node:fs';
import { wavHeader } from '../../media/wav-header.js';
import { monoOf, readWav } from '../../media/wav-file.js';
import { NativeFileSource, nativeCodec } from './native-file-source.js';

/** A pull source of 8 kHz mono 16-bit samples for playback or caller audio. */
export interface SampleSource {
  /** Playback-File-Type for streams (tone_stream, silence_stream), undefined for files. */
  readonly fileType: string | undefined;
  /** Up to n samples; fewer (or an empty array) once the source has ended. */
  read(n: number): Int16Array;
  readonly ended: boolean;
  /** The whole length in samples, when known and finite. */
  readonly totalSamples?: number;
  /** Releases what the source holds open (a file); called when its playback ended. */
  close?(): void;
  /** What FreeSWITCH reports as playback_samples, where that is not the samples played (native files: bytes). */
  readonly bytesRead?: number;
}

/** Converts mono 16-bit PCM at any rate to 8 kHz (averaging for 16 kHz, linear otherwise). */
export function to8k(pcm: Int16Array, rateHz: number): Int16Array {
  if (rateHz === 8000) return pcm;
  if (rateHz === 16000) {
    const out = new Int16Array(pcm.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = (pcm[2 * i] + pcm[2 * i + 1]) >> 1;
    return out;
  }
  const n = Math.floor((pcm.length * 8000) / rateHz);
  const out = new Int16Array(n);
  const step = rateHz / 8000;
  for (let i = 0; i < n; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const f = x - j;
    const a = pcm[j] ?? 0;
    const b = pcm[j + 1] ?? a;
    out[i] = Math.round(a + (b - a) * f);
  }
  return out;
}

export { parseWav, readWav } from '../../media/wav-file.js';

/** Reads a PCM16 RIFF/WAVE file (any rate, channels mixed down) as 8 kHz mono; undefined if unreadable. */
export function readWav8k(path: string): Int16Array | undefined {
  const wav = readWav(path);
  return wav && to8k(monoOf(wav.channels), wav.rateHz);
}

/** Encodes 8 kHz mono PCM as a WAV file. */
export function wavBytes(pcm: Int16Array, rateHz = 8000): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return Buffer.concat([wavHeader(data.length, rateHz, 1), data]);
}

/** A finite buffer of samples. */
export class BufferSource implements SampleSource {
  private pos = 0;
  constructor(private readonly pcm: Int16Array, readonly fileType: string | undefined = undefined) {}
  get ended(): boolean { return this.pos >= this.pcm.length; }
  read(n: number): Int16Array {
    const out = this.pcm.subarray(this.pos, Math.min(this.pcm.length, this.pos + n));
    this.pos += out.length;
    return out;
  }
}

/** tone_stream://%(on_ms,off_ms,freq[,freq2...])[;loops=N] (teletone); loops=-1 is endless. */
export class ToneSource implements SampleSource {
  readonly fileType = 'tone_stream';
  private readonly pattern: { samples: number; freqs: number[] }[] = [];
  private loopsLeft: number;
  private seg = 0;
  private segPos = 0;
  private phase = 0;
  private done = false;
  readonly totalSamples: number | undefined;
  constructor(spec: string, private readonly amplitude = 8000) {
    const loopsMatch = /;loops=(-?\d+)/.exec(spec);
    this.loopsLeft = loopsMatch ? Number(loopsMatch[1]) : 1;
    for (const m of spec.matchAll(/%\(([^)]*)\)/g)) {
      const parts = m[1].split(',').map((x) => Number(x.trim()));
      const [on, off, ...freqs] = parts;
      if (on > 0) this.pattern.push({ samples: Math.round((on * 8000) / 1000), freqs: freqs.filter((f) => f > 0) });
      if (off > 0) this.pattern.push({ samples: Math.round((off * 8000) / 1000), freqs: [] });
    }
    if (this.pattern.length === 0 || this.loopsLeft === 0) this.done = true;
    const perLoop = this.pattern.reduce((n, seg) => n + seg.samples, 0);
    this.totalSamples = this.done ? 0 : this.loopsLeft > 0 ? perLoop * this.loopsLeft : undefined;
  }
  get ended(): boolean { return this.done; }
  read(n: number): Int16Array {
    const out: number[] = [];
    while (out.length < n && !this.done) {
      const seg = this.pattern[this.seg];
      const take = Math.min(n - out.length, seg.samples - this.segPos);
      for (let i = 0; i < take; i++) {
        let v = 0;
        for (const f of seg.freqs) v += Math.sin((2 * Math.PI * f * (this.phase + i)) / 8000);
        out.push(seg.freqs.length ? Math.round((this.amplitude * v) / seg.freqs.length) : 0);
      }
      this.phase += take;
      this.segPos += take;
      if (this.segPos >= seg.samples) {
        this.segPos = 0;
        this.seg++;
        if (this.seg >= this.pattern.length) {
          this.seg = 0;
          if (this.loopsLeft > 0) this.loopsLeft--;
          if (this.loopsLeft === 0) this.done = true;
        }
      }
    }
    return Int16Array.from(out);
  }
}

/** silence_stream://<ms>[,<noise>]; a negative duration is endless. */
export class SilenceSource implements SampleSource {
  readonly fileType = 'silence_stream';
  private left: number;
  readonly totalSamples: number | undefined;
  constructor(ms: number) {
    this.left = ms < 0 ? Infinity : Math.round((ms * 8000) / 1000);
    this.totalSamples = ms < 0 ? undefined : this.left;
  }
  get ended(): boolean { return this.left <= 0; }
  read(n: number): Int16Array {
    const k = Math.min(n, this.left);
    this.left -= k;
    return new Int16Array(k);
  }
}

/** file_string://a!b: the sources one after the other. */
export class ConcatSource implements SampleSource {
  readonly fileType = undefined;
  private i = 0;
  constructor(private readonly parts: SampleSource[]) {}
  get ended(): boolean {
    while (this.i < this.parts.length && this.parts[this.i].ended) this.i++;
    return this.i >= this.parts.length;
  }
  read(n: number): Int16Array {
    const out = new Int16Array(n);
    let o = 0;
    while (o < n && !this.ended) {
      const got = this.parts[this.i].read(n - o);
      out.set(got, o);
      o += got.length;
      if (got.length === 0) this.i++;
    }
    return out.subarray(0, o);
  }
}

/** A steady sine for the caller side (sim_caller_tone). */
export class SineSource implements SampleSource {
  readonly fileType = undefined;
  readonly ended = false;
  private phase = 0;
  constructor(private readonly freqHz: number, private readonly amplitude = 8000) {}
  read(n: number): Int16Array {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.round(this.amplitude * Math.sin((2 * Math.PI * this.freqHz * (this.phase + i)) / 8000));
    this.phase = (this.phase + n) % 8000;
    return out;
  }
}

/**
 * Opens what the playback application would open: tone_stream://, silence_stream://,
 * file_string://a!b, a .wav, or raw 16-bit little-endian .r8/.r16 (8/16 kHz). undefined = FILE NOT FOUND.
 */
export function openPlayback(path: string): SampleSource | undefined {
  if (path.startsWith('file_string://')) {
    const parts = path.slice('file_string://'.length).split('!').filter((x) => x !== '').map(openPlayback);
    if (parts.length === 0 || parts.some((x) => x === undefined)) return undefined;
    return new ConcatSource(parts as SampleSource[]);
  }
  if (path.startsWith('tone_stream://')) return new ToneSource(path.slice('tone_stream://'.length));
  if (path.startsWith('silence_stream://')) {
    const ms = Number(path.slice('silence_stream://'.length).split(',')[0]);
    return new SilenceSource(Number.isFinite(ms) ? ms : 0);
  }
  if (nativeCodec(path)) return NativeFileSource.open(path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.r8') || lower.endsWith('.r16') || lower.endsWith('.raw')) {
    let buf: Buffer;
    try { buf = readFileSync(path); } catch { return undefined; }
    const pcm = new Int16Array(buf.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = buf.readInt16LE(2 * i);
    return new BufferSource(to8k(pcm, lower.endsWith('.r16') ? 16000 : 8000));
  }
  const wav = readWav8k(path);
  return wav ? new BufferSource(wav) : undefined;
}
