// Trunk registration through the real drachtio-server, with `fsbridge run` as its own process:
// digest to a real kamailio registrar (which grants a short expiry, so refreshes are seen) and to
// a sipp registrar; drachtio-server restarted (registered again at once, the trunk list never
// empty); SIGTERM unregisters and exits promptly.
import t from 'tap';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { freeSipPort } from '../helpers/real/ports.js';
import { haveBinary, sippSkipReason, runSipp, waitUdpBound, freeUdpPort } from '../e2e/sipp-runner.js';
import { startKamailio } from '../e2e/kamailio-runner.js';
import { until } from '../helpers/harness.js';

const skip = realSkipReason() || (!haveBinary('kamailio') && 'kamailio not installed: apt-get install kamailio')
  || sippSkipReason();

t.test('trunk registration through the real drachtio-server', { skip }, async (t) => {
  const kport = await freeSipPort();
  const kam = await startKamailio(kport, ['MIN_EXPIRES=3', 'MAX_EXPIRES=4']);
  t.teardown(() => kam.stop());
  const sippPort = await freeUdpPort();
  const registrar = runSipp('uas-register-401.xml', { port: sippPort, mediaPort: await freeUdpPort(), timeoutSec: 30 });
  t.teardown(() => { if (registrar.child.exitCode === null) registrar.child.kill(); });
  t.ok(await waitUdpBound(sippPort), 'sipp registrar listening');
  const drachtio = await RealDrachtio.start(t, 'reg-secret');
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs, drachtio, env: { KAM_PASSWORD: 's3cret' },
    yaml: `
trunks:
  - { name: kam, registrar: "sip:127.0.0.1:${kport}", username: alice, password: env:KAM_PASSWORD, expiresSec: 60 }
  - { name: sipp, registrar: "sip:127.0.0.1:${sippPort}", username: alice, password: env:KAM_PASSWORD, expiresSec: 300 }
`,
  });
  const trunks = async () => (await daemon.request('GET', '/v1/trunks')).body as { trunks: Array<{ trunk: string; state: string; lastError?: string }>; drachtio: string };
  const state = async (name: string) => (await trunks()).trunks.find((x) => x.trunk === name)?.state;
  const kamAll = () => [...kam.output().matchAll(/REGISTER ok alice expires=(\d+)/g)].map((m) => Number(m[1]));
  /** REGISTERs kamailio accepted that register (expires > 0), and un-REGISTERs (expires=0). */
  const kamOk = () => kamAll().filter((e) => e > 0);
  const kamUnreg = () => kamAll().filter((e) => e === 0);

  await t.test('digest REGISTER to kamailio and to a sipp registrar; refreshed before expiry', async (t) => {
    for (let i = 0; i < 100 && ((await state('kam')) !== 'registered' || (await state('sipp')) !== 'registered'); i++) await new Promise((r) => setTimeout(r, 100));
    t.match(await trunks(), { drachtio: 'connected', trunks: [{ trunk: 'kam', state: 'registered' }, { trunk: 'sipp', state: 'registered' }] });
    t.equal((await registrar.done).code, 0, 'sipp checked the digest (401 then 200)');
    const first = kamOk().length;
    await until(() => kamOk().length >= first + 2, 12_000, 'two refreshes');
    t.pass(`kamailio granted 4 s and saw ${kamOk().length} REGISTERs (refreshes at 70–80 % of the expiry)`);
    t.equal(await daemon.metric('fsbridge_trunk_registered', { trunk: 'kam' }), 1);
    t.notOk(daemon.proc.lines.some((l) => l.includes('s3cret')), 'the password is in no log line');
  });

  await t.test('drachtio-server restarted: reconnected and registered again at once', async (t) => {
    drachtio.kill();
    await until(() => daemon.logLines(/drachtio-server connection lost/).length > 0, 10_000, 'the link loss');
    const seenEmpty: string[] = [];
    const watch = setInterval(() => { void trunks().then((x) => { if (x.trunks.length === 0) seenEmpty.push('empty'); }); }, 100);
    t.teardown(() => clearInterval(watch));
    const before = kamOk().length;
    await drachtio.startProcess();
    const up = Date.now();
    await until(() => kamOk().length > before, 10_000, 'a REGISTER after the restart');
    clearInterval(watch);
    t.comment(`registered again ${Date.now() - up} ms after drachtio-server was back`);
    for (let i = 0; i < 50 && (await state('kam')) !== 'registered'; i++) await new Promise((r) => setTimeout(r, 100));
    t.equal(await state('kam'), 'registered');
    t.same(seenEmpty, [], 'GET /v1/trunks always listed the trunks');
    t.same(kamUnreg(), [], 'no un-REGISTER before registering again');
  });

  await t.test('SIGTERM: unregisters (Expires: 0) and exits promptly', async (t) => {
    const unregBefore = kamUnreg().length;
    const started = Date.now();
    const code = await daemon.proc.stop('SIGTERM');
    t.equal(code, 0, 'exit 0');
    t.comment(`exited ${Date.now() - started} ms after SIGTERM`);
    await until(() => kamUnreg().length > unregBefore, 3000, 'the un-REGISTER at kamailio');
    t.pass('kamailio got the un-REGISTER (Expires: 0)');
  });
});
