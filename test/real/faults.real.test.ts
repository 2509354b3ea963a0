// Faults with the real programs and `fsbridge run` as its own process: the bot killed mid-call,
// drachtio-server killed and restarted during an inbound call and during an outbound dial,
// FreeSWITCH killed and restarted mid-call. The daemon stays up, each call ends with one record
// that says what happened, nothing stays live, and calls work again once the program is back.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { freeSipPort } from '../helpers/real/ports.js';
import { placeLoopbackCall } from '../helpers/real/caller.js';
import { aperiodicSignal } from '../../bench/lib/recording.js';
import { writeRtpPcap } from '../helpers/real/rtp-pcap.js';
import { writeUacScenario } from '../helpers/real/sipp-scenarios.js';
import { ScriptedBot } from '../helpers/real/scripted-bot.js';
import { sippSkipReason, runSipp, freeUdpPort, waitUdpBound } from '../e2e/sipp-runner.js';
import { until } from '../helpers/harness.js';

const skip = realSkipReason() || sippSkipReason();
const DID = '4930222333';

t.test('faults with the real programs', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-faults-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const bot = await ScriptedBot.start(t);
  const trunkPort = await freeSipPort();
  const drachtio = await RealDrachtio.start(t, 'fault-secret');
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs, drachtio, fastEslReconnect: true,
    yaml: `
trunks:
  - { name: operator, registrar: "sip:127.0.0.1:${trunkPort}", register: false, inbound: { allow: [127.0.0.1/32] } }
bots:
  b: { url: "${bot.url}twilio", protocol: twilio }
routes:
  - { did: "+${DID}", bot: b }
`,
  });
  const pcap = join(work, 'caller.pcap');
  writeRtpPcap(pcap, aperiodicSignal(3), 20);
  const uac = join(work, 'uac-wait.xml');
  writeUacScenario(uac, { pcap, ptimeMs: 20 });
  const dialplanCall = async () => {
    const next = bot.next();
    const c = await placeLoopbackCall(fs, { destination: 'bot-b' });
    const conn = await next;
    await conn.message('start');
    return { c, conn };
  };
  const inboundCall = async () => {
    const next = bot.next();
    const run = runSipp(uac, { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${drachtio.sipPort}`, timeoutSec: 60, extra: ['-s', DID] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    const conn = await next;
    await conn.message('start');
    return { run, conn };
  };

  await t.test('the bot is killed (no close frame): the call is hung up, ended by fsbridge', async (t) => {
    const before = daemon.records().length;
    const { c, conn } = await dialplanCall();
    conn.kill();
    await c.gone(10_000);
    t.match(await daemon.newRecord(before), { endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'BOT_CLOSED_ABNORMALLY' });
    t.ok(await daemon.noLiveCalls(), 'no call left live');
  });

  await t.test('drachtio-server killed during an inbound call: FreeSWITCH channel and bot released, record says why', async (t) => {
    const before = daemon.records().length;
    const { conn } = await inboundCall();
    const fsChannels = async () => (await fs.api('show channels count')).match(/(\d+) total/)?.[1];
    drachtio.kill();
    await conn.until(() => conn.closedWith !== null, 'the bot released', 10_000);
    t.equal(conn.closedWith, 1000, 'the bot got a normal close');
    t.ok(conn.messages.some((m) => m.event === 'stop'), 'and a stop');
    t.match(await daemon.newRecord(before), { direction: 'inbound', endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'SIP_DRACHTIO_LOST' });
    t.ok(await daemon.noLiveCalls(), 'no call left live in /v1/calls');
    for (let i = 0; i < 50 && (await fsChannels()) !== '0'; i++) await new Promise((r) => setTimeout(r, 100));
    t.equal(await fsChannels(), '0', 'FreeSWITCH has no channel left');
    t.ok(daemon.proc.child.exitCode === null, 'the daemon is still running');
  });

  await t.test('drachtio-server back: a new inbound call works', async (t) => {
    await drachtio.startProcess();
    await until(() => daemon.logLines(/connected to drachtio-server/).length >= 2, 10_000, 'the reconnect');
    const before = daemon.records().length;
    const { run, conn } = await inboundCall();
    conn.close(1000);
    t.equal((await run.done).code, 0, 'the caller got the BYE');
    t.match(await daemon.newRecord(before), { direction: 'inbound', endedBy: 'bot', cause: 'NORMAL_CLEARING' });
  });

  await t.test('drachtio-server killed during an outbound dial: the dial fails at once, one record', async (t) => {
    const uas = runSipp('uas-trunk-no-answer.xml', { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec: 30 });
    t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
    t.ok(await waitUdpBound(trunkPort));
    const before = daemon.records().length;
    const ringing = daemon.logLines(/outbound call ringing/).length;
    const dial = daemon.request('POST', '/v1/calls', { to: '4915100001', trunk: 'operator', bot: 'b', timeoutSec: 60 });
    // FreeSWITCH's INVITE went out through drachtio-server and the trunk answered 180
    await until(() => daemon.logLines(/outbound call ringing/).length > ringing, 15_000, 'the trunk ringing');
    const killed = Date.now();
    drachtio.kill();
    const r = await dial;
    t.comment(`POST /v1/calls answered ${Date.now() - killed} ms after the loss (the trunk would have rung for 60 s)`);
    t.match(r.body, { result: 'failed', code: 'SIP_DRACHTIO_LOST' });
    t.match(await daemon.newRecord(before), { direction: 'outbound', endedBy: 'fsbridge', errorCode: 'SIP_DRACHTIO_LOST' });
    await drachtio.startProcess();
    await until(() => daemon.logLines(/connected to drachtio-server/).length >= 3, 10_000, 'the reconnect');
  });

  await t.test('FreeSWITCH killed mid-call: records by freeswitch, the trunk caller gets a BYE; after its restart calls work again', async (t) => {
    const before = daemon.records().length;
    const { conn } = await dialplanCall();
    const { run, conn: sipConn } = await inboundCall();
    fs.kill();
    await conn.until(() => conn.closedWith !== null, 'the bot released', 10_000);
    await sipConn.until(() => sipConn.closedWith !== null, 'the SIP call\'s bot released', 10_000);
    t.equal(conn.closedWith, 1000);
    t.equal((await run.done).code, 0, 'the trunk caller got a BYE from fsbridge');
    await until(() => daemon.records().length >= before + 2, 10_000, 'two records');
    const recs = daemon.records().slice(before);
    t.match(recs.find((r) => r.direction === 'inbound' && r.to === DID), { endedBy: 'freeswitch', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'CALL_FREESWITCH_LOST' });
    t.match(recs.find((r) => r.to === 'bot-b'), { endedBy: 'freeswitch', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'CALL_FREESWITCH_LOST' });
    t.ok(await daemon.noLiveCalls(), 'no call left live');
    await until(() => daemon.logLines(/esl control disconnected/).length > 0, 10_000, 'the ESL loss');
    await fs.startProcess();
    await until(() => daemon.logLines(/esl control connected/).length >= 2, 15_000, 'the ESL reconnect');
    const again = daemon.records().length;
    const { c } = await dialplanCall();
    await c.hangup();
    t.match(await daemon.newRecord(again), { endedBy: 'caller', cause: 'NORMAL_CLEARING' });
    t.ok(daemon.proc.child.exitCode === null, 'the daemon never exited');
  });
  t.ok(existsSync(daemon.recordFile));
});
