// A test-side ESL client for the real FreeSWITCH: modesl 1.2.1 (third party, independent of the
// daemon's own ESL code), for `api` commands and a few events.
import { createRequire } from 'node:module';

interface EslEvent { getHeader(name: string): string | undefined; getBody(): string }
interface ModeslConnection {
  api(cmd: string, cb: (res: EslEvent) => void): void;
  subscribe(events: string[], cb: () => void): void;
  on(ev: string, cb: (...a: unknown[]) => void): void;
  disconnect(): void;
}
// modesl 1.2.1 is CommonJS without type declarations.
const modesl = createRequire(import.meta.url)('modesl') as {
  Connection: new (host: string, port: number, password: string, cb: () => void) => ModeslConnection;
};

/** One authenticated inbound ESL connection. */
export class TestEsl {
  private constructor(private readonly c: ModeslConnection) {}

  /** Connects and authenticates; rejects on a socket error or after timeoutMs. */
  static connect(port: number, password: string, timeoutMs = 5000): Promise<TestEsl> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ESL 127.0.0.1:${port} did not authenticate within ${timeoutMs} ms`)), timeoutMs);
      const c = new modesl.Connection('127.0.0.1', port, password, () => { clearTimeout(timer); resolve(new TestEsl(c)); });
      c.on('error', (e) => { clearTimeout(timer); reject(e as Error); });
    });
  }

  /** `api <cmd>`; resolves with the body (FreeSWITCH's text, untrimmed). */
  api(cmd: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`api ${cmd} timed out`)), timeoutMs);
      this.c.api(cmd, (res) => { clearTimeout(timer); resolve(res.getBody()); });
    });
  }

  /** Subscribes (`event json <names>`) and calls `cb` with each event's header getter. */
  onEvents(names: string[], cb: (name: string, header: (h: string) => string | undefined) => void): Promise<void> {
    for (const n of names) this.c.on(`esl::event::${n}::*`, (ev) => cb(n, (h) => (ev as EslEvent).getHeader(h)));
    return new Promise((resolve) => this.c.subscribe(names, () => resolve()));
  }

  close(): void {
    try { this.c.disconnect(); } catch { /* already closed */ }
  }
}
