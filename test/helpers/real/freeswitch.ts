// An isolated real FreeSWITCH 1.10.12 (+ community mod_audio_stream) for one test file, set up
// with fsbridge's own freeswitch-conf/ and dialplans/ exactly as docs/freeswitch.md tells a user
// ("Install the files"), on free loopback ports. Started with realfs's freeswitch.sh.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { layFsbridgeConf, runRealfsScript } from '../../../bench/lib/realfs.js';
import { freeSipPort, freeTcpPort, freeRtpRange } from './ports.js';
import { TestEsl } from './esl-client.js';

export interface RealFreeswitchOptions {
  /** The port fsbridge's outbound-socket server will listen on (fsbridge_outbound_socket); default a free one. */
  outboundSocketPort?: number;
  /** ESL password (fsbridge_esl_password). Default a random one. */
  password?: string;
  /** Extra global variables (name=value). */
  vars?: string[];
  /** Extra files to lay under conf/ before the first start: relative path → content. */
  dropIns?: Record<string, string>;
  /** UDP ports for RTP (FreeSWITCH takes two per audio stream); default 60. */
  rtpPorts?: number;
}

/** A running real FreeSWITCH. */
export class RealFreeswitch {
  /** ESL port (fsbridge_esl_port). */
  eslPort = 0;
  /** Port of fsbridge's SIP profile `fsbridge` (fsbridge_sip_port). */
  sipPort = 0;
  /** Port of the template's `external` profile (unused by fsbridge; realfs needs it). */
  externalSipPort = 0;
  pid = 0;
  /** Where the dialplans' `socket ${fsbridge_outbound_socket}` connects: fsbridge's outbound socket. */
  outboundSocketPort = 0;
  private esl: TestEsl | null = null;
  private startArgs: string[] = [];

  private constructor(readonly dir: string, readonly password: string) {}

  /** Lays the configuration, starts FreeSWITCH, waits until the fsbridge profile runs. Stopped in teardown. */
  static async start(t: Test, o: RealFreeswitchOptions = {}): Promise<RealFreeswitch> {
    const dir = mkdtempSync(join(tmpdir(), 'fsbridge-realfs-'));
    const fs = new RealFreeswitch(dir, o.password ?? `pw${Math.random().toString(36).slice(2, 10)}`);
    t.teardown(async () => {
      await fs.stop();
      if (process.env.FSBRIDGE_KEEP_REALFS) t.comment(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
    });
    await runRealfsScript('freeswitch.sh', ['init', '--dir', dir]);
    layFsbridgeConf(join(dir, 'conf'));
    for (const [rel, content] of Object.entries(o.dropIns ?? {})) {
      mkdirSync(join(dir, 'conf', rel, '..'), { recursive: true });
      writeFileSync(join(dir, 'conf', rel), content);
    }
    fs.outboundSocketPort = o.outboundSocketPort ?? await freeTcpPort();
    fs.eslPort = await freeTcpPort();
    fs.sipPort = await freeSipPort();
    fs.externalSipPort = await freeSipPort();
    const rtp = await freeRtpRange(o.rtpPorts);
    fs.startArgs = [
      '--dir', dir, '--esl-port', String(fs.eslPort), '--sip-port', String(fs.externalSipPort),
      '--password', fs.password, '--rtp-ports', `${rtp.start}-${rtp.end}`,
      '--outbound-socket', `127.0.0.1:${fs.outboundSocketPort}`,
      // what a user edits in vars.fsbridge.xml: the ESL password and port, the profile's port
      '--var', `fsbridge_esl_password=${fs.password}`, '--var', `fsbridge_esl_port=${fs.eslPort}`,
      '--var', `fsbridge_sip_port=${fs.sipPort}`,
      ...(o.vars ?? []).flatMap((v) => ['--var', v]),
    ];
    await fs.startProcess();
    return fs;
  }

  /** Starts (again) on the same ports and configuration. */
  async startProcess(): Promise<void> {
    const out = await runRealfsScript('freeswitch.sh', ['start', ...this.startArgs], 90_000);
    this.pid = Number(out.trim().split('\n').pop());
    // freeswitch.sh waits for the template's `external` profile; fsbridge's profile starts beside it.
    for (let i = 0; i < 100; i++) {
      if (/^\s*fsbridge\s+profile\s.*RUNNING/m.test(await this.api('sofia status'))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`profile fsbridge not RUNNING:\n${await this.api('sofia status')}\n${this.logTail()}`);
  }

  /** `api <cmd>` over a test-side ESL connection (reconnected after a restart). */
  async api(cmd: string, timeoutMs?: number): Promise<string> {
    if (!this.esl) this.esl = await TestEsl.connect(this.eslPort, this.password);
    try {
      return await this.esl.api(cmd, timeoutMs);
    } catch (err) {
      this.esl.close();
      this.esl = null;
      throw err;
    }
  }

  /** Events of these names as they arrive (a live list), on a connection of their own. */
  async watch(names: string[]): Promise<Array<{ name: string; get: (h: string) => string | undefined }>> {
    const c = await TestEsl.connect(this.eslPort, this.password);
    this.watchers.push(c);
    const seen: Array<{ name: string; get: (h: string) => string | undefined }> = [];
    await c.onEvents(names, (name, get) => seen.push({ name, get }));
    return seen;
  }

  private watchers: TestEsl[] = [];

  /** Stops FreeSWITCH (fsctl shutdown, then signals). Safe to repeat. */
  async stop(): Promise<void> {
    for (const w of this.watchers.splice(0)) w.close();
    this.esl?.close();
    this.esl = null;
    if (existsSync(this.dir)) await runRealfsScript('freeswitch.sh', ['stop', '--dir', this.dir], 60_000).catch(() => {});
  }

  /** SIGKILL, as a crash would. */
  kill(): void {
    this.esl?.close();
    this.esl = null;
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  /** The last lines of freeswitch.log (for failure messages). */
  logTail(lines = 40): string {
    const f = join(this.dir, 'log', 'freeswitch.log');
    if (!existsSync(f)) return '';
    return readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Path for a file FreeSWITCH writes or reads (inside the instance folder). */
  path(name: string): string {
    return join(this.dir, name);
  }
}
