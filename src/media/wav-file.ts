/** Reading 16-bit PCM RIFF/WAVE files (prompts fsbridge plays itself; the twins' audio). Pure but for readWav's read. */
import { readFileSync } from 'node:fs';

/** The channels of a PCM16 RIFF/WAVE file (de-interleaved) and its rate; undefined if unreadable. */
export function readWav(path: string): { channels: Int16Array[]; rateHz: number } | undefined {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch { return undefined; }
  return parseWav(buf);
}

/** {@link readWav} of bytes already read (e.g. a WAV an HTTP answer carried). */
export function parseWav(buf: Buffer): { channels: Int16Array[]; rateHz: number } | undefined {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let pos = 12;
  let count = 1;
  let rateHz = 8000;
  let bits = 16;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const start = pos + 8;
    if (id === 'fmt ') {
      count = buf.readUInt16LE(start + 2);
      rateHz = buf.readUInt32LE(start + 4);
      bits = buf.readUInt16LE(start + 14);
    } else if (id === 'data') {
      if (bits !== 16 || count < 1) return undefined;
      const end = Math.min(buf.length, start + size);
      const frames = Math.floor((end - start) / (2 * count));
      const channels = Array.from({ length: count }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < count; c++) channels[c][i] = buf.readInt16LE(start + 2 * (i * count + c));
      }
      return { channels, rateHz };
    }
    pos = start + size + (size & 1);
  }
  return undefined;
}

/** A WAV's channels mixed down to one. */
export function monoOf(channels: readonly Int16Array[]): Int16Array {
  if (channels.length === 1) return channels[0];
  const mono = new Int16Array(channels[0].length);
  for (let i = 0; i < mono.length; i++) {
    let s = 0;
    for (const ch of channels) s += ch[i];
    mono[i] = Math.round(s / channels.length);
  }
  return mono;
}
