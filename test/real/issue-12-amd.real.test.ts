// Done-criterion of issue 12 (real programs): an outbound call through the real drachtio-server and
// FreeSWITCH to a sipp callee that plays an answering machine's greeting and beep. Answering-
// machine detection decides machine_end_beep, and the message fsbridge leaves lands after the
// beep: FreeSWITCH itself records the call in stereo (what it received from the callee, and what
// it sent to the callee), and the message's onset is found after the beep's end in that file.
// Then a callee that answers and sends no RTP at all: the call ends as a dead line.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { freeSipPort } from '../helpers/real/ports.js';
import { writeRtpPcap } from '../helpers/real/rtp-pcap.js';
import { sippSkipReason, runSipp, freeUdpPort, waitUdpBound, pcapScenario } from '../e2e/sipp-runner.js';
import { speak, tone, concat, writeWav8k, speechSkipReason } from '../helpers/caller-speech.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { parseWav } from '../../src/media/wav-file.js';
import { ToneDetector } from '../../src/analysis/tone-detector.js';
import { until } from '../helpers/harness.js';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';

const skip = realSkipReason() || sippSkipReason() || speechSkipReason();

/** First 20 ms frame (ms) from `fromMs` on whose RMS is above `dbfs`, or -1. */
function onsetMs(pcm: Int16Array, rateHz: number, fromMs: number, dbfs: number): number {
  const n = rateHz / 50;
  const min = (32768 * 10 ** (dbfs / 20)) ** 2;
  for (let i = Math.floor((fromMs * rateHz) / 1000 / n) * n; i + n <= pcm.length; i += n) {
    let e = 0;
    for (let j = 0; j < n; j++) e += pcm[i + j] * pcm[i + j];
    if (e / n >= min) return (i * 1000) / rateHz;
  }
  return -1;
}

/** The real drachtio-server and FreeSWITCH and `fsbridge run`, with a trunk to a sipp callee on trunkPort and this one bot. */
async function startNode(t: Test, bot: string) {
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
    outbound: { from: "4930999000", maxConcurrent: 5, callsPerSecond: 5 }
bots:
  ${bot}
`,
  });
  return { trunkPort, fs, daemon };
}

t.test('a machine greeting with a beep: machine_end_beep, and the message lands after the beep', { skip }, async (t) => {
  const echo = await startEchoBot({ protocol: 'twilio', port: 0, markEveryMs: Infinity });
  t.teardown(() => echo.close());
  const { trunkPort, fs, daemon } = await startNode(t, `echo: { url: "${echo.url}twilio", protocol: twilio, deadLineSec: 3 }`);

  // the callee: 0.4 s of silence, a voicemail greeting, 0.5 s, a 1 kHz beep of 0.5 s, then 6 s of silence
  const greeting = await speak('Hi, you have reached the voicemail of John Smith. I cannot take your call right now. Please leave a message after the tone.');
  const leadMs = 400;
  const beepAtMs = leadMs + (greeting.length / 8) + 500;
  const callee = concat([new Int16Array(8 * leadMs), greeting, new Int16Array(8 * 500), tone(500, 1000, 9000), new Int16Array(8 * 6000)]);
  const pcap = join(daemon.dir, 'machine.pcap');
  writeRtpPcap(pcap, callee, 20);
  // the message fsbridge leaves: 1.5 s of 600 Hz
  const message = join(daemon.dir, 'message.wav');
  writeWav8k(message, tone(1500, 600, 8000));

  const uas = runSipp(pcapScenario(daemon.dir, pcap), { port: trunkPort, mediaPort: await freeUdpPort(), calls: 1, timeoutSec: 60 });
  t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
  if (!t.ok(await waitUdpBound(trunkPort), 'the sipp callee listens')) {
    uas.child.kill();
    t.comment((await uas.done).output.slice(-2000));
    return;
  }

  const placed = await daemon.request('POST', '/v1/calls', { to: '+4915112345678', trunk: 'operator', bot: 'echo', amd: { onMachine: 'message', message } });
  t.equal(placed.status, 200, JSON.stringify(placed.body));
  t.equal(placed.body.result, 'answered');
  const callId = placed.body.callId as string;
  // FreeSWITCH records its leg to the callee: left what it received, right what it sent
  let fsUuid = '';
  // the channel reaches fsbridge's outbound socket just after the answer
  for (const end = Date.now() + 5000; !fsUuid && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    fsUuid = (await daemon.request('GET', `/v1/calls/${callId}`)).body.fsUuid ?? '';
  }
  t.ok(fsUuid, 'the call has its FreeSWITCH channel');
  const recording = join(daemon.dir, 'callee-leg.wav');
  t.match(await fs.api(`uuid_setvar ${fsUuid} RECORD_STEREO true`), /\+OK/);
  t.match(await fs.api(`uuid_record ${fsUuid} start ${recording}`), /\+OK/);

  await until(() => daemon.records().some((r) => r.callId === callId), 40_000, 'the call record');
  const rec = daemon.records().find((r) => r.callId === callId)!;
  t.match(rec, { direction: 'outbound', answeredBy: 'machine_end_beep', endedBy: 'fsbridge', errorCode: 'CALL_AMD_MESSAGE_PLAYED' }, 'AMD heard the beep, and the call ended after the message');
  t.equal(rec.connectedAt, null, 'the bot was never connected');
  t.match((await daemon.request('GET', `/v1/calls/${callId}`)).body, { answeredBy: 'machine_end_beep', errorCode: 'CALL_AMD_MESSAGE_PLAYED' }, 'the store has it too');
  const decided = daemon.logLines(/answering-machine detection decided/);
  t.equal(decided.length, 1, 'one decision');
  const beepLog = daemon.logLines(/answering machine beep heard/)[0];
  t.ok(beepLog, 'the beep was logged');
  t.comment(`decision: ${JSON.stringify(decided[0])}`);
  t.comment(`beep: ${JSON.stringify(beepLog)}; the callee's beep starts ${beepAtMs} ms into its audio`);

  // what FreeSWITCH received and sent, on one clock
  await until(() => { try { return readFileSync(recording).length > 44 + 16_000; } catch { return false; } }, 10_000, 'FreeSWITCH\'s recording');
  await (await uas.done);
  const wav = parseWav(readFileSync(recording))!;
  t.equal(wav.channels.length, 2, 'a stereo recording');
  const [heard, sent] = wav.channels;
  const rate = wav.rateHz;
  const tones = new ToneDetector({ sampleRateHz: rate === 16000 ? 16000 : 8000 });
  let beepStart = -1;
  let beepEnd = -1;
  const n = rate / 50;
  for (let i = 0; i + n <= heard.length; i += n) {
    const c = tones.push(heard.subarray(i, i + n));
    if (c === 1 && Math.abs(tones.hz - 1000) < 30 && beepStart < 0) beepStart = tones.startedAtMs;
    if (c === -1 && beepStart >= 0 && beepEnd < 0) beepEnd = tones.endedAtMs;
  }
  t.ok(beepStart >= 0 && beepEnd > beepStart, `the beep is in what FreeSWITCH received (${beepStart}–${beepEnd} ms of the recording)`);
  const msgAt = onsetMs(sent, rate, 0, -40);
  t.ok(msgAt >= 0, `the message is in what FreeSWITCH sent (from ${msgAt} ms)`);
  t.ok(msgAt >= beepEnd - 20, `the message starts after the beep ended (${msgAt - beepEnd} ms after)`);
  t.ok(msgAt - beepEnd <= 1500, 'and within 1.5 s of it');
  t.comment(`beep ${beepStart}–${beepEnd} ms, message from ${msgAt} ms (${msgAt - beepEnd} ms after the beep's end), recording at ${rate} Hz`);
});

