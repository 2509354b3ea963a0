// SIP trunk calls through the real drachtio-server and the real FreeSWITCH, with `fsbridge run`
// as its own process and sipp as the operator: inbound (a caller dials a DID; 20 and 30 ms
// packets; either side hangs up) and outbound (`POST /v1/calls` to a sipp trunk: answered, a
// callee that rings 40 s, busy, no answer, the callee or the bot hangs up). Each call leaves one
// record saying how it ended.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { freeSipPort } from '../helpers/real/ports.js';
import { aperiodicSignal } from '../../bench/lib/recording.js';
import { writeRtpPcap } from '../helpers/real/rtp-pcap.js';
import { writeUacScenario } from '../helpers/real/sipp-scenarios.js';
import { ScriptedBot } from '../helpers/real/scripted-bot.js';
import { sippSkipReason, runSipp, freeUdpPort, waitUdpBound } from '../e2e/sipp-runner.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';

const PCAP_A = '/usr/share/sip-tester/g711a.pcap';
const skip = realSkipReason() || sippSkipReason(PCAP_A);

const DID = '4930111222';
const DID_SCRIPTED = '4930111333';

t.test('SIP calls through the real drachtio-server and FreeSWITCH', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-sip-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const echo = await startEchoBot({ protocol: 'twilio', port: 0, markEveryMs: Infinity });
  t.teardown(() => echo.close());
  const hangupBot = await startEchoBot({ protocol: 'twilio', port: 0, hangupAfterMs: 1500 });
  t.teardown(() => hangupBot.close());
  const scripted = await ScriptedBot.start(t);
  const trunkPort = await freeSipPort();
  const drachtio = await RealDrachtio.start(t, 'real-secret');
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs, drachtio,
    yaml: `
trunks:
  - name: operator
    registrar: "sip:127.0.0.1:${trunkPort}"
    register: false
    inbound: { allow: [127.0.0.1/32] }
    outbound: { from: "4930999000" }
bots:
  echo: { url: "${echo.url}twilio", protocol: twilio }
  echo-hangup: { url: "${hangupBot.url}twilio", protocol: twilio }
  scripted: { url: "${scripted.url}twilio", protocol: twilio }
routes:
  - { did: "+${DID}", bot: echo }
  - { did: "+${DID_SCRIPTED}", bot: scripted }
`,
  });
  const caller = async (o: { did: string; ptimeMs: number; byeAfterMs?: number }) => {
    const pcap = join(work, `caller-${o.ptimeMs}.pcap`);
    if (!existsSync(pcap)) writeRtpPcap(pcap, aperiodicSignal(3), o.ptimeMs);
    const sf = join(work, `uac-${o.ptimeMs}-${o.byeAfterMs ?? 'wait'}.xml`);
    writeUacScenario(sf, { pcap, ptimeMs: o.ptimeMs, byeAfterMs: o.byeAfterMs });
    const run = runSipp(sf, { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${drachtio.sipPort}`, timeoutSec: 30, extra: ['-s', o.did] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    return run;
  };
  const trunk = async (scenario: string, extra: string[] = [], timeoutSec = 30) => {
    const run = runSipp(scenario, { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec, extra });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    if (!(await waitUdpBound(trunkPort))) throw new Error('sipp trunk not listening');
    return run;
  };
  const dial = (bot: string, timeoutSec = 20) => daemon.request('POST', '/v1/calls', { to: '4915112345', trunk: 'operator', bot, timeoutSec });

  await t.test('inbound: a caller dials a DID, the bot hears the caller, the caller hangs up', async (t) => {
    const before = { records: daemon.records().length, in: echo.stats.audioMessagesIn };
    const run = await caller({ did: DID, ptimeMs: 20, byeAfterMs: 3500 });
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp: INVITE answered, audio sent, BYE answered' : res.output.slice(-3000));
    const r = await daemon.newRecord(before.records, 'the call record');
    t.match(r, { direction: 'inbound', bot: 'echo', to: DID, endedBy: 'caller', cause: 'NORMAL_CLEARING' });
    t.ok(r.connectedAt, 'the bot was connected');
    const got = echo.stats.audioMessagesIn - before.in;
    t.ok(got >= 100, `the bot heard the caller's RTP (${got} media messages)`);
  });

  await t.test('inbound with 30 ms packets: the bot still gets 20 ms (160-byte) frames', async (t) => {
    const before = daemon.records().length;
    const next = scripted.next();
    const run = await caller({ did: DID_SCRIPTED, ptimeMs: 30, byeAfterMs: 3000 });
    const bot = await next;
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp call done' : res.output.slice(-3000));
    await daemon.newRecord(before, 'the call record');
    const sizes = bot.messages.filter((m) => m.event === 'media').map((m) => Buffer.from(String(m.media?.payload ?? ''), 'base64').length);
    t.ok(sizes.length >= 100, `${sizes.length} media messages`);
    const odd = sizes.filter((n) => n !== 160);
    t.same(odd, [], 'every media payload is 160 bytes of μ-law (20 ms), as Twilio sends');
  });

  await t.test('inbound: the bot hangs up, the caller gets the BYE', async (t) => {
    const before = daemon.records().length;
    const sp = await freeUdpPort();
    const pcap = join(work, 'caller-20.pcap');
    const sf = join(work, 'uac-wait.xml');
    writeUacScenario(sf, { pcap, ptimeMs: 20 });
    const next = scripted.next();
    const run = runSipp(sf, { port: sp, mediaPort: await freeUdpPort(), remote: `127.0.0.1:${drachtio.sipPort}`, timeoutSec: 20, extra: ['-s', DID_SCRIPTED] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    const bot = await next;
    await bot.message('start');
    await new Promise((r) => setTimeout(r, 1000));
    bot.close(1000);
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'the caller got BYE and answered it' : res.output.slice(-3000));
    t.match(await daemon.newRecord(before, 'the call record'), { direction: 'inbound', endedBy: 'bot', cause: 'NORMAL_CLEARING' });
  });

  await t.test('outbound: answered, the bot hears the callee, the bot hangs up, the trunk gets the BYE', async (t) => {
    const before = { records: daemon.records().length, in: hangupBot.stats.audioMessagesIn };
    const uas = await trunk('uas-trunk-answer-audio.xml');
    const r = await dial('echo-hangup');
    t.equal(r.status, 200);
    t.match(r.body, { result: 'answered' });
    const res = await uas.done;
    t.equal(res.code, 0, res.code === 0 ? 'the trunk got INVITE, ACK and BYE' : res.output.slice(-3000));
    t.match(await daemon.newRecord(before.records, 'the call record'), { callId: r.body.callId, direction: 'outbound', bot: 'echo-hangup', endedBy: 'bot', cause: 'NORMAL_CLEARING', result: 'answered' });
    const got = hangupBot.stats.audioMessagesIn - before.in;
    t.ok(got > 20, `the bot heard the callee's RTP (${got} media messages)`);
  });

  await t.test('outbound: the callee rings 40 s, then answers; the bot is connected', async (t) => {
    const before = daemon.records().length;
    const uas = await trunk('uas-trunk-ring-then-answer.xml', ['-d', '40000'], 70);
    const started = Date.now();
    const r = await dial('echo-hangup', 60);
    const rangMs = Date.now() - started;
    t.comment(`answered after ${(rangMs / 1000).toFixed(1)} s of ringing`);
    t.match(r.body, { result: 'answered' }, 'answered, not given up while it rang');
    const res = await uas.done;
    // The scenario answers only after its 180 and a 40 s pause: its clean end proves the whole ring.
    t.equal(res.code, 0, res.code === 0 ? 'the trunk rang, answered, got the ACK and, after the bot hung up, the BYE' : res.output.slice(-3000));
    t.match(await daemon.newRecord(before, 'the call record'), { callId: r.body.callId, endedBy: 'bot', result: 'answered' });
  });

  await t.test('outbound: the callee is busy', async (t) => {
    const before = { records: daemon.records().length, conns: echo.stats.connections };
    const uas = await trunk('uas-trunk-busy.xml');
    const r = await dial('echo');
    t.match(r.body, { result: 'busy', sipStatus: 486, cause: 'USER_BUSY' });
    t.equal((await uas.done).code, 0);
    t.match(await daemon.newRecord(before.records, 'the call record'), { callId: r.body.callId, direction: 'outbound', endedBy: 'callee', cause: 'USER_BUSY', causeCode: 17, sipStatus: 486, result: 'busy' });
    t.equal(echo.stats.connections, before.conns, 'no bot connection for a call nobody answered');
  });

  await t.test('outbound: nobody answers within timeoutSec', async (t) => {
    const before = daemon.records().length;
    const uas = await trunk('uas-trunk-no-answer.xml');
    const r = await dial('echo', 3);
    t.match(r.body, { result: 'no-answer', cause: 'NO_ANSWER' });
    t.equal((await uas.done).code, 0, 'the trunk got the CANCEL');
    t.match(await daemon.newRecord(before, 'the call record'), { callId: r.body.callId, endedBy: 'callee', result: 'no-answer' });
  });

  await t.test('outbound: the callee hangs up', async (t) => {
    const before = daemon.records().length;
    const uas = await trunk('uas-trunk-answer-audio-then-bye.xml', ['-d', '3000']);
    const r = await dial('echo');
    t.match(r.body, { result: 'answered' });
    t.equal((await uas.done).code, 0, 'the trunk sent its BYE and got 200');
    t.match(await daemon.newRecord(before, 'the call record'), { callId: r.body.callId, endedBy: 'callee', cause: 'NORMAL_CLEARING', result: 'answered' });
  });

  await t.test('outbound: FreeSWITCH cannot reach the outbound socket: both legs hung up, one record', async (t) => {
    // a wrong fsbridge_outbound_socket (set for this test only; reloadxml would restore it)
    await fs.api('global_setvar fsbridge_outbound_socket=127.0.0.1:9');
    t.teardown(() => fs.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${fs.outboundSocketPort}`));
    const before = daemon.records().length;
    const uas = await trunk('uas-trunk-answer-audio.xml');
    const r = await dial('echo');
    t.match(r.body, { result: 'answered' });
    t.equal((await uas.done).code, 0, 'the trunk got the BYE');
    t.match(await daemon.newRecord(before, 'the call record'), { callId: r.body.callId, direction: 'outbound', result: 'answered', errorCode: 'CALL_SOCKET_NOT_REACHED' });
    t.equal(daemon.records().filter((x) => x.callId === r.body.callId).length, 1, 'exactly one record');
  });

  t.equal((await daemon.liveCalls()).length, 0, 'no call left live');
});
