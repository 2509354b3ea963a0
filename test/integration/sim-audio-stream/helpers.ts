import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StreamChannelPort } from '../../../src/sim/freeswitch/audio-stream/port.js';

/** A channel stand-in that records what the module does to it. */
export class FakePort implements StreamChannelPort {
  readonly customs: Array<{ sub: string; body: string }> = [];
  readonly events: Array<{ name: string; headers: Record<string, string> }> = [];
  readonly ear: Array<{ pcm: Int16Array; rateHz: number }> = [];
  /** Everything in call order: 'custom:<sub>' / 'event:<name>' / 'preAnswer'. */
  readonly log: string[] = [];
  preAnswered = 0;
  private readonly cbs = new Set<(pcm: Int16Array) => void>();
  constructor(readonly uuid: string, readonly tempDir: string, private readonly vars: Record<string, string> = {}) {}
  getVar(name: string): string | undefined { return this.vars[name]; }
  fireCustom(subclass: string, body: string): void { this.customs.push({ sub: subclass, body }); this.log.push(`custom:${subclass}`); }
  fireEvent(name: string, headers: Record<string, string>): void { this.events.push({ name, headers }); this.log.push(`event:${name}`); }
  preAnswer(): void { this.preAnswered++; this.log.push('preAnswer'); }
  onReadFrame(cb: (pcm8k: Int16Array) => void): () => void { this.cbs.add(cb); return () => this.cbs.delete(cb); }
  writeToEar(pcm: Int16Array, sampleRateHz: number): void { this.ear.push({ pcm, rateHz: sampleRateHz }); }
  get subscribers(): number { return this.cbs.size; }
  /** Delivers `n` 20 ms frames of a ramp, synchronously (stands in for the media clock). */
  feed(n: number): void {
    for (let i = 0; i < n; i++) {
      const pcm = new Int16Array(160).map((_, j) => j);
      for (const cb of [...this.cbs]) cb(pcm);
    }
  }
  customsOf(sub: string): string[] { return this.customs.filter((c) => c.sub === sub).map((c) => c.body); }
}

/** Polls `cond` (not a timing assertion): bounded to `maxMs` of wall time. */
export async function until(cond: () => boolean, what: string, maxMs = 5000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface ServerConn {
  ws: WebSocket;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  msgs: Array<{ binary: boolean; data: Buffer }>;
  closed?: { code: number; reason: string };
  pongs: number;
}

/** A `ws` server on 127.0.0.1:0 that records every connection. */
export async function startWsServer(): Promise<{ wss: WebSocketServer; port: number; conns: ServerConn[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const conns: ServerConn[] = [];
  wss.on('connection', (ws, req) => {
    const c: ServerConn = { ws, url: req.url ?? '', headers: req.headers, msgs: [], pongs: 0 };
    conns.push(c);
    ws.on('message', (data, isBinary) => c.msgs.push({ binary: isBinary, data: Buffer.from(data as Buffer) }));
    ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString() }; });
    ws.on('pong', () => { c.pongs++; });
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const addr = wss.address();
  if (addr === null || typeof addr === 'string') throw new Error('unexpected address');
  return { wss, port: addr.port, conns };
}

/** A raw TCP listener: hands each socket to `onSocket`. */
export async function startRawServer(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => { sockets.push(s); onSocket(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('unexpected address');
  return { server, port: addr.port, sockets };
}

/** A loopback port with nothing listening (bound, then released). */
export async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('unexpected address');
  return addr.port;
}

/** Decodes masked client frames (opcode + unmasked payload); returns the frames and leftover bytes. */
export function decodeClientFrames(b: Buffer): { frames: Array<{ opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames = [];
  let o = 0;
  for (;;) {
    if (b.length - o < 2) break;
    let len = b[o + 1]! & 0x7f;
    let h = 2;
    if (len === 126) { if (b.length - o < 4) break; len = b.readUInt16BE(o + 2); h = 4; }
    else if (len === 127) { if (b.length - o < 10) break; len = Number(b.readBigUInt64BE(o + 2)); h = 10; }
    if (b.length - o < h + 4 + len) break;
    const mask = b.subarray(o + h, o + h + 4);
    const payload = Buffer.from(b.subarray(o + h + 4, o + h + 4 + len));
    for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
    frames.push({ opcode: b[o]! & 0x0f, payload });
    o += h + 4 + len;
  }
  return { frames, rest: b.subarray(o) };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-as-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
