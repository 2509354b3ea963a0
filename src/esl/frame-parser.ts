import type { EslErrorCode } from './error-codes.js';

/** One Event Socket frame as FreeSWITCH wrote it: a header block and an optional body. */
export interface EslFrame {
  /** Header lines in wire order, values exactly as sent (not URL-decoded). */
  readonly headerList: ReadonlyArray<readonly [string, string]>;
  /** First value of each header name (FreeSWITCH never repeats a frame header). */
  readonly headers: Readonly<Record<string, string>>;
  /** `Content-Type`, always present (a frame without one is rejected as ESL_BAD_FRAME). */
  readonly contentType: string;
  /** The body (`Content-Length` bytes), empty when there is none. */
  readonly body: Buffer;
}

/** Limits of {@link EslFrameParser}. */
export interface FrameParserLimits {
  /** Largest accepted Content-Length; FreeSWITCH itself uses 16 MiB (MAX_CONTENT_LENGTH). */
  maxContentLengthBytes: number;
  /** Largest accepted header block; the biggest real one (outbound connect reply) is about 6 KB. */
  maxHeaderBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameParserLimits = {
  maxContentLengthBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
};

/** The outcome of feeding bytes: complete frames, and at most one error that ends the stream. */
export interface FeedResult {
  frames: EslFrame[];
  error?: { code: Extract<EslErrorCode, 'ESL_BAD_FRAME' | 'ESL_FRAME_TOO_LARGE'>; detail: string };
}

const LF = 0x0a;
// Printable ASCII without ':' or space: variable names in the outbound connect reply are free-form.
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Pure incremental Event Socket frame parser: Buffer chunks in, frames out, for any split of the bytes.
 *
 * FreeSWITCH writes the header block and the body with separate send() calls
 * (mod_event_socket.c), so a frame, and even the `\n\n` that ends its header block, may be split
 * anywhere. The parser remembers whether the previous chunk ended with LF, so a terminator split as
 * `\n` | `\n` is found. Work is linear in the input (no rescanning, one copy per frame).
 * After an error the parser is dead: every later feed returns the same error (drop the connection).
 */
export class EslFrameParser {
  private limits: FrameParserLimits;
  private chunks: Buffer[] = [];
  private chunksLen = 0;
  /** Header mode: true while reading a header block. */
  private inHeader = true;
  private prevWasLf = false;
  private headerStarted = false;
  private header: { list: [string, string][]; map: Record<string, string>; contentType: string } | null = null;
  private bodyLen = 0;
  private dead: FeedResult['error'] | undefined;

  constructor(limits: Partial<FrameParserLimits> = {}) {
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
  }

  /**
   * Replaces the limits (unset ones: the defaults) for what is parsed from now on: a header block
   * being read is checked against the new ones, a body whose Content-Length was accepted keeps
   * its length. The outbound socket server keeps them small until the channel data is validated.
   */
  setLimits(limits: Partial<FrameParserLimits>): void {
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
  }

