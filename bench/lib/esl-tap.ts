/**
 * A TCP pass-through in front of an ESL server (loopback) that counts the commands a client sends
 * and times each reply: how busy fsbridge's control connection is during a campaign. ESL answers
 * commands in order (`command/reply`, `api/response`), so replies are matched to commands FIFO;
 * events in between are skipped by their Content-Length. Lifecycle: listen(), close() (idempotent).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the tap saw since the last reset. */
export interface EslTapStats {
  /** Commands by verb (`bgapi originate`, `filter`, …). */
  byVerb: Record<string, number>;
  commands: number;
  /** ms from a command passing the tap to its reply passing it (the server's part of the round trip). */
  replyMs: number[];
  /** ms from a reply passing the tap to the client's next command, when it came within 100 ms (the client's turnaround). */
  turnaroundMs: number[];
  /** First and last command (epoch ms). */
  firstAtMs: number;
  lastAtMs: number;
}

/** Most samples kept per list. */
const MAX_SAMPLES = 100_000;
const epochNow = (): number => performance.timeOrigin + performance.now();

export class EslTap {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private s: EslTapStats = EslTap.empty();

  constructor(private readonly target: { host: string; port: number }) {}

  private static empty(): EslTapStats {
    return { byVerb: {}, commands: 0, replyMs: [], turnaroundMs: [], firstAtMs: 0, lastAtMs: 0 };
  }

  /** Starts listening on 127.0.0.1 (a free port); resolves with it. */
  async listen(): Promise<number> {
    const server = createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    const a = server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** The figures so far; `reset` starts counting afresh. */
  stats(reset = false): EslTapStats {
    const s = this.s;
    if (reset) this.s = EslTap.empty();
    return s;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server?.close();
    this.server = null;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    // both ends of the real connection set TCP_NODELAY; without it here, a reply written after an
    // event would wait for the delayed ACK of the event (~40 ms)
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client).add(upstream);
    const sent: number[] = [];
    let lastReplyAt = 0;
    let out = '';
    let back: Buffer = Buffer.alloc(0);
    client.on('data', (b: Buffer) => {
      upstream.write(b);
      out += b.toString('latin1');
      for (let end = out.indexOf('\n\n'); end >= 0; end = out.indexOf('\n\n')) {
        const line = out.slice(0, end).split('\n', 1)[0].trim();
        out = out.slice(end + 2);
        if (line === '') continue;
        const at = epochNow();
        const words = line.split(' ');
        const verb = words[0] === 'bgapi' || words[0] === 'api' ? `${words[0]} ${words[1] ?? ''}` : words[0];
        this.s.byVerb[verb] = (this.s.byVerb[verb] ?? 0) + 1;
        this.s.commands++;
        if (this.s.firstAtMs === 0) this.s.firstAtMs = at;
        this.s.lastAtMs = at;
        if (lastReplyAt > 0 && at - lastReplyAt < 100 && this.s.turnaroundMs.length < MAX_SAMPLES) this.s.turnaroundMs.push(at - lastReplyAt);
        sent.push(at);
      }
    });
    upstream.on('data', (b: Buffer) => {
      client.write(b);
      back = back.length ? Buffer.concat([back, b]) : b;
      for (;;) {
        const end = back.indexOf('\n\n');
        if (end < 0) break;
        const head = back.subarray(0, end).toString('latin1');
        const len = Number(/^Content-Length:\s*(\d+)/mi.exec(head)?.[1] ?? 0);
        if (back.length < end + 2 + len) break;
        back = back.subarray(end + 2 + len);
        if (/^Content-Type:\s*(command\/reply|api\/response)/mi.test(head) && sent.length > 0) {
          const at = epochNow();
          const t = sent.shift()!;
          if (this.s.replyMs.length < MAX_SAMPLES) this.s.replyMs.push(at - t);
          lastReplyAt = at;
        }
      }
    });
    const end = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}
