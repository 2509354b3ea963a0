/**
 * Drives the real FilePlayback controller on a manual clock to compare segment lengths for the
 * 'file' playback mode: when the first streamAudio leaves fsbridge, how many files (each one a
 * temp file, a ::play event, a uuid_broadcast and ~5 ESL events) a second of speech costs, and how
 * much audio sits in FreeSWITCH (lost to nothing, but not recallable except by uuid_break) when a
 * clear arrives. Also times streamAudioMessage() for one segment. Run directly:
 * `node dist/bench/lib/file-playback-model.js`.
 */
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../../src/clock.js';
import { FilePlayback } from '../../src/media/file-playback.js';
import { streamAudioMessage } from '../../src/media/playback.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { measureRate } from './measure.js';

/** One row of the model. */
export interface SegmentModelRow {
  segmentMs: number;
  /** 'burst' = speech synthesis 5× faster than real time; 'realtime' = 20 ms frames every 20 ms. */
  bot: 'burst' | 'realtime';
  /** Time from the bot's first frame to the first streamAudio sent. */
  firstSendMs: number;
  /** streamAudio messages (= files) per second of bot speech. */
  filesPerSpeechSec: number;
  /** Audio handed to FreeSWITCH ahead of playback at most (maxInFlightSegments × segmentMs). */
  maxAheadMs: number;
  /** CPU time to build one segment's streamAudio message (8 kHz), microseconds. */
  buildUs: number;
}

/** Runs the model for each segment length and both bot behaviours. */
export function runSegmentModel(segmentsMs: number[] = [100, 200, 400, 1000], utteranceMs = 3000): SegmentModelRow[] {
  const rows: SegmentModelRow[] = [];
  for (const segmentMs of segmentsMs) {
    const pcm = new Int16Array((segmentMs * 8000) / 1000);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 5));
    const buildUs = 1e6 / measureRate(() => streamAudioMessage(pcm, pcm.length, 8000).length, { rounds: 3, roundMs: 100 });
    for (const bot of ['burst', 'realtime'] as const) {
      const clock = new ManualClock();
      let firstSendMs = -1;
      let files = 0;
      let n = 0;
      const fp: FilePlayback = new FilePlayback({
        clock, logger: silentLogger(), metrics: new MetricsRegistry(), sampleRateHz: 8000, segmentMs,
        actions: {
          sendText: () => {
            if (firstSendMs < 0) firstSendMs = clock.nowMs();
            files++;
            // the module answers each streamAudio with ::play about 5 ms later (captured: 5–13 ms)
            const file = `f${n++}`;
            clock.setTimeout(() => fp.onPlay(file), 5);
          },
          // FreeSWITCH plays each file in real time; report the stop when its audio has played
          broadcast: (file) => { clock.setTimeout(() => fp.onPlaybackStop(file), segmentMs); },
          breakAll: () => {},
          markPlayed: () => {},
        },
      });
      const frame = new Int16Array(160);
      const frames = utteranceMs / 20;
      const gap = bot === 'burst' ? 4 : 20;
      for (let f = 0; f < frames; f++) clock.setTimeout(() => fp.pushAudio(frame), f * gap);
      clock.advance(utteranceMs * 3);
      fp.close();
      rows.push({ segmentMs, bot, firstSendMs, filesPerSpeechSec: (files * 1000) / utteranceMs, maxAheadMs: 3 * segmentMs, buildUs });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(runSegmentModel());
}
