// The drachtio twin's SIP side checked by sipp: sipp as callee of an INVITE sent by drachtio-srf
// through the twin, and sipp as a caller whose OPTIONS/INVITE drachtio-srf receives.
import t from 'tap';
import { startTwin, connectSrf } from '../integration/sip/srf-helpers.js';
import { runSipp, freeUdpPort, sippSkipReason, waitUdpBound } from './sipp-runner.js';
import { TrunkRegistration } from '../../src/sip/registration.js';
import { systemClock } from '../../src/clock.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';

const SDP = 'v=0\r\no=fsbridge 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

const sippSkip = sippSkipReason();
if (sippSkip) {
  t.test('sipp tests', { skip: sippSkip }, async () => {});
} else {
  t.test('srf INVITE through the twin, sipp answers', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf, err } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    t.equal(err, undefined);
    const port = await freeUdpPort();
    const sipp = runSipp('uas-answer.xml', { port, mediaPort: await freeUdpPort() });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp is listening');
    const dlg = await srf.createUAC(`sip:callee@127.0.0.1:${port}`, { localSdp: SDP });
    t.match(dlg.remote.sdp, /m=audio \d+ RTP\/AVP 0/);
    await new Promise((r) => setTimeout(r, 100)); // let the ACK land before the BYE (sipp is strict about order)
    await dlg.destroy();
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('sipp OPTIONS reaches srf.options', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    let seen = 0;
    srf.options((_req: any, res: any) => { seen++; res.send(200); });
    await new Promise((r) => setTimeout(r, 50)); // route message reaches the twin
    const sipp = runSipp('uac-options.xml', { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${twin.sipPort}` });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.equal(seen, 1);
  });

  t.test('sipp INVITE reaches srf.invite, answered, BYE from sipp', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    const destroyed = new Promise<string>((resolve) => {
      srf.invite(async (req: any, res: any) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP });
        dlg.on('destroy', () => resolve(req.uri));
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    const sipp = runSipp('uac-invite.xml', { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${twin.sipPort}`, extra: ['-s', '15551234'] });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
    t.match(await destroyed, /^sip:15551234@127\.0\.0\.1:/);
  });

  t.test('srf REGISTER with digest against the sipp registrar', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    const port = await freeUdpPort();
    const sipp = runSipp('uas-register-401.xml', { port, mediaPort: await freeUdpPort() });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp is listening');
    const uri = `sip:127.0.0.1:${port}`;
    const req = await srf.request(uri, {
      method: 'REGISTER', auth: { username: 'alice', password: 's3cret' },
      headers: { From: '<sip:alice@127.0.0.1>', To: '<sip:alice@127.0.0.1>', Contact: '<sip:alice@localhost>', Expires: '60' },
    });
    const status = await new Promise<number>((resolve) => req.on('response', (r: any) => { if (r.status !== 401) resolve(r.status); }));
    t.equal(status, 200);
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('the sipp registrar rejects a wrong password (the scenario can fail)', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    const port = await freeUdpPort();
    const sipp = runSipp('uas-register-401.xml', { port, mediaPort: await freeUdpPort() });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp is listening');
    const req = await srf.request(`sip:127.0.0.1:${port}`, {
      method: 'REGISTER', auth: { username: 'alice', password: 'wrong' },
      headers: { From: '<sip:alice@127.0.0.1>', To: '<sip:alice@127.0.0.1>', Contact: '<sip:alice@localhost>', Expires: '60' },
    });
    const status = await new Promise<number>((resolve) => req.on('response', (r: any) => { if (r.status !== 401) resolve(r.status); }));
    t.equal(status, 403);
    const res = await sipp.done;
    t.not(res.code, 0);
  });

  t.test('sipp OPTIONS over TCP reaches srf.options', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    srf.options((_req: any, res: any) => res.send(200));
    await new Promise((r) => setTimeout(r, 50));
    const sipp = runSipp('uac-options.xml', { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${twin.sipPort}`, extra: ['-t', 't1'] });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });

  t.test('trunk registration against the sipp registrar (401 then 200)', async (t) => {
    const twin = await startTwin();
    t.teardown(() => twin.close());
    const { srf } = await connectSrf(twin);
    t.teardown(() => srf.disconnect());
    const port = await freeUdpPort();
    const sipp = runSipp('uas-register-401.xml', { port, mediaPort: await freeUdpPort() });
    t.teardown(() => { if (sipp.child.exitCode === null) sipp.child.kill(); });
    t.ok(await waitUdpBound(port), 'sipp is listening');
    const reg = new TrunkRegistration(
      { name: 'sipp', registrar: `sip:127.0.0.1:${port}`, username: 'alice', password: 's3cret', expiresSec: 60 },
      { srf, logger: silentLogger(), metrics: new MetricsRegistry(), clock: systemClock, requestTimeoutMs: 3000 },
    );
    t.teardown(() => reg.stop());
    const registered = new Promise<void>((resolve) => reg.on('state', (s) => { if (s.state === 'registered') resolve(); }));
    reg.start();
    await registered;
    t.equal(reg.status().state, 'registered');
    const res = await sipp.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp passed' : res.output.slice(-2000));
  });
}
