/**
 * RTP (RFC 3550) for the twin's sofia channels: packet codec (pure), a bounded inbound queue that
 * is the channel's caller audio source, and a UDP endpoint that sends one 20 ms G.711 packet per
 * media-clock tick.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { SampleSource } from '../audio-source.js';
import { decodeG711, encodeG711, type G711Codec } from './g711.js';

/** A parsed RTP packet. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Builds an RTP packet: version 2, no padding, extension or CSRCs. */
export function buildRtp(p: RtpPacket): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  h.writeUInt16BE(p.sequence & 0xffff, 2);
  h.writeUInt32BE(p.timestamp >>> 0, 4);
  h.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([h, p.payload]);
}

/** Parses an RTP packet (CSRCs, extension and padding skipped); undefined if not version 2 or short. */
export function parseRtp(b: Buffer): RtpPacket | undefined {
  if (b.length < 12 || b[0] >> 6 !== 2) return undefined;
  const cc = b[0] & 0x0f;
  let off = 12 + 4 * cc;
  if (b[0] & 0x10) {
    if (b.length < off + 4) return undefined;
    off += 4 + 4 * b.readUInt16BE(off + 2);
  }
  let end = b.length;
  if (b[0] & 0x20) end -= b[b.length - 1];
  if (off > end) return undefined;
  return {
    payloadType: b[1] & 0x7f,
    marker: (b[1] & 0x80) !== 0,
    sequence: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(off, end),
  };
}

/**
 * The caller audio of a sofia channel: decoded RTP in arrival order, bounded (oldest dropped);
 * silence when nothing arrived (the media clock never stalls). Never ends.
 */
export class RtpCallerSource implements SampleSource {
  readonly fileType = undefined;
  readonly ended = false;
  private queue: Int16Array[] = [];
  private queued = 0;
  /** Samples dropped because the queue was full. */
  dropped = 0;
  constructor(private readonly maxSamples = 8000) {}

  push(pcm: Int16Array): void {
    this.queue.push(pcm);
    this.queued += pcm.length;
    while (this.queued > this.maxSamples && this.queue.length > 0) {
      const first = this.queue.shift() as Int16Array;
      this.queued -= first.length;
      this.dropped += first.length;
    }
  }

  read(n: number): Int16Array {
    const out = new Int16Array(n);
    let o = 0;
    while (o < n && this.queue.length > 0) {
      const head = this.queue[0];
      const k = Math.min(head.length, n - o);
      out.set(head.subarray(0, k), o);
      o += k;
      this.queued -= k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    return out;
  }
}

/** Where and how to send: set once the SDP exchange completed. */
export interface RtpRemote {
  ip: string; port: number; codec: G711Codec; pt: number;
  /** telephone-event payload type (RFC 4733), if negotiated. */
  dtmfPt?: number;
}

const DTMF_DIGITS = '0123456789*#ABCD';

/** An RFC 4733 telephone-event payload: digit (0-9 * # A-D), end bit, duration in samples. undefined if not a DTMF digit. */
export function parseTelephoneEvent(payload: Buffer): { digit: string; end: boolean; durationSamples: number } | undefined {
  if (payload.length < 4 || payload[0] >= DTMF_DIGITS.length) return undefined;
  return { digit: DTMF_DIGITS[payload[0]], end: (payload[1] & 0x80) !== 0, durationSamples: payload.readUInt16BE(2) };
}

/**
 * One channel's RTP socket. bind() picks a port; received packets with the negotiated payload
 * type are decoded into `caller`; sendFrame() sends one packet (sequence +1, timestamp +160).
 */
export class RtpEndpoint {
  readonly caller = new RtpCallerSource();
  private sock: Socket | undefined;
  private remote: RtpRemote | undefined;
  private seq: number;
  private ts: number;
  readonly ssrc: number;
  private first = true;
  packetsIn = 0;
  packetsOut = 0;
  /** Called once per received DTMF digit (at its first end packet; end retransmissions are ignored). */
  onDtmf: (digit: string, durationSamples: number) => void = () => {};
  private lastDtmfTs: number | undefined;

  constructor(private readonly host: string, rand: () => number = Math.random) {
    this.seq = Math.floor(rand() * 0x10000);
    this.ts = Math.floor(rand() * 0x100000000);
    this.ssrc = Math.floor(rand() * 0x100000000) >>> 0;
  }

  /** Binds a UDP port on the profile's rtp-ip; resolves with the port. */
  bind(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
      this.sock = s;
      s.once('error', reject);
      s.on('message', (b) => this.onPacket(b));
      s.bind(0, this.host, () => {
        s.off('error', reject);
        s.on('error', () => {});
        resolve(s.address().port);
      });
    });
  }

  /** Sets (or changes) the negotiated remote. */
  setRemote(r: RtpRemote): void { this.remote = r; }

  private onPacket(b: Buffer): void {
    const r = this.remote;
    const p = parseRtp(b);
    if (!p || !r) return;
    if (r.dtmfPt !== undefined && p.payloadType === r.dtmfPt) {
      const ev = parseTelephoneEvent(p.payload);
      if (ev?.end && p.timestamp !== this.lastDtmfTs) {
        this.lastDtmfTs = p.timestamp;
        this.onDtmf(ev.digit, ev.durationSamples);
      }
      return;
    }
    if (p.payloadType !== r.pt) return;
    this.packetsIn++;
    this.caller.push(decodeG711(r.codec, p.payload));
  }

  /** Sends one 20 ms frame (160 samples at 8 kHz) of what the channel plays; no-op until the remote is known. */
  sendFrame(pcm: Int16Array): void {
    const r = this.remote;
    const s = this.sock;
    if (!r || !s || r.port === 0) return;
    const pkt = buildRtp({ payloadType: r.pt, marker: this.first, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc, payload: encodeG711(r.codec, pcm) });
    this.first = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + pcm.length) >>> 0;
    this.packetsOut++;
    s.send(pkt, r.port, r.ip);
  }

  /**
   * Sends one RFC 4733 digit: a start packet (marker) and three end packets, all with the
   * timestamp of the event start; media timestamps move on by the duration. No-op without a
   * negotiated telephone-event type.
   */
  sendDtmf(digit: string, durationSamples = 800): void {
    const r = this.remote;
    const s = this.sock;
    const code = DTMF_DIGITS.indexOf(digit.toUpperCase());
    if (!r || !s || r.dtmfPt === undefined || code < 0 || r.port === 0) return;
    const dur = Math.max(160, Math.min(0xffff, durationSamples));
    const steps: [boolean, number][] = [[false, 160], [true, dur], [true, dur], [true, dur]];
    for (const [end, d] of steps) {
      const payload = Buffer.from([code, (end ? 0x80 : 0) | 10, d >> 8, d & 0xff]);
      s.send(buildRtp({ payloadType: r.dtmfPt, marker: !end, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc, payload }), r.port, r.ip);
      this.seq = (this.seq + 1) & 0xffff;
    }
    this.ts = (this.ts + dur) >>> 0;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    const s = this.sock;
    this.sock = undefined;
    if (s) { try { s.close(); } catch { /* already closed */ } }
  }
}
