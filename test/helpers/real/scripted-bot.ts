// A bot the test drives by hand: a websocket server whose connections record what fsbridge sent
// and send whatever the test says (JSON, binary audio), or vanish without a close frame.
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/** One connection from fsbridge. */
export class BotConn {
  /** Every text message received, parsed (JSON) or raw. */
  readonly messages: Array<Record<string, any>> = [];
  binaryFrames = 0;
  /** Every binary message received (a native bot's caller audio), in order. */
  readonly binary: Buffer[] = [];
  closedWith: number | null = null;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) { this.binaryFrames++; this.binary.push(Buffer.from(data as Buffer)); }
      else {
        let m: Record<string, any>;
        try { m = JSON.parse(data.toString()) as Record<string, any>; } catch { m = { raw: data.toString() }; }
        this.messages.push(m);
      }
      this.wake();
    });
    ws.on('close', (code) => { this.closedWith = code; this.wake(); });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred()` holds (checked on every message and close); rejects after timeoutMs. */
  async until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`bot: timed out waiting for ${what}`);
      await new Promise<void>((r) => { const tm = setTimeout(r, Math.min(left, 200)); this.waiters.push(() => { clearTimeout(tm); r(); }); });
    }
  }

  /** The first message with this `event`, once it arrived. */
  async message(event: string, timeoutMs?: number): Promise<Record<string, any>> {
    await this.until(() => this.messages.some((m) => m.event === event), `"${event}"`, timeoutMs);
    return this.messages.find((m) => m.event === event)!;
  }

  send(obj: unknown): void { this.ws.send(JSON.stringify(obj)); }
  sendBinary(b: Buffer): void { this.ws.send(b); }
  /** Normal close (the bot hangs up). */
  close(code = 1000): void { this.ws.close(code); }
  /** The TCP connection drops without a close frame (a crashed bot). */
  kill(): void { this.ws.terminate(); }
}

/** A listening scripted bot. */
export class ScriptedBot {
  readonly conns: BotConn[] = [];
  private waiters: Array<(c: BotConn) => void> = [];

  private constructor(private wss: WebSocketServer, readonly url: string, private readonly port: number) {
    this.accept(wss);
  }

  private accept(wss: WebSocketServer): void {
    wss.on('connection', (ws) => {
      const c = new BotConn(ws);
      this.conns.push(c);
      for (const w of this.waiters.splice(0)) w(c);
    });
  }

  private static async listen(port: number): Promise<WebSocketServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve());
      wss.once('error', reject);
    });
    return wss;
  }

  static async start(t: Test): Promise<ScriptedBot> {
    const wss = await ScriptedBot.listen(0);
    const port = (wss.address() as AddressInfo).port;
    const bot = new ScriptedBot(wss, `ws://127.0.0.1:${port}/`, port);
    t.teardown(() => bot.close());
    return bot;
  }

  /** The next connection (after the `count` already seen). */
  next(timeoutMs = 15_000, count = this.conns.length): Promise<BotConn> {
    if (this.conns.length > count) return Promise.resolve(this.conns[count]);
    return new Promise((resolve, reject) => {
      const tm = setTimeout(() => reject(new Error('bot: no connection from fsbridge')), timeoutMs);
      this.waiters.push((c) => { clearTimeout(tm); resolve(c); });
    });
  }

  /**
   * The bot process dies: every connection drops without a close frame and the port is closed
   * (new connections are refused) until {@link restart}.
   */
  crash(): Promise<void> { return this.close(); }

  /** The bot comes back on the same port. */
  async restart(): Promise<void> {
    this.wss = await ScriptedBot.listen(this.port);
    this.accept(this.wss);
  }

  close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}
