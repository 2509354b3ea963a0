import { randomBytes } from 'node:crypto';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/**
 * Encodes one masked client frame with FIN set, as libwsc sends every message (one frame per audio
 * message; the capture shows `82 fe 01 40` + 4 mask bytes for a 320-byte binary frame). RSV1 is never
 * set: the captured build offers no permessage-deflate. `mask` is injectable for byte-exact tests.
 */
export function encodeClientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array = randomBytes(4)): Buffer {
  const len = payload.length;
  const extLen = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + extLen + 4 + len);
  out[0] = 0x80 | (opcode & 0x0f);
  if (extLen === 0) out[1] = 0x80 | len;
  else if (extLen === 2) { out[1] = 0x80 | 126; out.writeUInt16BE(len, 2); }
  else { out[1] = 0x80 | 127; out.writeBigUInt64BE(BigInt(len), 2); }
  const m = 2 + extLen;
  out[m] = mask[0]!; out[m + 1] = mask[1]!; out[m + 2] = mask[2]!; out[m + 3] = mask[3]!;
  const p = m + 4;
  for (let i = 0; i < len; i++) out[p + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** Close payload: 2-byte big-endian code + UTF-8 reason (RFC 6455 §5.5.1). */
export function encodeClosePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8');
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** One complete message or control frame received from the server. */
export type ServerFrame =
  | { type: 'text'; data: Buffer }
  | { type: 'binary'; data: Buffer }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  /** code 1005 when the close frame had no payload (RFC 6455 §7.1.5). */
  | { type: 'close'; code: number; reason: string };

/** A protocol violation by the server: the libwsc error code and the close code to send. */
export interface FrameError { errorCode: number; closeCode: number; message: string }

/** libwsc ErrorCode values used by the twin. */
export const WSC_ERROR = { IO: 1, INVALID_HEADER: 2, SERVER_MASKED: 3, NOT_SUPPORTED: 4, PING_TIMEOUT: 5, CONNECT_FAILED: 6, TIMEOUT: 10, PROTOCOL: 11 } as const;

/**
 * Incremental parser of server→client frames. Feed any chunking; it reassembles fragmented messages.
 * Bounded: a message over `maxMessageBytes` is a protocol error (1009). After an error it stays failed.
 */
export class ServerFrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private fragOpcode = -1;
  private frags: Buffer[] = [];
  private fragBytes = 0;
  private failed: FrameError | undefined;

  constructor(private readonly maxMessageBytes = 16 * 1024 * 1024) {}

  /** Appends bytes; returns the frames completed by them, or the first protocol error. */
  push(chunk: Uint8Array): { frames: ServerFrame[]; error?: FrameError } {
    const frames: ServerFrame[] = [];
    if (this.failed) return { frames, error: this.failed };
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const r = this.next();
      if (r === undefined) break;
      if (r !== null && 'errorCode' in r) { this.failed = r; this.buf = Buffer.alloc(0); return { frames, error: r }; }
      if (r !== null) frames.push(r);
    }
    return { frames };
  }

  // undefined = need more bytes; null = consumed a fragment without completing a message.
  private next(): ServerFrame | FrameError | null | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    const rsv = b[0]! & 0x70;
    const opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    let len = b[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2); off = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.maxMessageBytes)) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1009, message: 'WebSocket protocol error (1009): message too big' };
      len = Number(big); off = 10;
    }
    if (rsv !== 0) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): reserved bits set' };
    if (masked) return { errorCode: WSC_ERROR.SERVER_MASKED, closeCode: 1002, message: 'Server frames must not be masked' };
    const isControl = (opcode & 0x08) !== 0;
    if (isControl && (!fin || len > 125)) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): bad control frame' };
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): unknown opcode' };
    if (len > this.maxMessageBytes || this.fragBytes + len > this.maxMessageBytes) {
      return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1009, message: 'WebSocket protocol error (1009): message too big' };
    }
    if (b.length < off + len) return undefined;
    const payload = Buffer.from(b.subarray(off, off + len));
    this.buf = b.subarray(off + len);
    if (isControl) {
      if (opcode === OPCODE.ping) return { type: 'ping', data: payload };
      if (opcode === OPCODE.pong) return { type: 'pong', data: payload };
      if (payload.length === 0) return { type: 'close', code: 1005, reason: '' };
      if (payload.length === 1) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): bad close payload' };
      return { type: 'close', code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
    }
    if (opcode === OPCODE.continuation) {
      if (this.fragOpcode < 0) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): unexpected continuation' };
      this.frags.push(payload); this.fragBytes += payload.length;
      if (!fin) return null;
      const data = Buffer.concat(this.frags);
      const op = this.fragOpcode;
      this.fragOpcode = -1; this.frags = []; this.fragBytes = 0;
      return op === OPCODE.text ? { type: 'text', data } : { type: 'binary', data };
    }
    if (this.fragOpcode >= 0) return { errorCode: WSC_ERROR.PROTOCOL, closeCode: 1002, message: 'WebSocket protocol error (1002): expected continuation' };
    if (!fin) { this.fragOpcode = opcode; this.frags = [payload]; this.fragBytes = payload.length; return null; }
    return opcode === OPCODE.text ? { type: 'text', data: payload } : { type: 'binary', data: payload };
  }
}
