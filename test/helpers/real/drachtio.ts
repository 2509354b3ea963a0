// An isolated real drachtio-server for one test file, started with realfs's drachtio.sh (admin
// port and SIP contact on 127.0.0.1, as docs/drachtio.md's drachtio.conf.xml has them).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { runRealfsScript } from './realfs.js';
import { freeSipPort, freeTcpPort } from './ports.js';

export class RealDrachtio {
  adminPort = 0;
  /** SIP port (udp + tcp) on 127.0.0.1. */
  sipPort = 0;
  pid = 0;

  private constructor(readonly dir: string, readonly secret: string) {}

  /** Starts drachtio-server; stopped in teardown. */
  static async start(t: Test, secret = 'cymru'): Promise<RealDrachtio> {
    const d = new RealDrachtio(mkdtempSync(join(tmpdir(), 'fsbridge-drachtio-')), secret);
    t.teardown(async () => {
      await d.stop();
      if (process.env.FSBRIDGE_KEEP_REALFS) t.comment(`kept ${d.dir}`); else rmSync(d.dir, { recursive: true, force: true });
    });
    d.adminPort = await freeTcpPort();
    d.sipPort = await freeSipPort();
    await d.startProcess();
    return d;
  }

  /** Starts (again) on the same ports. */
  async startProcess(): Promise<void> {
    const out = await runRealfsScript('drachtio.sh', [
      'start', '--dir', this.dir, '--admin-port', String(this.adminPort), '--sip-port', String(this.sipPort),
      '--secret', this.secret, '--loglevel', 'info',
    ], 60_000);
    this.pid = Number(out.trim().split('\n').pop());
  }

  /** SIGTERM then SIGKILL (drachtio.sh stop). Safe to repeat. */
  async stop(): Promise<void> {
    if (existsSync(this.dir)) await runRealfsScript('drachtio.sh', ['stop', '--dir', this.dir], 30_000).catch(() => {});
  }

  /** SIGKILL, as a crash would. */
  kill(): void {
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  logTail(lines = 40): string {
    const f = join(this.dir, 'log', 'drachtio.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n') : '';
  }
}
