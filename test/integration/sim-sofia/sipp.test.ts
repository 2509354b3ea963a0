import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { FsEvent } from '../../../src/sim/freeswitch/event.js';
import { decodeG711, encodeG711 } from '../../../src/sim/freeswitch/sofia/g711.js';
import { buildRtp, parseRtp } from '../../../src/sim/freeswitch/sofia/rtp.js';
import { OutboundListener, sineFrames, startTwin, toneRatio, Udp, within } from './helpers.js';

const SCEN_DIR = join(import.meta.dirname, 'sipp');

/** A free UDP port (bound then released; sipp binds it right after). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Runs sipp once with a scenario (placeholders replaced); resolves with its exit code and logs. */
async function runSipp(
  t: Test, scenario: string, repl: Record<string, string>, target: number, sipPort?: number,
): Promise<{ code: number | null; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-sofia-sipp-'));
  let scen: string[];
  if (scenario.startsWith('sn:')) {
    scen = ['-sn', scenario.slice(3)];
  } else {
    let text = readFileSync(join(SCEN_DIR, scenario), 'utf8');
    for (const [k, v] of Object.entries(repl)) text = text.split(`@${k}@`).join(v);
    const file = join(dir, scenario);
    writeFileSync(file, text);
    scen = ['-sf', file];
  }
  const [port, mport] = [sipPort ?? await freeUdpPort(), await freeUdpPort()];
  const errFile = join(dir, 'err.log');
  const logFile = join(dir, 'log.log');
  const child: ChildProcess = spawn('sipp', [
    ...(target > 0 ? [`127.0.0.1:${target}`] : []), ...scen, '-m', '1', '-s', '8084', '-i', '127.0.0.1', '-p', String(port),
    '-mi', '127.0.0.1', '-mp', String(mport), '-t', 'u1', '-nostdin', '-timeout', '20s', '-timeout_error',
    '-trace_err', '-error_file', errFile, '-trace_logs', '-log_file', logFile,
  ], { cwd: dir, stdio: 'ignore' });
  t.teardown(() => {
    if (child.exitCode === null && child.pid !== undefined) { try { process.kill(child.pid); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const log = (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + (existsSync(errFile) ? readFileSync(errFile, 'utf8') : '');
  return { code, log };
}

async function setup(t: Test) {
  const ob = new OutboundListener();
  const tw = await startTwin(await ob.listen());
  const rtp = new Udp();
  await rtp.bind();
  const events: FsEvent[] = [];
  const waiters: (() => void)[] = [];
  tw.onEvent((e) => { events.push(e); for (const w of waiters.splice(0)) w(); });
  const waitEvent = async (pred: (e: FsEvent) => boolean): Promise<FsEvent> => {
    for (let i = 0; i < 10000; i++) {
      const e = events.find(pred);
      if (e) return e;
      await new Promise<void>((r) => waiters.push(r));
    }
    throw new Error('no event');
  };
  t.teardown(async () => { rtp.close(); await tw.close(); await ob.close(); });
  return { ob, tw, rtp, waitEvent };
}

t.test('sipp OPTIONS: 200 with the FreeSWITCH User-Agent', async (t) => {
  const { tw } = await setup(t);
  const r = await within(runSipp(t, 'options.xml', {}, tw.sipPort), 25_000, 'sipp');
  t.equal(r.code, 0, r.log);
});

t.test('sipp call: socket answers, RTP both ways, fsbridge hangs up → BYE with Q.850 reason', async (t) => {
  const { ob, tw, rtp, waitEvent } = await setup(t);
  const sipp = runSipp(t, 'uac-fs-hangup.xml', { CALL: 'sipp-call-1', RTPPORT: String(rtp.port) }, tw.sipPort);
  const conn = await within(ob.accept(), 10_000, 'outbound socket');
  const data = await conn.connect();
  t.equal(data.variable_fsbridge_call_id, 'sipp-call-1');
  t.equal(data['Caller-Destination-Number'], '8084');
  t.match(data['Channel-Name'], /^sofia\/fsbridge\/sipp@127\.0\.0\.1$/);
  const uuid = data['Unique-ID'];
  conn.execute('answer');
  await within(waitEvent((e) => e.name === 'CHANNEL_ANSWER' && e.get('Unique-ID') === uuid), 5000, 'answer');
  const localPort = Number((await tw.api(`uuid_getvar ${uuid} local_media_port`)).trim());
  t.ok(localPort > 0, 'local_media_port set');

  // Test → twin: 1000 Hz μ-law RTP becomes the caller audio.
  const heard: Int16Array[] = [];
  t.teardown(tw.onCallerAudio(uuid, (pcm) => { if (heard.length < 500) heard.push(Int16Array.from(pcm)); }));
  const frames = sineFrames(1000, 50);
  let gotTone = false;
  for (let i = 0; i < 100 && !gotTone; i++) {
    if (i < frames.length) rtp.send(buildRtp({ payloadType: 0, marker: i === 0, sequence: i, timestamp: i * 160, ssrc: 77, payload: encodeG711('PCMU', frames[i]) }), localPort);
    await new Promise((r) => setTimeout(r, 20));
    gotTone = heard.some((f) => toneRatio(f, 1000) > 0.8);
  }
  t.ok(gotTone, 'caller audio carries the 1000 Hz sent as RTP');

  // Twin → test: a broadcast 440 Hz arrives as μ-law RTP at the SDP's media port.
  const before = rtp.got.length;
  await tw.api(`uuid_broadcast ${uuid} tone_stream://%(2000,0,440) aleg`);
  const has440 = (): boolean => rtp.got.slice(before).some((g) => {
    const p = parseRtp(g.data);
    return p !== undefined && p.payloadType === 0 && toneRatio(decodeG711('PCMU', p.payload), 440) > 0.8;
  });
  for (let i = 0; i < 300 && !has440(); i++) await within(rtp.wait(() => true, rtp.got.length), 5000, 'rtp');
  t.ok(has440(), '440 Hz played to the channel arrives as RTP');

  conn.hangup();
  const r = await within(sipp, 25_000, 'sipp');
  t.equal(r.code, 0, r.log);
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'NORMAL_CLEARING');
});

t.test('sipp call: the caller\'s BYE ends the channel with NORMAL_CLEARING', async (t) => {
  const { ob, tw, rtp, waitEvent } = await setup(t);
  const sipp = runSipp(t, 'uac-caller-bye.xml', { CALL: 'sipp-call-2', RTPPORT: String(rtp.port) }, tw.sipPort);
  const conn = await within(ob.accept(), 10_000, 'outbound socket');
  const data = await conn.connect();
  conn.execute('answer');
  const r = await within(sipp, 25_000, 'sipp');
  t.equal(r.code, 0, r.log);
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === data['Unique-ID']), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'NORMAL_CLEARING');
  t.equal(hc.get('variable_sip_hangup_disposition'), 'recv_bye');
});

t.test('sipp CANCEL: 200 + 487, channel ends ORIGINATOR_CANCEL', async (t) => {
  const { ob, tw, rtp, waitEvent } = await setup(t);
  const sipp = runSipp(t, 'uac-cancel.xml', { CALL: 'sipp-call-3', RTPPORT: String(rtp.port) }, tw.sipPort);
  const conn = await within(ob.accept(), 10_000, 'outbound socket');
  const data = await conn.connect();
  const r = await within(sipp, 25_000, 'sipp');
  t.equal(r.code, 0, r.log);
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === data['Unique-ID']), 5000, 'hangup complete');
  t.equal(hc.get('Hangup-Cause'), 'ORIGINATOR_CANCEL');
});

