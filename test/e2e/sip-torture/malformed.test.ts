// Malformed SIP from the network (a handful of RFC 4475's torture messages) sent to the drachtio
// twin (with a drachtio-srf application routing invite/options) and to the FreeSWITCH twin's SIP
// profile. Each must be answered 400 (505 for SIP/7.0) when its Via is usable and dropped
// otherwise, as sofia-sip does; each bumps SIP_SIM_BAD_SIP_FROM_NETWORK; a valid OPTIONS right
// after still gets 200, and the application never sees a malformed request. Over TCP a negative
// Content-Length is answered 400 and the connection is closed (RFC 4475 §3.1.2.3).
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startTwin, connectSrf } from '../../integration/sip/srf-helpers.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { ROOT } from '../../helpers/process.js';
import { tortureMessages, validOptions, type Endpoints } from './messages.js';
import { UdpClient, TcpClient } from './sip-client.js';

const CODE = 'SIP_SIM_BAD_SIP_FROM_NETWORK';

/** Sends every torture message by UDP, each followed by a valid OPTIONS; checks the answers in order. */
async function tortureUdp(t: Test, targetPort: number, errors: () => number): Promise<string[]> {
  const c = new UdpClient();
  await c.start();
  t.teardown(() => c.close());
  const e: Endpoints = { targetPort, localPort: c.port, transport: 'UDP' };
  // Warm-up: the application's routes may not be in place yet (503 until they are).
  let ready = false;
  for (let i = 0; i < 40 && !ready; i++) {
    const p = validOptions(e);
    c.send(p.text, targetPort);
    ready = (await c.next((a) => a.branch === p.branch)).status === 200;
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(ready, 'a valid OPTIONS gets 200 before the torture');
  const probes: string[] = [];
  const before = errors();
  const msgs = tortureMessages(e);
  for (const m of msgs) {
    const from = c.answers.length;
    const p = validOptions(e);
    probes.push(p.callId);
    c.send(m.text, targetPort);
    c.send(p.text, targetPort);
    // The twin handles datagrams in order and answers a malformed one at once, so by the time the
    // probe's 200 is here every answer to `m` is too.
    const ok = await c.next((a) => a.branch === p.branch && a.status >= 200);
    t.equal(ok.status, 200, `${m.id}: a valid OPTIONS afterwards still gets 200`);
    const got = c.answers.slice(from).filter((a) => a.branch !== p.branch);
    if (m.expect === 'drop') t.same(got.map((a) => a.status), [], `${m.id} (${m.rfc}): dropped`);
    else t.same(got.map((a) => a.status), [m.expect], `${m.id} (${m.rfc}): answered ${m.expect}`);
    if (m.expect !== 'drop') t.equal(got[0]?.branch, m.branch, `${m.id}: the answer is to the malformed request`);
  }
  t.equal(errors() - before, msgs.length, `${CODE} counted once per malformed message`);
  return probes;
}

/** A valid OPTIONS over TCP, then a negative Content-Length: 400, then the connection is closed. */
async function tortureTcp(t: Test, targetPort: number, errors: () => number): Promise<void> {
  const c = new TcpClient();
  await c.connect(targetPort);
  t.teardown(() => c.close());
  const e: Endpoints = { targetPort, localPort: c.port, transport: 'TCP' };
  const p = validOptions(e);
  c.send(p.text);
  t.equal((await c.next((a) => a.branch === p.branch && a.status >= 200)).status, 200, 'TCP: a valid OPTIONS gets 200');
  const before = errors();
  const bad = tortureMessages(e).find((m) => m.id === 'cl-negative');
  if (!bad) throw new Error('catalogue lost cl-negative');
  c.send(bad.text);
  t.equal((await c.next((a) => a.branch === bad.branch)).status, 400, 'TCP: negative Content-Length answered 400');
  await c.closed;
  t.pass('TCP: the twin closed the connection (framing is unrecoverable)');
  t.equal(errors() - before, 1, `TCP: ${CODE} counted`);
}

t.test('drachtio twin with a drachtio-srf application', async (t) => {
  const metrics = new MetricsRegistry();
  const twin = await startTwin({ metrics });
  t.teardown(() => twin.close());
  const { srf, err } = await connectSrf(twin);
  t.error(err, 'srf connected');
  t.teardown(() => srf.disconnect());
  const seen: string[] = [];
  srf.options((req: any, res: any) => { seen.push(req.get('Call-ID')); res.send(200); });
  srf.invite((req: any, res: any) => { seen.push(req.get('Call-ID')); res.send(486); });
  const errors = (): number => metrics.errorCount(CODE);
  const probes = await tortureUdp(t, twin.sipPort, errors);
  t.ok(probes.every((id) => seen.includes(id)), 'the application got every valid OPTIONS');
  const malformed = new Set(tortureMessages({ targetPort: 0, localPort: 0, transport: 'UDP' }).map((m) => m.id));
  t.notOk(seen.some((id) => [...malformed].some((m) => id.includes(`torture-${m}-`))), 'the application never saw a malformed request');
  await tortureTcp(t, twin.sipPort, errors);
  t.notOk(seen.some((id) => id.includes('torture-cl-negative')), 'nor the TCP one');
});

t.test('FreeSWITCH twin SIP profile', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-torture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let count = 0;
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => { if (line.includes(`"code":"${CODE}"`)) count++; } } });
  const fs = new FreeswitchTwin({ port: 0, dialplanDir: `${ROOT}dialplans`, logger, tempDir: join(dir, 'fs'), sip: { host: '127.0.0.1', port: 0 } });
  await fs.start();
  t.teardown(() => fs.close());
  const errors = (): number => count;
  await tortureUdp(t, fs.sipPort, errors);
  await tortureTcp(t, fs.sipPort, errors);
  t.equal(await fs.api('status').then(() => 'alive', () => 'dead'), 'alive', 'the FreeSWITCH twin still answers its API');
});
