// fsbridge (the daemon, as configured by an operator) registers its trunk through drachtio-server
// (twin) to a real kamailio registrar with digest, reports it in GET /v1/trunks and in metrics,
// (refresh timing is covered by registration.kamailio.test.ts)
// keeps the password out of every log line, and unregisters when it stops.
import t from 'tap';
import { Writable } from 'node:stream';
import { freeUdpPort, haveBinary } from './sipp-runner.js';
import { startKamailio } from './kamailio-runner.js';
import { startTwin } from '../integration/sip/srf-helpers.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { Daemon } from '../../src/daemon.js';
import { FreeswitchTwin } from '../../src/sim/freeswitch/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ROOT } from '../helpers/process.js';
import { until } from '../helpers/harness.js';

if (!haveBinary('kamailio')) {
  t.test('kamailio is not installed', { skip: true }, async () => {});
} else {
  t.test('daemon registers a trunk to kamailio through drachtio and unregisters on stop', async (t) => {
    const kport = await freeUdpPort();
    const kam = await startKamailio(kport, ['MIN_EXPIRES=3']);
    t.teardown(() => kam.stop());
    const drachtio = await startTwin();
    t.teardown(() => drachtio.close());
    const fs = new FreeswitchTwin({ port: 0, dialplanDir: `${ROOT}dialplans`, logger: silentLogger() });
    await fs.start();
    t.teardown(() => fs.close());
    const text = `
freeswitch: { esl: { port: ${fs.port}, password: ClueCon }, outboundSocket: { port: 0 } }
media: { listen: "127.0.0.1:0" }
api: { listen: "127.0.0.1:0", token: tok }
drachtio: { host: 127.0.0.1, port: ${drachtio.adminPort}, secret: cymru }
trunks:
  - { name: kam, registrar: "sip:127.0.0.1:${kport}", username: alice, password: s3cret, expiresSec: 60 }
bots:
  b: { url: "ws://127.0.0.1:9/", protocol: twilio }
store: { url: "sqlite::memory:" }
`;
    const loaded = loadConfig({ text, env: {} });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const daemon = new Daemon({ config: loaded.config, logger: createLogger({ level: 'debug', destination: sink }) });
    t.teardown(() => daemon.close());
    const ports = await daemon.start();
    await daemon.ready;
    const trunks = async () => (await (await fetch(`http://127.0.0.1:${ports.api}/v1/trunks`, { headers: { authorization: 'Bearer tok' } })).json()) as { trunks: { trunk: string; state: string }[]; drachtio: string };
    // Polls until the trunk is registered; the bound is a safety net for a daemon that never
    // registers, not a time the registration must take (that is printed).
    let last: Awaited<ReturnType<typeof trunks>> | null = null;
    const start = Date.now();
    for (;;) {
      last = await trunks();
      if (last.trunks[0]?.state === 'registered' || Date.now() - start > 60_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.comment(`registered ${Date.now() - start} ms after the daemon was ready`);
    t.match(last, { drachtio: 'connected', trunks: [{ trunk: 'kam', state: 'registered' }] });
    const metrics = await (await fetch(`http://127.0.0.1:${ports.api}/metrics`)).text();
    t.match(metrics, /fsbridge_drachtio_connected 1/);
    // kamailio's log comes through a pipe and may arrive after its SIP answer did.
    await until(() => /REGISTER ok alice expires=60/.test(kam.output()), 30_000, 'the REGISTER in kamailio\'s log');
    t.match(kam.output(), /REGISTER ok alice expires=60/, 'kamailio accepted the digest REGISTER');
    await daemon.close();
    await until(() => /REGISTER ok alice expires=0/.test(kam.output()), 30_000, 'unregister');
    t.pass('unregistered (Expires: 0) on stop');
    t.notMatch(lines.join(''), /s3cret/, 'the trunk password never reaches a log line');
  });
}
