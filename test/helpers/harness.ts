import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Daemon } from '../../src/daemon.js';
import { FreeswitchTwin } from '../../src/sim/freeswitch/index.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Call } from '../../src/calls/call.js';
import type { CallRecord } from '../../src/calls/call-record.js';
import { ROOT } from './process.js';

export interface Harness {
  twin: FreeswitchTwin;
  daemon: Daemon;
  dir: string;
  /** Originates `loopback/<extension><bot>/default &park` (extension `bot-` by default) with extra channel variables; resolves the fsbridge call. */
  call(bot: string, vars?: string[], extension?: string): Promise<{ call: Call; aLeg: string; ended: Promise<CallRecord> }>;
  close(): Promise<void>;
}

/**
 * The FreeSWITCH twin (running the shipped dialplans/) and the daemon in this process, on loopback
 * with free ports. `botsYaml` is the `bots:` section; `extraYaml` more top-level keys.
 */
export async function startHarness(botsYaml: string, opts: { playback?: 'pipe' | 'file' | 'stream'; extraYaml?: string; workers?: number; storeUrl?: string; storeYaml?: string; env?: Record<string, string> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-h-'));
  const twin = new FreeswitchTwin({
    host: '127.0.0.1', port: 0, password: 'ClueCon', dialplanDir: join(ROOT, 'dialplans'),
    logger: silentLogger(), playback: opts.playback === 'stream' ? 'stream' : 'file', tempDir: join(dir, 'fs-tmp'),
  });
  await twin.start();
  const text = `
freeswitch:
  esl: { host: 127.0.0.1, port: ${twin.port}, password: ClueCon }
  outboundSocket: { host: 127.0.0.1, port: 0 }
  playback: ${opts.playback ?? 'file'}
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))}, workers: ${opts.workers ?? 0} }
api: { listen: "127.0.0.1:0", token: test-token, twilio: { accountSid: ACtest, authToken: secret } }
calls: { recordFile: ${JSON.stringify(join(dir, 'calls.jsonl'))}, drainTimeoutMs: 1000 }
store: { url: ${JSON.stringify(opts.storeUrl ?? `sqlite:${join(dir, 'fsbridge.db')}`)}${opts.storeYaml ? `, ${opts.storeYaml}` : ''} }
bots:
${botsYaml}
${opts.extraYaml ?? ''}`;
  const loaded = loadConfig({ text, env: opts.env ?? {} });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const daemon = new Daemon({ config: loaded.config, logger: silentLogger() });
  const ports = await daemon.start();
  await daemon.ready;
  await twin.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${ports.outboundSocket}`);
  return {
    twin, daemon, dir,
    async call(bot, vars = ['sim_caller_tone=440'], extension = 'bot-') {
      const got = new Promise<Call>((resolve) => daemon.calls.once('call', resolve));
      const reply = await twin.api(`originate {${vars.join(',')}}loopback/${extension}${bot}/default &park`);
      const aLeg = /^\+OK (\S+)/.exec(reply)?.[1];
      if (!aLeg) throw new Error(`originate failed: ${reply}`);
      const call = await got;
      const ended = new Promise<CallRecord>((resolve) => call.once('ended', resolve));
      return { call, aLeg, ended };
    },
    async close() {
      await daemon.close();
      await twin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `pred()` is true, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
