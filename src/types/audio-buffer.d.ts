// Types for the parts of audio-buffer 7 that fsbridge uses (the package ships none).
declare module 'audio-buffer' {
  export default class AudioBuffer {
    constructor(opts: { length: number; sampleRate: number; numberOfChannels?: number });
    readonly length: number;
    readonly sampleRate: number;
    readonly duration: number;
    readonly numberOfChannels: number;
    getChannelData(channel: number): Float32Array;
  }
}
declare module 'audio-buffer/util' {
  import type AudioBuffer from 'audio-buffer';
  export function from(
    source: number | Float32Array | number[] | AudioBuffer,
    fill?: number | ((sample: number, index: number, channel: number) => number),
    opts?: { sampleRate?: number; numberOfChannels?: number },
  ): AudioBuffer;
  export function normalize(buf: AudioBuffer, start?: number, end?: number): AudioBuffer;
}
