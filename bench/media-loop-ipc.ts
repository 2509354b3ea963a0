/**
 * Messages between the media-loop benchmark (parent, load generator) and its system under test
 * (child process, media-loop-sut.ts), over the child's IPC channel ('advanced' serialization).
 */
import type { BotProtocol } from '../src/bots/adapter.js';

/** Every HOLD_EVERY-th call of the SUT carries the playout-hold tracker (keeps its CPU cost out of the figures). */
export const HOLD_EVERY = 4;

/** What the parent asks. */
export type SutRequest =
  | { t: 'init'; mode: 'daemon' | 'relay'; protocol: BotProtocol | null; botUrl: string; calls: number; frames: number }
  | { t: 'start' }
  | { t: 'mem' }
  | { t: 'measureStart' }
  | { t: 'measureStop' }
  | { t: 'report' }
  | { t: 'stop' };

/** What the child answers (and 'open': a request to open a simulated mod_audio_stream socket). */
export type SutReply =
  | { t: 'listening'; port: number }
  | { t: 'open'; call: number; url: string; metadata: string }
  | { t: 'started'; failed: number }
  /** `apparatusBytes`: memory of the hold trackers (measuring apparatus), to subtract. */
  | { t: 'mem'; heapUsed: number; external: number; rss: number; apparatusBytes: number }
  | { t: 'cpu'; userUs: number; systemUs: number; wallMs: number; elu: number }
  | { t: 'report'; holds: Float32Array[]; errors: Record<string, number> }
  | { t: 'stopped' };

