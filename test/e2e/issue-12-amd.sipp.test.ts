// Issue 12, answering-machine detection on outbound calls placed with POST /v1/calls, through the
// real daemon with the FreeSWITCH and drachtio twins; the callee is a sipp UAS that answers and
// plays a pcap of its voice (uas-trunk-answer-pcap.xml). A person's "Hello?": AMD says human, and
// the bot connects with AnsweredBy=human. A voicemail greeting and a 1 kHz beep with
// onMachine message: AMD waits for the beep, fsbridge leaves the message, the call ends
// CALL_AMD_MESSAGE_PLAYED with answeredBy machine_end_beep, and the bot is never connected.
//
// What the twin received from the callee (fs.onCallerAudio, subscribed when its channel is
// created) and what it played to the callee (fs.earRecording) are one frame per media tick of the
// same channel: the same clock, so the message's onset is measured against the beep's end.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { runSipp, freeUdpPort, sippSkipReason, waitUdpBound, pcapScenario } from './sipp-runner.js';
import { writeRtpPcap } from '../helpers/real/rtp-pcap.js';
import { ScriptedBot } from '../helpers/real/scripted-bot.js';
import { until } from '../helpers/harness.js';
import { startTwinDaemon, type TwinDaemon } from '../helpers/twin-daemon.js';
import { concat, silence, speak, speechSegments, speechSkipReason, tone, toneRuns, writeWav8k } from '../helpers/caller-speech.js';
import type { Call } from '../../src/calls/call.js';
import type { CallRecord } from '../../src/calls/call-record.js';

const skip = sippSkipReason() || speechSkipReason();

/** A daemon with one trunk (the sipp callee) and a native bot; the callee plays `callee` (8 kHz). */
async function setup(t: Test, callee: Int16Array) {
  const bot = await ScriptedBot.start(t);
  const trunkPort = await freeUdpPort();
  const h = await startTwinDaemon(t, `
trunks:
  - { name: operator, registrar: "sip:127.0.0.1:${trunkPort}", register: false, outbound: { from: "4930999000" } }
bots:
  agent: { url: "${bot.url}", protocol: native }
`);
  const pcap = join(h.dir, 'callee.pcap');
  writeRtpPcap(pcap, callee, 20);
  const uas = runSipp(pcapScenario(h.dir, pcap), { port: trunkPort, mediaPort: await freeUdpPort(), calls: 1, timeoutSec: 60 });
  t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
  t.ok(await waitUdpBound(trunkPort), 'the sipp callee listens');
  // the twin's channel to the callee: what it receives, per media tick from its creation
  const received: Int16Array[] = [];
  let fsUuid = '';
  const unsubs: (() => void)[] = [];
  unsubs.push(h.fs.onEvent((ev) => {
    const uuid = ev.get('Unique-ID');
    if (!fsUuid && ev.name === 'CHANNEL_CREATE' && uuid) {
      fsUuid = uuid;
      unsubs.push(h.fs.onCallerAudio(uuid, (pcm) => { received.push(Int16Array.from(pcm)); }));
    }
  }));
  t.teardown(() => { for (const u of unsubs) u(); });
  const calls: Call[] = [];
  const records: CallRecord[] = [];
  h.daemon.calls.on('call', (c) => { calls.push(c); c.on('ended', (r) => records.push(r)); });
  return { h, bot, calls, records, received: () => concat(received), fsUuid: () => fsUuid };
}

async function storedRecord(h: TwinDaemon, callId: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await h.api('GET', `/v1/calls/${callId}`);
    if (r.status === 200 && r.body.state === 'ended') return r.body as Record<string, any>;
    if (Date.now() > deadline) throw new Error(`the store has no ended record of ${callId}: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function metric(h: TwinDaemon, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${h.ports.api}/metrics`)).text();
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