t.test('originate sofia/fsbridge/<user>@<host:port> to a sipp UAS: +OK once answered; uuid_kill sends BYE', async (t) => {
  const { tw, waitEvent } = await setup(t);
  const port = await freeUdpPort();
  const sipp = runSipp(t, 'sn:uas', {}, 0, port);
  // sipp binds its port after start; the INVITE is retransmitted until it answers.
  const r = await within(tw.originate(`{origination_caller_id_number=5550000}sofia/fsbridge/bot@127.0.0.1:${port} &park`), 20_000, 'originate');
  t.match(r, /^\+OK [0-9a-f-]{36}\n$/);
  const uuid = r.slice(4).trim();
  t.equal((await tw.api(`uuid_getvar ${uuid} channel_name`)).trim(), `sofia/fsbridge/bot@127.0.0.1:${port}`);
  t.equal((await tw.api(`uuid_getvar ${uuid} rtp_use_codec_name`)).trim(), 'PCMU');
  t.equal(await tw.api(`uuid_kill ${uuid}`), '+OK\n');
  const res = await within(sipp, 25_000, 'sipp');
  t.equal(res.code, 0, 'sipp uas saw INVITE, ACK, BYE');
  const hc = await within(waitEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid), 5000, 'hangup complete');
  t.equal(hc.get('Call-Direction'), 'outbound');
});
