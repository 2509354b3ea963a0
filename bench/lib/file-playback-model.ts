/**
 * Drives the real FilePlayback controller on a manual clock against a model of FreeSWITCH built
 * from the capture (fixtures real-freeswitch, call A): the module answers a streamAudio with
 * `mod_audio_stream::play` 5 ms later; `uuid_broadcast` starts playing 120 ms after it is issued
 * (API event → CHANNEL_EXECUTE playback; PRIVATE_COMMAND carried `lead-frames: 5`), and queued
 * broadcasts play one after another, each with that lead; a file plays in real time.
 * It reports, per segment policy and bot behaviour, when the caller first hears the bot, how much
 * silence the file boundaries add inside one utterance, and how many files it takes.
 * Run directly: `node dist/bench/lib/file-playback-model.js`.
 */
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../../src/clock.js';
import { FilePlayback } from '../../src/media/file-playback.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';

/** Delays of the FreeSWITCH model, in ms (captured values). */
export const CAPTURED = { playEventMs: 5, broadcastLeadMs: 120 } as const;

/** One row of the model. */
export interface SegmentModelRow {
  segmentMs: number;
  maxSegmentMs: number;
  /** 'burst' = speech synthesis 5× faster than real time; 'realtime' = 20 ms frames every 20 ms. */
  bot: 'burst' | 'realtime';
  /** From the bot's first frame to the first sample played to the caller. */
  firstSoundMs: number;
  /** Silence inserted between files inside the utterance (sum). */
  gapsMs: number;
  /** Files (= temp files, ::play events, uuid_broadcasts) for the utterance. */
  files: number;
}

/** Plays one utterance of `utteranceMs` through the controller and the FreeSWITCH model. */
export function modelUtterance(segmentMs: number, maxSegmentMs: number, bot: 'burst' | 'realtime', utteranceMs = 3000): SegmentModelRow {
  const clock = new ManualClock();
  let files = 0;
  let n = 0;
  let fsBusyUntil = 0;
  let firstSound = -1;
  let gaps = 0;
  const durations = new Map<string, number>();
  const pendingDur: number[] = [];
  const fp: FilePlayback = new FilePlayback({
    clock, logger: silentLogger(), metrics: new MetricsRegistry(), sampleRateHz: 8000, segmentMs, maxSegmentMs,
    actions: {
      sendText: (text) => {
        files++;
        const file = `f${n++}`;
        const b64 = /"audioData":"([^"]*)"/.exec(text)![1];
        pendingDur.push(Buffer.from(b64, 'base64').length / 16); // 16 bytes per ms at 8 kHz
        clock.setTimeout(() => { durations.set(file, pendingDur.shift()!); fp.onPlay(file); }, CAPTURED.playEventMs);
      },
      broadcast: (file) => {
        const now = clock.nowMs();
        const start = Math.max(now, fsBusyUntil) + CAPTURED.broadcastLeadMs;
        if (firstSound < 0) firstSound = start;
        else gaps += start - fsBusyUntil; // silence between the previous file's end and this start
        fsBusyUntil = start + durations.get(file)!;
        clock.setTimeout(() => fp.onPlaybackStop(file), fsBusyUntil - now);
      },
      breakAll: () => {},
      breakCurrent: () => {},
      markPlayed: () => {},
    },
  });
  const frame = new Int16Array(160);
  const gap = bot === 'burst' ? 4 : 20;
  for (let f = 0; f < utteranceMs / 20; f++) clock.setTimeout(() => fp.pushAudio(frame), f * gap);
  clock.advance(utteranceMs * 5);
  fp.close();
  return { segmentMs, maxSegmentMs, bot, firstSoundMs: firstSound, gapsMs: Math.round(gaps), files };
}

/** The table in docs/media-playback.md. */
export function runSegmentModel(): SegmentModelRow[] {
  const rows: SegmentModelRow[] = [];
  for (const [seg, max] of [[100, 100], [200, 200], [400, 400], [1000, 1000], [100, 1600], [200, 1600], [400, 1600]]) {
    for (const bot of ['burst', 'realtime'] as const) rows.push(modelUtterance(seg, max, bot));
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(runSegmentModel());
}