t.test('a person answers "Hello?": human, the bot connects with AnsweredBy=human', { skip }, async (t) => {
  const hello = await speak('Hello?');
  const leadMs = 400;
  const s = await setup(t, concat([silence(leadMs), hello, silence(8000)]));
  const { h, bot } = s;
  const connP = bot.next(30_000, 0);
  const placed = await h.api('POST', '/v1/calls', { to: '+4915112345678', trunk: 'operator', bot: 'agent', amd: { onMachine: 'connect' } });
  t.equal(placed.status, 200, JSON.stringify(placed.body));
  t.equal(placed.body.result, 'answered');
  const callId = placed.body.callId as string;
  const conn = await connP;
  const start = await conn.message('start');
  t.match(start, { event: 'start', direction: 'outbound', params: { AnsweredBy: 'human' } }, 'the bot starts with AnsweredBy=human');
  const amd = await conn.message('amd');
  t.match(amd, { event: 'amd', answeredBy: 'human', decisionMs: Number }, 'and the amd event');
  t.ok(conn.messages.indexOf(amd) === conn.messages.indexOf(start) + 1, 'right after start');
  const helloMs = speechSegments(hello)[0][1];
  t.comment(`decided human at ${amd.decisionMs} ms of the stream; the callee said "Hello?" (${helloMs} ms) after ${leadMs} ms of its own audio`);
  conn.close(1000);
  await until(() => s.records.length === 1, 15_000, 'the call record');
  t.match(s.records[0], { callId, direction: 'outbound', answeredBy: 'human', endedBy: 'bot' }, 'the record says who answered');
  t.not(s.records[0].connectedAt, null, 'the bot was connected');
  t.match(await storedRecord(h, callId), { answeredBy: 'human' }, 'so does the store');
  t.equal(await metric(h, 'fsbridge_amd_results_total{result="human"}'), 1, 'fsbridge_amd_results_total{result="human"} 1');
});

t.test('a voicemail greeting and a beep, onMachine message: machine_end_beep, the message after the beep, the bot never connected', { skip }, async (t) => {
  const greeting = await speak('Hi, you have reached the voicemail of John Smith. I cannot take your call right now. Please leave a message after the tone.');
  const leadMs = 400;
  const beepAtMs = leadMs + greeting.length / 8 + 500;
  const BEEP_HZ = 1000;
  const MESSAGE_HZ = 600;
  const s = await setup(t, concat([silence(leadMs), greeting, silence(500), tone(500, BEEP_HZ, 9000), silence(8000)]));
  const { h, bot } = s;
  const message = writeWav8k(join(h.dir, 'message.wav'), tone(1500, MESSAGE_HZ, 8000));
  const placed = await h.api('POST', '/v1/calls', { to: '+4915112345679', trunk: 'operator', bot: 'agent', amd: { onMachine: 'message', message } });
  t.equal(placed.status, 200, JSON.stringify(placed.body));
  t.equal(placed.body.result, 'answered');
  const callId = placed.body.callId as string;
  await until(() => s.records.length === 1, 40_000, 'the call record');
  const rec = s.records[0];
  t.match(rec, { callId, direction: 'outbound', answeredBy: 'machine_end_beep', endedBy: 'fsbridge', cause: 'NORMAL_CLEARING', errorCode: 'CALL_AMD_MESSAGE_PLAYED' }, 'the beep was heard and the message left');
  t.equal(rec.connectedAt, null, 'the bot was never connected');
  t.equal(bot.conns.length, 0, 'the bot never got a connection');
  t.match(await storedRecord(h, callId), { answeredBy: 'machine_end_beep', errorCode: 'CALL_AMD_MESSAGE_PLAYED' }, 'so does the store');
  t.equal(await metric(h, 'fsbridge_amd_results_total{result="machine_end_beep"}'), 1, 'fsbridge_amd_results_total{result="machine_end_beep"} 1');

  // on the twin's clock: the beep it received, the message it played to the callee
  const beep = toneRuns(s.received(), BEEP_HZ, { maxGapMs: 100 });
  t.equal(beep.length, 1, `the twin received the callee's beep once (${JSON.stringify(beep)} ms)`);
  const played = toneRuns(h.fs.earRecording(s.fsUuid()), MESSAGE_HZ, { maxGapMs: 100 });
  t.equal(played.length, 1, `the callee was played the message once (${JSON.stringify(played)} ms)`);
  const beepEnd = beep[0]?.[1] ?? 0;
  const [msgFrom, msgTo] = played[0] ?? [0, 0];
  t.ok(msgFrom >= beepEnd, `the message starts after the beep ended (${msgFrom - beepEnd} ms after)`);
  t.ok(Math.abs(msgTo - msgFrom - 1500) <= 60, `all of it (${msgTo - msgFrom} ms of 1500)`);
  t.comment(`beep ${beep[0]?.[0]}–${beepEnd} ms (callee's audio: ${beepAtMs}–${beepAtMs + 500} ms), message ${msgFrom}–${msgTo} ms of the twin's channel: ${msgFrom - beepEnd} ms after the beep's end`);
});
