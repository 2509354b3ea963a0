// Issue 8 fault suite, with the real programs and `fsbridge run` as its own process: 20 live calls
// of each kind (dialplan, inbound SIP, outbound SIP), then in turn SIGHUP, the bot killed and restarted,
// drachtio-server killed, FreeSWITCH killed (each restarted) and SIGTERM. The daemon never exits
// on its own, every call has exactly one record whose cause and endedBy say what happened, and
// nothing a call held is left: /metrics gauges (calls, call owners, media streams, bot sockets,
// SIP calls and trunk slots) back to 0, pending timers and process handles back to where they were.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
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
import { until } from '../helpers/harness.js';
import type { CallRecord } from '../../src/calls/call-record.js';

const skip = realSkipReason() || sippSkipReason();
const DID = '4930555666';
const N = 20;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilAsync(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('fault suite: 20 calls of each kind through SIGHUP, bot, drachtio-server and FreeSWITCH loss, SIGTERM', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-suite-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const bot = await ScriptedBot.start(t);
  const trunkPort = await freeSipPort();
  const drachtio = await RealDrachtio.start(t, 'suite-secret');
  const fs = await RealFreeswitch.start(t, { rtpPorts: 400 }); // 40 SIP calls, two ports each
  const daemon = await DaemonProcess.start(t, {
    fs, drachtio, fastEslReconnect: true, calls: 'drainTimeoutMs: 1000',
    yaml: `
trunks:
  - name: operator
    registrar: "sip:127.0.0.1:${trunkPort}"
    register: false
    inbound: { allow: [127.0.0.1/32] }
    outbound: { maxConcurrent: 50, callsPerSecond: 50, queueMax: 50 }
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

  const metric = (name: string, labels?: Record<string, string>) => daemon.metric(name, labels);
  /** Everything a call holds, summed; 0 when no call holds anything. */
  const held = async () => (await Promise.all([
    metric('fsbridge_active_calls'), metric('fsbridge_call_owners'), metric('fsbridge_call_channels'),
    metric('fsbridge_media_streams_open'), metric('fsbridge_bot_connections'), metric('fsbridge_sip_in_progress'),
  ])).reduce((a, b) => a + b, 0);
  const settledTo = async (what: string, read: () => Promise<number>, target: number) => {
    for (let i = 0; i < 100 && (await read()) > target; i++) await new Promise((r) => setTimeout(r, 100));
    return read();
  };

  /** 20 dialplan calls, 20 inbound trunk calls, 20 outbound calls, all connected to the bot. */
  const place = async () => {
    const before = bot.conns.length;
    const connected = (n: number) => until(() => bot.conns.length >= before + n, 30_000, `${n} bot connections`);
    // bgapi: FreeSWITCH places them side by side (an `api originate` waits for each answer), paced
    // under its default sessions-per-second (30; a loopback call is two sessions)
    for (let i = 0; i < N; i++) {
      const r = await fs.api('bgapi originate {origination_caller_id_number=4930123456}loopback/bot-b/default &park');
      if (!r.startsWith('+OK')) throw new Error(`bgapi originate: ${r}`);
      await pause(100);
    }
    await connected(N);
    const inbound = runSipp(uac, {
      port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${drachtio.sipPort}`,
      calls: N, timeoutSec: 120, extra: ['-s', DID, '-l', String(N), '-r', '10'],
    });
    await connected(2 * N);
    const trunk = runSipp('uas-trunk-answer.xml', { port: trunkPort, mediaPort: await freeUdpPort(), calls: N, timeoutSec: 120 });
    t.teardown(() => { for (const r of [inbound, trunk]) if (r.child.exitCode === null) r.child.kill(); });
    t.ok(await waitUdpBound(trunkPort), 'the sipp trunk is listening');
    const dials = await Promise.all(Array.from({ length: N }, async (_, i) => {
      await pause(100 * i);
      return daemon.request('POST', '/v1/calls', { to: `49151000${String(i).padStart(3, '0')}`, trunk: 'operator', bot: 'b', timeoutSec: 30 });
    }));
    t.equal(dials.filter((d) => d.body?.result === 'answered').length, N, `${N} outbound calls answered`);
    await until(() => bot.conns.length >= before + 3 * N, 30_000, 'every call\'s bot connection');
    const conns = bot.conns.slice(before);
    await Promise.all(conns.map((c) => c.message('start', 20_000))).catch((err: Error) => {
      const missing = conns.filter((c) => !c.messages.some((m) => m.event === 'start'));
      throw new Error(`${err.message}: ${missing.length} without start, closed ${JSON.stringify(missing.map((c) => c.closedWith))}, first messages ${JSON.stringify(missing.map((c) => c.messages.map((m) => m.event)).slice(0, 3))}`);
    });
    const live = await daemon.liveCalls();
    t.equal(live.length, 3 * N, `${3 * N} live calls`);
    return { inbound, trunk, conns, ids: live.map((c) => String(c.callId)) };
  };

  /** One record per call, each matching `expect(record)`; then nothing held. */
  const checkRecords = async (ids: string[], recordsBefore: number, expect: (r: CallRecord) => Record<string, unknown>) => {
    await until(() => daemon.records().length >= recordsBefore + ids.length, 30_000, 'a record for every call');
    const recs = daemon.records().slice(recordsBefore);
    const mine = recs.filter((r) => ids.includes(r.callId));
    t.equal(new Set(mine.map((r) => r.callId)).size, ids.length, 'every call has a record');
    t.equal(mine.length, ids.length, 'and only one');
    const wrong = mine.filter((r) => Object.entries(expect(r)).some(([k, v]) => (r as unknown as Record<string, unknown>)[k] !== v));
    t.same(wrong.map((r) => ({ callId: r.callId, direction: r.direction, endedBy: r.endedBy, cause: r.cause, errorCode: r.errorCode })), [], 'every record says what happened');
  };
  const checkNothingHeld = async (timersBefore: number, handlesBefore: number) => {
    t.equal(await settledTo('calls', held, 0), 0, 'no call, owner, stream, bot socket, SIP call or trunk slot left');
    const timers = await settledTo('timers', () => metric('fsbridge_timers_pending'), timersBefore);
    t.ok(timers <= timersBefore, `pending timers back to ${timersBefore} (now ${timers})`);
    const handles = await settledTo('handles', () => metric('fsbridge_process_active_resources'), handlesBefore);
    t.ok(handles <= handlesBefore, `process handles back to ${handlesBefore} (now ${handles})`);
    t.equal(daemon.proc.child.exitCode, null, 'the daemon never exited');
  };
  const baseline = async () => ({
    records: daemon.records().length,
    timers: await metric('fsbridge_timers_pending'),
    handles: await metric('fsbridge_process_active_resources'),
  });
  /** The round's sipp peers go (a peer whose dialogs died with drachtio-server waits for nothing). */
  const stopPeers = async (p: { inbound: { child: import('node:child_process').ChildProcess }; trunk: { child: import('node:child_process').ChildProcess } }) => {
    for (const r of [p.inbound, p.trunk]) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
      const gone = new Promise((res) => r.child.once('exit', res));
      r.child.kill('SIGKILL');
      await gone;
    }
  };
  const hangUpAll = async (ids: string[]) => {
    for (const id of ids) await daemon.request('POST', `/v1/calls/${id}/hangup`);
  };

  await t.test('SIGHUP with 60 live calls: nothing ends; then each is hung up through the API', async (t) => {
    const b = await baseline();
    const placed = await place();
    const { ids } = placed;
    t.teardown(() => stopPeers(placed));
    const mark = daemon.proc.lines.length;
    daemon.proc.child.kill('SIGHUP');
    await daemon.proc.waitFor(/configuration reloaded/, 5000, mark);
    await new Promise((r) => setTimeout(r, 1000));
    t.equal((await daemon.liveCalls()).length, 3 * N, 'all calls still live');
    await hangUpAll(ids);
    await checkRecords(ids, b.records, () => ({ endedBy: 'api', cause: 'NORMAL_CLEARING' }));
    await checkNothingHeld(b.timers, b.handles);
  });

  await t.test('the bot process dies and restarts: every call ends by fsbridge; a call while it is down fails clearly; calls work after', async (t) => {
    const b = await baseline();
    const placed = await place();
    const { ids } = placed;
    t.teardown(() => stopPeers(placed));
    await bot.crash(); // sockets dropped without a close frame, port closed
    await checkRecords(ids, b.records, () => ({ endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'BOT_CLOSED_ABNORMALLY' }));
    // a call while the bot is down: refused at connect, recorded as such
    const r = await fs.api('bgapi originate {origination_caller_id_number=4930123456}loopback/bot-b/default &park');
    t.match(r, /^\+OK/, 'FreeSWITCH places the call');
    await until(() => daemon.records().length >= b.records + ids.length + 1, 30_000, 'the record of the call made while the bot was down');
    const down = daemon.records().slice(b.records).find((rec) => !ids.includes(rec.callId));
    t.match(down, { endedBy: 'fsbridge', errorCode: 'BOT_CONNECT_FAILED' }, 'recorded as a bot connect failure');
    await bot.restart();
    await checkNothingHeld(b.timers, b.handles);
    // the next rounds place 60 calls to the restarted bot
  });

  await t.test('drachtio-server dies: its 40 SIP calls end (SIP_DRACHTIO_LOST), the dialplan calls go on', async (t) => {
    const b = await baseline();
    const placed = await place();
    const { ids } = placed;
    t.teardown(() => stopPeers(placed));
    const sipIds = (await daemon.liveCalls()).filter((c) => c.to !== 'bot-b').map((c) => String(c.callId));
    t.equal(sipIds.length, 2 * N);
    drachtio.kill();
    await until(() => daemon.records().length >= b.records + 2 * N, 30_000, 'the SIP calls\' records');
    await new Promise((r) => setTimeout(r, 500));
    const live = await daemon.liveCalls();
    t.equal(live.length, N, 'the dialplan calls are still live');
    await hangUpAll(live.map((c) => String(c.callId)));
    await checkRecords(ids, b.records, (r) => (sipIds.includes(r.callId)
      ? { endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'SIP_DRACHTIO_LOST' }
      : { endedBy: 'api', cause: 'NORMAL_CLEARING' }));
    await drachtio.startProcess();
    await untilAsync(async () => (await metric('fsbridge_drachtio_connected')) === 1, 15_000, 'the drachtio reconnect');
    await checkNothingHeld(b.timers, b.handles + 2);
  });

  await t.test('FreeSWITCH dies: every call ends by freeswitch (CALL_FREESWITCH_LOST); calls work again after its restart', async (t) => {
    const b = await baseline();
    const placed = await place();
    const { ids } = placed;
    t.teardown(() => stopPeers(placed));
    fs.kill();
    await checkRecords(ids, b.records, () => ({ endedBy: 'freeswitch', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'CALL_FREESWITCH_LOST' }));
    await fs.startProcess();
    await untilAsync(async () => (await metric('fsbridge_esl_connected')) === 1, 20_000, 'the ESL reconnect');
    await checkNothingHeld(b.timers, b.handles + 2);
  });

  await t.test('SIGTERM with 60 live calls: drained, the rest ended as a shutdown, exit 0', async (t) => {
    const b = await baseline();
    const placed = await place();
    const { ids } = placed;
    t.teardown(() => stopPeers(placed));
    const code = await daemon.proc.stop('SIGTERM');
    t.equal(code, 0, 'exit 0');
    await checkRecords(ids, b.records, () => ({ endedBy: 'shutdown', cause: 'SYSTEM_SHUTDOWN' }));
  });
});
