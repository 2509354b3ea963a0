/**
 * What mod_native_file plays: `<name>.<codec>` holding raw frames of that codec at 8 kHz
 * (`.L16` 16-bit linear in host order, `.PCMU`, `.PCMA`), a regular file or a named pipe. Like the
 * real module the file is opened for reading and read frame by frame in the channel's clock; the
 * end of the file (a pipe's writers all gone) ends the playback. Where FreeSWITCH's read of an
 * empty pipe blocks the channel thread (seen on 1.10.12: a uuid_break, like anything else the
 * channel would do, waits for the next frame or the end of the file), the twin plays a frame of
 * silence and keeps what part of a frame was there for the next one, so the audio is delayed,
 * never lost, as on the real one; fsbridge writes every 20 ms, so the difference never shows.
 * playback_samples of such a file counts bytes, not samples (seen on 1.10.12: 12 frames of L16
 * written, 3840 reported).
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { SampleSource } from './audio-source.js';
import { decodeG711 } from './sofia/g711.js';

/** The codec of a native file path, or undefined when the extension is none mod_native_file plays here. */
export function nativeCodec(path: string): 'L16' | 'PCMU' | 'PCMA' | undefined {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return ext === 'L16' || ext === 'PCMU' || ext === 'PCMA' ? ext : undefined;
}

export class NativeFileSource implements SampleSource {
  readonly fileType = undefined;
  private fd: number | null;
  private readonly bytesPerSample: number;
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes taken from the file: what FreeSWITCH reports as playback_samples for a native file. */
  bytesRead = 0;

  private constructor(fd: number, private readonly codec: 'L16' | 'PCMU' | 'PCMA') {
    this.fd = fd;
    this.bytesPerSample = codec === 'L16' ? 2 : 1;
  }

  /** Opens `path` for reading (without waiting for a pipe's writer); undefined when it cannot be. */
  static open(path: string): NativeFileSource | undefined {
    const codec = nativeCodec(path);
    if (!codec) return undefined;
    try {
      return new NativeFileSource(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), codec);
    } catch {
      return undefined;
    }
  }

  get ended(): boolean {
    return this.done;
  }

  read(n: number): Int16Array {
    if (this.done || this.fd === null) return new Int16Array(0);
    const want = n * this.bytesPerSample;
    const buf = Buffer.alloc(want);
    this.pending.copy(buf);
    let have = this.pending.length;
    let eof = false;
    while (have < want) {
      let got: number;
      try {
        got = readSync(this.fd, buf, have, want - have, null);
      } catch {
        break; // EAGAIN: the writer has not written more yet
      }
      if (got === 0) { eof = true; break; }
      have += got;
      this.bytesRead += got;
    }
    if (have < want && !eof) {
      // a partial frame waits for the rest; this frame is silence
      this.pending = Buffer.from(buf.subarray(0, have));
      return new Int16Array(n);
    }
    this.pending = Buffer.alloc(0);
    if (eof) this.close();
    const whole = have - (have % this.bytesPerSample);
    if (this.codec !== 'L16') return decodeG711(this.codec, buf.subarray(0, whole));
    const pcm = new Int16Array(whole / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = buf.readInt16LE(2 * i);
    return pcm;
  }

  /** Closes the file (playback ended, broken or hung up). Idempotent. */
  close(): void {
    this.done = true;
    if (this.fd === null) return;
    try { closeSync(this.fd); } catch { /* closed */ }
    this.fd = null;
  }
}
