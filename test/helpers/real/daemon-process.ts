// fsbridge started as a user starts it: `fsbridge run --config FILE`, as its own process.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Proc } from '../process.js';
import type { CallRecord } from '../../../src/calls/call-record.js';

export const API_TOKEN = 'real-test-token';

export interface DaemonProcessOptions {
  /** The configuration without `api` and `calls.recordFile` (added here). */
  yaml: string;
  env?: Record<string, string>;
  /** Extra `calls:` keys, as YAML flow entries (e.g. `drainTimeoutMs: 2000`). */
  calls?: string;
}

/** A running `fsbridge run`. */
export class DaemonProcess {
  proc!: Proc;
  apiPort = 0;
  readonly recordFile: string;
  readonly configFile: string;

  private constructor(readonly dir: string) {
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
    writeFileSync(d.configFile, `${o.yaml}
api: { listen: "127.0.0.1:0", token: ${API_TOKEN}, twilio: { accountSid: ACrealtest, authToken: real-auth } }
calls: { recordFile: ${JSON.stringify(d.recordFile)}${o.calls ? `, ${o.calls}` : ''} }
`);
    d.env = o.env ?? {};
    await d.startProcess();
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
    const r = await this.request('GET', '/v1/calls');
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