  /** Feeds one chunk; returns the frames it completed, and an error if the stream is bad. */
  feed(chunk: Buffer): FeedResult {
    const frames: EslFrame[] = [];
    if (this.dead) return { frames, error: this.dead };
    let data = chunk;
    while (data.length > 0) {
      if (this.inHeader) {
        // Skip blank lines between frames (FreeSWITCH sends none; tolerate them as its own reader does).
        if (!this.headerStarted) {
          let i = 0;
          while (i < data.length && (data[i] === LF || data[i] === 0x0d)) i++;
          data = data.subarray(i);
          if (data.length === 0) break;
          this.headerStarted = true;
          this.prevWasLf = false;
        }
        const end = this.findHeaderEnd(data);
        if (end < 0) {
          this.chunks.push(data);
          this.chunksLen += data.length;
          this.prevWasLf = data[data.length - 1] === LF;
          if (this.chunksLen > this.limits.maxHeaderBytes) return this.fail(frames, 'ESL_FRAME_TOO_LARGE', 'header block too long');
          break;
        }
        // `end` is the index in `data` of the second LF of the terminator.
        this.chunks.push(data.subarray(0, end + 1));
        this.chunksLen += end + 1;
        data = data.subarray(end + 1);
        if (this.chunksLen > this.limits.maxHeaderBytes + 2) return this.fail(frames, 'ESL_FRAME_TOO_LARGE', 'header block too long');
        const text = Buffer.concat(this.chunks, this.chunksLen).toString('utf8');
        this.chunks = [];
        this.chunksLen = 0;
        const parsed = parseHeaderBlock(text);
        if (typeof parsed === 'string') return this.fail(frames, 'ESL_BAD_FRAME', parsed);
        const cl = parsed.map['Content-Length'];
        let bodyLen = 0;
        if (cl !== undefined) {
          if (!/^\d{1,12}$/.test(cl)) return this.fail(frames, 'ESL_BAD_FRAME', 'bad Content-Length');
          bodyLen = Number(cl);
          if (bodyLen > this.limits.maxContentLengthBytes) return this.fail(frames, 'ESL_FRAME_TOO_LARGE', 'Content-Length over limit');
        }
        this.headerStarted = false;
        this.prevWasLf = false;
        if (bodyLen === 0) {
          frames.push({ headerList: parsed.list, headers: parsed.map, contentType: parsed.contentType, body: Buffer.alloc(0) });
          continue;
        }
        this.header = parsed;
        this.bodyLen = bodyLen;
        this.inHeader = false;
      } else {
        const need = this.bodyLen - this.chunksLen;
        if (data.length < need) {
          this.chunks.push(data);
          this.chunksLen += data.length;
          break;
        }
        this.chunks.push(data.subarray(0, need));
        data = data.subarray(need);
        const body = this.chunks.length === 1 ? Buffer.from(this.chunks[0]) : Buffer.concat(this.chunks, this.bodyLen);
        const h = this.header!;
        frames.push({ headerList: h.list, headers: h.map, contentType: h.contentType, body });
        this.chunks = [];
        this.chunksLen = 0;
        this.header = null;
        this.bodyLen = 0;
        this.inHeader = true;
      }
    }
    return { frames };
  }

  /** Bytes held for an incomplete frame (0 at a frame boundary). */
  get pendingBytes(): number {
    return this.chunksLen;
  }

  /** True when the stream stopped exactly at a frame boundary. */
  get atFrameBoundary(): boolean {
    return this.inHeader && !this.headerStarted && this.chunksLen === 0;
  }

  private findHeaderEnd(data: Buffer): number {
    let from = 0;
    for (;;) {
      const p = data.indexOf(LF, from);
      if (p < 0) return -1;
      const prev = p === 0 ? this.prevWasLf : data[p - 1] === LF;
      if (prev) return p;
      from = p + 1;
    }
  }

  private fail(frames: EslFrame[], code: 'ESL_BAD_FRAME' | 'ESL_FRAME_TOO_LARGE', detail: string): FeedResult {
    this.dead = { code, detail };
    this.chunks = [];
    this.chunksLen = 0;
    return { frames, error: this.dead };
  }
}

/**
 * Parses a header block (`Name: value` lines, LF separated, terminator included or not).
 * Returns a reason string when the block is not a FreeSWITCH frame header.
 */
export function parseHeaderBlock(text: string): { list: [string, string][]; map: Record<string, string>; contentType: string } | string {
  const list: [string, string][] = [];
  const map: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'header line without name';
    const name = line.slice(0, colon);
    if (!HEADER_NAME.test(name)) return 'bad header name';
    let v = colon + 1;
    while (line.charCodeAt(v) === 0x20) v++;
    const value = line.slice(v);
    list.push([name, value]);
    if (!(name in map)) map[name] = value;
  }
  const contentType = map['Content-Type'];
  if (contentType === undefined) return 'no Content-Type';
  return { list, map, contentType };
}
