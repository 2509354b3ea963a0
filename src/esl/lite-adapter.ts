import type { EslFrame } from './frame-parser.js';
import type { FsEvent } from './events.js';

/**
 * Shapes that esl-lite's FreeSwitchResponse reads from its transport (esl-lite 3.2.0, esl-lite.mjs:
 * `FreeSwitchResponse.connect` reads `ev.event`, `ev.headers.replyText`, `ev.body` (Buffer for replies,
 * a Body with `data`, `jobUUID`, `applicationUUID`, `response` for events)). esl-lite does not export
 * its Headers/Body classes, so fsbridge builds objects with the same fields from its own frames.
 */
export interface LiteHeaders {
  contentType?: string;
  contentLength?: number;
  replyText?: string;
  eventName?: string;
  socketMode?: string;
  control?: string;
  has(name: string): boolean;
  get(name: string): string | undefined;
}

export interface LiteBody {
  data: Record<string, unknown>;
  eventName?: string;
  applicationUUID?: string;
  jobUUID?: string;
  uniqueID?: string;
  response?: unknown;
}

export type LiteEvent =
  | { event: 'freeswitch_auth_request' | 'freeswitch_command_reply'; headers: LiteHeaders; body: Buffer }
  | { event: string; headers: LiteHeaders; body: LiteBody };

/** esl-lite's write request (lite.d.ts `WriteRequest`). */
export interface LiteWriteRequest {
  buf: Buffer;
  resolve: (outcome: undefined | Error) => void;
}

export function liteHeaders(frame: EslFrame): LiteHeaders {
  const h = frame.headers;
  const cl = h['Content-Length'];
  return {
    contentType: h['Content-Type'],
    contentLength: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined,
    replyText: h['Reply-Text'],
    eventName: h['Event-Name'],
    socketMode: h['Socket-Mode'],
    control: h['Control'],
    has: (n) => n in h,
    get: (n) => h[n],
  };
}

/**
 * The esl-lite view of an event that fsbridge already parsed into an FsEvent: no second parse and
 * no copy (`data` is the FsEvent's own header map; esl-lite reads it only for CUSTOM subclasses).
 */
export function liteEvent(frame: EslFrame, ev: FsEvent): LiteEvent {
  const data: Record<string, unknown> = ev.headers;
  return {
    event: ev.name,
    headers: liteHeaders(frame),
    body: {
      data,
      eventName: ev.name,
      applicationUUID: ev.headers['Application-UUID'],
      jobUUID: ev.headers['Job-UUID'],
      uniqueID: ev.uuid,
      response: ev.body,
    },
  };
}
