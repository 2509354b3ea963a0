// The daemon in this process with both twins: the FreeSWITCH twin (ESL and its SIP profile) and
// the drachtio-server twin, linked as in production. `yaml` adds the rest of the configuration
// (trunks, bots, tenants...); the common sections come from here.
import { join } from 'node:path';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Daemon, type DaemonPorts } from '../../src/daemon.js';
import { FreeswitchTwin } from '../../src/sim/freeswitch/index.js';
import { startTwin } from '../integration/sip/srf-helpers.js';
import { ROOT } from './process.js';
import { until } from './harness.js';

export interface TwinDaemon {
  daemon: Daemon;
  fs: FreeswitchTwin;
  drachtio: Awaited<ReturnType<typeof startTwin>>;
  ports: DaemonPorts;
  dir: string;
  /** The configuration text, for an API port (the CLI needs the real one). */
  configText(apiPort: number): string;
  /** An API request with a bearer key (default: the admin token `tok`); JSON parsed when it is JSON. */
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
}

/** `yaml` may be a function of the test's directory (for files the configuration names). */
export async function startTwinDaemon(t: Test, yaml: string | ((dir: string) => string)): Promise<TwinDaemon> {
  const dir = t.testdir();
  const drachtio = await startTwin();
  t.teardown(() => drachtio.close());
  const fs = new FreeswitchTwin({ port: 0, dialplanDir: `${ROOT}dialplans`, logger: silentLogger(), tempDir: join(dir, 'fs'), sip: { host: '127.0.0.1', port: 0 } });
  await fs.start();
  t.teardown(() => fs.close());
  const configText = (apiPort: number) => `
freeswitch: { esl: { port: ${fs.port}, password: ClueCon }, outboundSocket: { port: 0 } }
media: { listen: "127.0.0.1:0" }
api: { listen: "127.0.0.1:${apiPort}", token: tok }
drachtio: { host: 127.0.0.1, port: ${drachtio.adminPort}, secret: cymru, sipProfileUri: "sip:127.0.0.1:${fs.sipPort}" }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
${typeof yaml === 'string' ? yaml : yaml(dir)}`;
  const loaded = loadConfig({ text: configText(0), env: {} });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const daemon = new Daemon({ config: loaded.config, logger: silentLogger() });
  t.teardown(() => daemon.close());
  const ports = await daemon.start();
  await daemon.ready;
  await fs.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${ports.outboundSocket}`);
  await until(() => daemon.metrics.gauge('fsbridge_drachtio_connected', '').get() === 1, 5000, 'the drachtio link');
  const api = async (method: string, path: string, body?: unknown, key = 'tok') => {
    const r = await fetch(`http://127.0.0.1:${ports.api}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown = text;
    try { json = JSON.parse(text); } catch { /* CSV or text */ }
    return { status: r.status, body: json as any };
  };
  return { daemon, fs, drachtio, ports, dir, configText, api };
}
