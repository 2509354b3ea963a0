import type { PlaybackActions } from '../../../src/media/playback.js';

/** Records every action a playback controller asks for, in order. */
export class RecordingActions implements PlaybackActions {
  log: string[] = [];
  sent: Array<{ rate: number; pcm: Int16Array }> = [];
  marks: string[] = [];
  broadcasts: string[] = [];
  breaks = 0;
  sendText(text: string): void {
    const msg = JSON.parse(text) as { type: string; data: { audioDataType: string; sampleRate: number; audioData: string } };
    if (msg.type !== 'streamAudio' || msg.data.audioDataType !== 'raw' || typeof msg.data.sampleRate !== 'number') {
      throw new Error('bad streamAudio message');
    }
    const keys = Object.keys(msg.data).join();
    if (keys !== 'audioDataType,sampleRate,audioData') throw new Error(`data keys ${keys}`);
    const bytes = Buffer.from(msg.data.audioData, 'base64');
    const pcm = new Int16Array(bytes.length / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(2 * i);
    this.sent.push({ rate: msg.data.sampleRate, pcm });
    this.log.push(`send:${pcm.length}`);
  }
  broadcast(file: string): void { this.broadcasts.push(file); this.log.push(`broadcast:${file}`); }
  breakAll(): void { this.breaks++; this.log.push('break'); }
  breakCurrent(): void { this.log.push('break-current'); }
  markPlayed(name: string): void { this.marks.push(name); this.log.push(`mark:${name}`); }
}

/** `ms` of 8 kHz audio whose samples count up from `from`. */
export function ramp(ms: number, from = 0, rateHz = 8000): Int16Array {
  const n = (ms * rateHz) / 1000;
  return Int16Array.from({ length: n }, (_, i) => ((from + i) % 30000));
}
