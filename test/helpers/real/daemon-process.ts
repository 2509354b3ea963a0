// fsbridge started as a user starts it: `fsbridge run --config FILE`, as its own process.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Proc } from '../process.js';
import { until } from '../harness.js';
import type { CallRecord } from '../../../src/calls/call-record.js';
import type { RealFreeswitch } from './freeswitch.js';
import type { RealDrachtio } from './drachtio.js';

export const API_TOKEN = 'real-test-token';

export interface DaemonProcessOptions {
  /** The FreeSWITCH fsbridge controls: `freeswitch` and `media` sections are written from it. */
  fs: RealFreeswitch;
  /** With drachtio-server: the `drachtio` section; start() waits for the link. */
  drachtio?: RealDrachtio;
  /** The rest of the configuration (bots, trunks, routes...) without `api` and `calls.recordFile`. */
  yaml: string;
  /** More environment (the ESL password and drachtio secret are passed as env: references). */
  env?: Record<string, string>;
  /** freeswitch.playback (default: the daemon's default, pipe; the pipes go in the daemon's temp dir). */
  playback?: 'pipe' | 'file' | 'stream';
  /** Reconnect to FreeSWITCH quickly (fault tests restart it). */
  fastEslReconnect?: boolean;
  /** Extra `calls:` keys, as YAML flow entries (e.g. `drainTimeoutMs: 2000`). */
  calls?: string;
  /** store.url (default: an SQLite file in the daemon's directory). */
  storeUrl?: string;
  /** Extra `store:` keys, as YAML flow entries (e.g. `password: env:PGPASSWORD`). */
  storeYaml?: string;
}

/** The `log`, `freeswitch`, `media` (and `drachtio`) sections every real-program test writes. */
function commonYaml(o: DaemonProcessOptions, pipeDir: string): string {
  const { fs, drachtio } = o;
  const reconnect = o.fastEslReconnect ? ', reconnect: { initialDelayMs: 100, maxDelayMs: 500 }' : '';
  return `log: { level: info }
freeswitch:
  esl: { host: 127.0.0.1, port: ${fs.eslPort}, password: env:FSBRIDGE_ESL_PASSWORD${reconnect} }
  outboundSocket: { host: 127.0.0.1, port: ${fs.outboundSocketPort} }
${o.playback ? `  playback: ${o.playback}\n` : ''}media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(pipeDir)} }
${drachtio ? `drachtio: { host: 127.0.0.1, port: ${drachtio.adminPort}, secret: env:FSBRIDGE_DRACHTIO_SECRET, sipProfileUri: "sip:127.0.0.1:${fs.sipPort}" }\n` : ''}`;
}

/** A running `fsbridge run`. */
export class DaemonProcess {
  proc!: Proc;
  apiPort = 0;
  readonly recordFile: string;
  readonly configFile: string;
  /** media.pipeDir: FreeSWITCH (root here) reads the playback pipes from it. */
  readonly pipeDir: string;

  private constructor(readonly dir: string) {
    this.pipeDir = join(dir, 'pipes');
    this.recordFile = join(dir, 'calls.jsonl');
    this.configFile = join(dir, 'fsbridge.yaml');
  }

  /** Writes the configuration, starts the daemon, waits for `ready`. Killed in teardown. */
  static async start(t: Test, o: DaemonProcessOptions): Promise<DaemonProcess> {
    const d = new DaemonProcess(mkdtempSync(join(tmpdir(), 'fsbridge-daemon-')));
    t.teardown(async () => {
      await d.proc?.stop('SIGKILL');
      if (!t.passing() || process.env.FSBRIDGE_KEEP_REALFS) t.comment(`fsbridge log (last lines):\n${d.proc?.lines.slice(-60).join('\n')}`);
      rmSync(d.dir, { recursive: true, force: true });
    });
    writeFileSync(d.configFile, `${commonYaml(o, d.pipeDir)}${o.yaml}
api: { listen: "127.0.0.1:0", token: ${API_TOKEN}, twilio: { accountSid: ACrealtest, authToken: real-auth } }
calls: { recordFile: ${JSON.stringify(d.recordFile)}${o.calls ? `, ${o.calls}` : ''} }
store: { url: ${JSON.stringify(o.storeUrl ?? `sqlite:${join(d.dir, 'fsbridge.db')}`)}${o.storeYaml ? `, ${o.storeYaml}` : ''} }
`);
    d.env = { FSBRIDGE_ESL_PASSWORD: o.fs.password, ...(o.drachtio ? { FSBRIDGE_DRACHTIO_SECRET: o.drachtio.secret } : {}), ...o.env };
    await d.startProcess();
    if (o.drachtio) await until(() => d.logLines(/connected to drachtio-server/).length > 0, 10_000, 'the drachtio link');
    return d;
  }

  private env: Record<string, string> = {};

  /** Starts `fsbridge run` (again) with the same configuration. */
  async startProcess(): Promise<void> {
    this.proc = new Proc(['run', '--config', this.configFile], this.env);
    const bound = await this.proc.waitFor(/"msg":"listeners bound"/, 20_000);
    this.apiPort = (JSON.parse(bound) as { ports: { api: number } }).ports.api;
    await this.proc.waitFor(/"msg":"ready"/, 20_000);
  }

  /** An authenticated request to the HTTP API. */
  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const r = await fetch(`http://127.0.0.1:${this.apiPort}${path}`, {
      method, headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: parsed };
  }

  /** Live calls as GET /v1/calls lists them. */
  async liveCalls(): Promise<Array<Record<string, unknown>>> {
    const r = await this.request('GET', '/v1/calls?state=live');
    return (r.body as { calls: Array<Record<string, unknown>> }).calls;
  }

  /** A metric's value (sum over label sets matching `labels`), from /metrics. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await fetch(`http://127.0.0.1:${this.apiPort}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const text = await r.text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? ([-0-9.e+]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const l = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  /** The record written after the first `before` ones, once it is there. */
  async newRecord(before: number, what = 'the call record'): Promise<CallRecord> {
    await until(() => this.records().length > before, 15_000, what);
    return this.records()[before];
  }

  /** Whether /v1/calls lists no call (polled for up to 5 s). */
  async noLiveCalls(): Promise<boolean> {
    for (let i = 0; i < 50 && (await this.liveCalls()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    return (await this.liveCalls()).length === 0;
  }

  /** Every call record written so far. */
  records(): CallRecord[] {
    if (!existsSync(this.recordFile)) return [];
    return readFileSync(this.recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CallRecord);
  }

  /** Log lines (JSON) whose msg matches. */
  logLines(msg: RegExp): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const l of this.proc.lines) {
      if (!l.startsWith('{')) continue;
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        if (typeof o.msg === 'string' && msg.test(o.msg)) out.push(o);
      } catch { /* not JSON */ }
    }
    return out;
  }
}
