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

/** How far behind the bot a long call's playback gets, through the controller and the FreeSWITCH model. */
export interface LagModelRow {
  seconds: number;
  maxLagMs: number;
  /** Largest observed: a file's start − when its first sample was due (the bot speaks in real time). */
  worstLagMs: number;
  /** The same for the last file. */
  lastLagMs: number;
  droppedMs: number;
  files: number;
}

/**
 * A bot speaking in real time (20 ms frames every 20 ms) for `seconds`; each file pays the
 * captured broadcast lead. Sample k of the bot is due at k/8 ms; a file's first sample is the one
 * after all audio pulled or dropped before it.
 */
export function modelLag(seconds: number, maxLagMs?: number): LagModelRow {
  const clock = new ManualClock();
  let fsBusyUntil = 0;
  let consumedMs = 0; // bot audio sent in files or dropped, in ms
  let worst = 0;
  let last = 0;
  let files = 0;
  const fileDueMs = new Map<string, number>();
  const pending: Array<{ dueMs: number; durMs: number }> = [];
  const durations = new Map<string, number>();
  let n = 0;
  const fp: FilePlayback = new FilePlayback({
    clock, logger: silentLogger(), metrics: new MetricsRegistry(), sampleRateHz: 8000, ...(maxLagMs === undefined ? {} : { maxLagMs }),
    actions: {
      sendText: (text) => {
        files++;
        const b64 = /"audioData":"([^"]*)"/.exec(text)![1];
        const durMs = Buffer.from(b64, 'base64').length / 16;
        // its first sample comes after all audio sent before it and all dropped so far (from the head)
        pending.push({ dueMs: consumedMs + fp.droppedLagMs, durMs });
        consumedMs += durMs;
        const file = `f${n++}`;
        clock.setTimeout(() => { const p = pending.shift()!; durations.set(file, p.durMs); fileDueMs.set(file, p.dueMs); fp.onPlay(file); }, CAPTURED.playEventMs);
      },
      broadcast: (file) => {
        const now = clock.nowMs();
        const start = Math.max(now, fsBusyUntil) + CAPTURED.broadcastLeadMs;
        last = start - fileDueMs.get(file)!;
        worst = Math.max(worst, last);
        fsBusyUntil = start + durations.get(file)!;
        clock.setTimeout(() => fp.onPlaybackStop(file), fsBusyUntil - now);
      },
      breakAll: () => {},
      breakCurrent: () => {},
      markPlayed: () => {},
    },
  });
  const frame = new Int16Array(160);
  for (let f = 0; f < (seconds * 1000) / 20; f++) clock.setTimeout(() => fp.pushAudio(frame), f * 20);
  clock.advance(seconds * 3000);
  const dropped = fp.droppedLagMs;
  fp.close();
  return { seconds, maxLagMs: maxLagMs ?? 1600, worstLagMs: Math.round(worst), lastLagMs: Math.round(last), droppedMs: Math.round(dropped), files };
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
  console.table([modelLag(60), modelLag(60, Infinity)]);
}
