/**
 * The messages between the main thread and a media worker (structured-clone data only). The main
 * thread keeps ESL, SIP, the API and every call's supervisor; a worker carries the media legs of
 * the calls given to it: their mod_audio_stream websocket (on the worker's own port), bot
 * connection, codec and playback. The ESL commands a leg needs are asked of the main thread.
 */
import type { BotLegEnd, BotRequest } from '../calls/ports.js';
import type { MediaLegSpec, StreamControl } from '../calls/media-leg.js';
import type { FsEvent } from '../esl/events.js';
import type { MetricSnapshot } from '../observability/metric-snapshot.js';

/** Given to a worker at its start (`workerData`). */
export interface WorkerInit {
  index: number;
  /** Where its media server binds (port 0: any free port). */
  host: string;
  port: number;
  /** host of the ws:// URL given to FreeSWITCH; its port is advertisePort, or the bound port when 0. */
  advertiseHost: string;
  advertisePort: number;
  maxMessageBytes: number;
  logLevel: string;
}

/** The ESL commands a leg may ask of the main thread (StreamControl). */
export type EslMethod = keyof StreamControl;
export const ESL_METHODS: readonly EslMethod[] = ['audioStreamStart', 'audioStreamStop', 'uuidBroadcast', 'uuidBreak', 'uuidSendDtmf', 'uuidGetvar', 'bgapi'];

export type ToWorker =
  | { t: 'start'; id: string; spec: MediaLegSpec; logBindings: Record<string, unknown> }
  | { t: 'stop'; id: string; opts: { detachStream?: boolean; breakPlayback?: boolean } }
  | { t: 'dtmf'; id: string; digit: string }
  | { t: 'fs-event'; id: string; ev: FsEvent }
  | { t: 'esl-reply'; rpc: number; result: unknown }
  | { t: 'metrics'; req: number }
  | { t: 'log-level'; level: string }
  | { t: 'close' };

export type FromWorker =
  | { t: 'ready'; port: number }
  | { t: 'listen-failed'; message: string }
  | { t: 'started'; id: string }
  | { t: 'start-failed'; id: string; code: string; message: string }
  | { t: 'stopped'; id: string }
  | { t: 'ended'; id: string; why: BotLegEnd }
  | { t: 'request'; id: string; r: BotRequest }
  | { t: 'esl'; rpc: number; method: EslMethod; args: unknown[] }
  | { t: 'metrics'; req: number; snapshot: MetricSnapshot[] }
  | { t: 'log'; line: string };