t.test('a callee that answers and sends no RTP at all: the call ends as a dead line', { skip }, async (t) => {
  // a bot that listens and says nothing (an echo bot would play the line's silence back, and the
  // dead-line count waits while the bot plays)
  const quiet = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((r) => { for (const c of quiet.clients) c.terminate(); quiet.close(() => r()); }));
  await new Promise((r) => quiet.once('listening', r));
  const quietUrl = `ws://127.0.0.1:${(quiet.address() as AddressInfo).port}/`;
  const { trunkPort, daemon } = await startNode(t, `quiet: { url: "${quietUrl}", protocol: twilio, deadLineSec: 3 }`);
  // sipp answers and waits for the BYE without sending RTP (uas-trunk-answer.xml plays nothing)
  const uas = runSipp('uas-trunk-answer.xml', { port: trunkPort, mediaPort: await freeUdpPort(), calls: 1, timeoutSec: 60 });
  t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
  t.ok(await waitUdpBound(trunkPort), 'the sipp callee listens');
  const placed = await daemon.request('POST', '/v1/calls', { to: '+4915112345679', trunk: 'operator', bot: 'quiet' });
  t.equal(placed.body.result, 'answered', JSON.stringify(placed.body));
  const callId = placed.body.callId as string;
  await until(() => daemon.records().some((r) => r.callId === callId), 30_000, 'the call record');
  const rec = daemon.records().find((r) => r.callId === callId)!;
  t.match(rec, { endedBy: 'fsbridge', errorCode: 'CALL_DEAD_LINE', cause: 'MEDIA_TIMEOUT' }, 'ended as a dead line');
  t.ok(rec.durationMs >= 3000 && rec.durationMs < 15_000, `after deadLineSec (${rec.durationMs} ms)`);
  t.comment(`dead line: ${JSON.stringify(daemon.logLines(/the line carries no audio/)[0])}`);
});
