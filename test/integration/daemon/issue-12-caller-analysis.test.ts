// Issue 12, the analysis of the caller's audio, through the real daemon with the FreeSWITCH and
// drachtio twins (real sockets on loopback): speech events to native bots (and to twilio bots
// that opt in) at the right caller-audio time, local barge-in, the silence timeout (hang-up, and a
// prompt first), and the dead line. The caller says a WAV (sim_caller_audio) spoken by espeak-ng.
//
// Time: a speech event's timestamp is ms of caller audio since mod_audio_stream's stream started.
// The twin reads the caller's WAV one 20 ms frame per media tick from the channel's answer on;
// mod_audio_stream (twin) fires MEDIA_BUG_START and subscribes to the channel's frames in the same
// turn, and sends every frame from the next tick on. So the test counts the channel's frames from
// its creation (fs.onCallerAudio, subscribed in CHANNEL_CREATE, before the media clock starts) and
// takes the count at MEDIA_BUG_START (fs.onEvent is synchronous): stream time t is WAV time
// t + 20 × count, exactly. The true onset / offset of the phrase are the corpus's ground truth
// (5 ms windows above -51 dBFS, bench/lib/amd-corpus.ts) at their place in the WAV.
//
// The ear recording (what the caller heard) runs on the same twin media clock as the caller's WAV:
// ear sample i was played in the tick that read WAV sample i.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { startTwinDaemon, type TwinDaemon } from '../../helpers/twin-daemon.js';
import { ScriptedBot, type BotConn } from '../../helpers/real/scripted-bot.js';
import { until } from '../../helpers/harness.js';
import { concat, silence, speak, speechSegments, speechSkipReason, tone, toneRuns, writeWav8k } from '../../helpers/caller-speech.js';
import { ulawDecode, ulawEncode } from '../../../src/media/g711.js';
import { leBytesToPcm } from '../../../src/bots/pcm-bytes.js';
import type { Call } from '../../../src/calls/call.js';
import type { CallRecord } from '../../../src/calls/call-record.js';

const skip = speechSkipReason();
/** The tolerance of a speech event's timestamp against the truth (ms). */
const TOLERANCE_MS = 60;
const PHRASE = 'I would like to check my account balance please';

interface PlacedCall {
  call: Call;
  aLeg: string;
  bLeg: string;
  /** The bot's connection for this call (the next one the scripted bot accepts). */
  conn: Promise<BotConn>;
  ended: Promise<CallRecord>;
  /** How many times the call emitted `ended`. */
  endedCount(): number;
  /** WAV time (ms) of the stream's first frame: stream time t is WAV time (t + this). */
  streamOffsetMs(): number;
}

/**
 * Places a call from the twin into the shipped dialplan's bot-<name> extension with `vars` (e.g.
 * sim_caller_audio); resolves once the daemon has it and the stream started.
 */
async function placeCall(t: Test, h: TwinDaemon, scripted: ScriptedBot, bot: string, vars: string[] = []): Promise<PlacedCall> {
  const conn = scripted.next(15_000, scripted.conns.length);
  conn.catch(() => {});
  let bLeg = '';
  let frames = 0;
  let streamFrame = -1;
  const unsubs: (() => void)[] = [];
  unsubs.push(h.fs.onEvent((ev) => {
    const uuid = ev.get('Unique-ID');
    if (!bLeg && ev.name === 'CHANNEL_CREATE' && ev.get('Channel-Name') === `loopback/bot-${bot}-b` && uuid) {
      bLeg = uuid;
      unsubs.push(h.fs.onCallerAudio(bLeg, () => { frames++; }));
    }
    if (ev.name === 'MEDIA_BUG_START' && uuid === bLeg && streamFrame < 0) streamFrame = frames;
  }));
  t.teardown(() => { for (const u of unsubs) u(); });
  const got = new Promise<Call>((resolve) => h.daemon.calls.once('call', resolve));
  const reply = await h.fs.api(`originate {${vars.join(',')}}loopback/bot-${bot}/default &park`);
  const aLeg = /^\+OK (\S+)/.exec(reply)?.[1];
  if (!aLeg) throw new Error(`originate failed: ${reply}`);
  const call = await got;
  let endedCount = 0;
  const ended = new Promise<CallRecord>((resolve) => call.on('ended', (r) => { endedCount++; resolve(r); }));
  await until(() => streamFrame >= 0, 10_000, 'mod_audio_stream started on the channel');
  t.equal(call.fsUuid, bLeg, 'the daemon handles the loopback B leg');
  return { call, aLeg, bLeg, conn, ended, endedCount: () => endedCount, streamOffsetMs: () => streamFrame * 20 };
}

/** The call's stored record, once the store has it as ended. */
async function storedRecord(h: TwinDaemon, callId: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rec = await h.api('GET', `/v1/calls/${callId}`);
    if (rec.status === 200 && rec.body.state === 'ended') return rec.body as Record<string, any>;
    if (Date.now() > deadline) throw new Error(`the store has no ended record of ${callId}: ${JSON.stringify(rec.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metricsText(h: TwinDaemon): Promise<string> {
  return (await fetch(`http://127.0.0.1:${h.ports.api}/metrics`)).text();
}

/** A metric's value by its exact series text (name{labels}), or undefined when absent. */
function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

/** The caller's WAV: `leadMs` of silence, the phrase, `tailMs` of silence; with where the phrase's speech is (WAV ms). */
function callerWav(dir: string, phrase: Int16Array, leadMs: number, tailMs: number, name: string): { path: string; onsetMs: number; offsetMs: number } {
  const segs = speechSegments(phrase);
  const path = writeWav8k(join(dir, `${name}.wav`), concat([silence(leadMs), phrase, silence(tailMs)]));
  return { path, onsetMs: leadMs + segs[0][0], offsetMs: leadMs + segs[segs.length - 1][1] };
}

const events = (c: BotConn, name: string) => c.messages.filter((m) => m.event === name);

/**
 * Where the phrase is in the caller audio the bot itself received (ms since its `start`: the clock
 * of the events' timestamps, and of Twilio's media timestamps).
 */
function heardSpeech(pcm: Int16Array): { onsetMs: number; offsetMs: number } {
  const segs = speechSegments(pcm);
  if (segs.length === 0) throw new Error('the bot received no speech');
  return { onsetMs: segs[0][0], offsetMs: segs[segs.length - 1][1] };
}

/** A native (L16) bot's caller audio. */
const nativeHeard = (c: BotConn) => { const b = Buffer.concat(c.binary); return heardSpeech(leBytesToPcm(b, b.length)); };

/** A twilio bot's caller audio (its media messages' μ-law). */
const twilioHeard = (c: BotConn) => {
  const b = Buffer.concat(events(c, 'media').map((m) => Buffer.from(String(m.media.payload), 'base64')));
  const pcm = new Int16Array(b.length);
  ulawDecode(b, pcm);
  return heardSpeech(pcm);
};

t.test('speech events: native bots always, twilio bots only when they opt in; timestamps in caller-audio time', { skip }, async (t) => {
  const bot = await ScriptedBot.start(t);
  const h = await startTwinDaemon(t, `
bots:
  native: { url: "${bot.url}", protocol: native }
  tw: { url: "${bot.url}", protocol: twilio }
  tw-speech: { url: "${bot.url}", protocol: twilio, speechEvents: true }
`);
  const phrase = await speak(PHRASE);
  t.equal(speechSegments(phrase).length, 1, `the phrase is one stretch of speech (${phrase.length / 8} ms)`);
  // the speech starts mid-frame (1510 ms): the VAD's 20 ms frames cannot hit it exactly
  const wav = callerWav(h.dir, phrase, 1510, 2500, 'caller');

  t.test('native', async (t) => {
    const c = await placeCall(t, h, bot, 'native', [`sim_caller_audio=${wav.path}`]);
    const conn = await c.conn;
    await conn.message('start');
    await conn.until(() => events(conn, 'speech_stopped').length > 0, 'speech_stopped', 15_000);
    const off = c.streamOffsetMs();
    t.ok(off < wav.onsetMs - 200, `the stream started ${off} ms into the caller's WAV, before the speech (${wav.onsetMs} ms)`);
    const order = conn.messages.filter((m) => m.event === 'speech_started' || m.event === 'speech_stopped').map((m) => m.event);
    t.same(order, ['speech_started', 'speech_stopped'], 'one talkspurt: started, then stopped');
    const started = events(conn, 'speech_started')[0];
    const stopped = events(conn, 'speech_stopped')[0];
    t.same(Object.keys(started).sort(), ['event', 'timestamp']);
    const heard = nativeHeard(conn);
    const onErr = started.timestamp - heard.onsetMs;
    const offErr = stopped.timestamp - heard.offsetMs;
    t.ok(Math.abs(onErr) <= TOLERANCE_MS, `speech_started at ${started.timestamp} ms of the bot's audio: ${onErr} ms from the true onset (${heard.onsetMs} ms)`);
    t.ok(Math.abs(offErr) <= TOLERANCE_MS, `speech_stopped at ${stopped.timestamp} ms of the bot's audio: ${offErr} ms from the true offset (${heard.offsetMs} ms)`);
    t.comment(`native: onset error ${onErr} ms, offset error ${offErr} ms (stream started ${off} ms into the WAV; the bot's audio starts ${wav.onsetMs - off - heard.onsetMs} ms into the stream)`);
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    await c.ended;
  });

  /** A twilio call that lasts until the bot had 1 s of audio past the speech's end; returns the bot's connection. */
  const twilioCall = async (t: Test, name: string, vars: string[]) => {
    const c = await placeCall(t, h, bot, name, [`sim_caller_audio=${wav.path}`, ...vars]);
    const conn = await c.conn;
    await conn.message('start');
    // the bot gets the stream's frames from some frame on: this many media messages put the stream
    // past the speech's end plus the VAD's hangover (events go out before the frame that made them)
    const needFrames = Math.ceil((wav.offsetMs - c.streamOffsetMs() + 1000) / 20);
    await conn.until(() => events(conn, 'media').length >= needFrames, `${needFrames} media messages`, 20_000);
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    await c.ended;
    return { conn };
  };

  t.test('twilio, default configuration: no speech events', async (t) => {
    const { conn } = await twilioCall(t, 'tw', []);
    t.same(conn.messages.filter((m) => /speech|barge/.test(String(m.event))), [], 'nothing but the protocol\'s own messages');
  });

  const checkTwilio = (t: Test, conn: BotConn, how: string) => {
    const sid = events(conn, 'start')[0].streamSid as string;
    const started = events(conn, 'speech_started');
    const stopped = events(conn, 'speech_stopped');
    t.equal(started.length, 1, 'one speech_started');
    t.equal(stopped.length, 1, 'one speech_stopped');
    t.match(started[0], { event: 'speech_started', sequenceNumber: /^\d+$/, streamSid: sid, speech: { timestamp: /^\d+$/ } }, 'shaped like the protocol\'s messages');
    t.ok(conn.messages.indexOf(started[0]) < conn.messages.indexOf(stopped[0]), 'started before stopped');
    const heard = twilioHeard(conn);
    const onErr = Number(started[0].speech.timestamp) - heard.onsetMs;
    const offErr = Number(stopped[0].speech.timestamp) - heard.offsetMs;
    t.ok(Math.abs(onErr) <= TOLERANCE_MS, `onset error ${onErr} ms`);
    t.ok(Math.abs(offErr) <= TOLERANCE_MS, `offset error ${offErr} ms`);
    t.comment(`twilio (${how}): onset error ${onErr} ms, offset error ${offErr} ms`);
  };

  t.test('twilio with speechEvents: true', async (t) => {
    const { conn } = await twilioCall(t, 'tw-speech', []);
    checkTwilio(t, conn, 'speechEvents: true');
  });

  t.test('twilio with the call\'s custom parameter fsbridgeSpeechEvents=true', async (t) => {
    const { conn } = await twilioCall(t, 'tw', ['fsbridge_param_fsbridgeSpeechEvents=true']);
    t.match(events(conn, 'start')[0], { start: { customParameters: { fsbridgeSpeechEvents: 'true' } } });
    checkTwilio(t, conn, 'fsbridgeSpeechEvents=true');
  });
});

t.test('barge-in: the caller speaks over the bot', { skip }, async (t) => {
  const bot = await ScriptedBot.start(t);
  const h = await startTwinDaemon(t, `
bots:
  barge: { url: "${bot.url}", protocol: native, bargeIn: true }
  nobarge: { url: "${bot.url}", protocol: native }
  tw-barge: { url: "${bot.url}", protocol: twilio, bargeIn: true }
`);
  const phrase = await speak(PHRASE);
  const wav = callerWav(h.dir, phrase, 2010, 6000, 'caller');
  const BOT_HZ = 300;
  const botAudio = Buffer.from(tone(5000, BOT_HZ, 8000).buffer);

  /** The bot sends 5 s of a 300 Hz tone and a mark as soon as it starts. */
  const run = async (t: Test, name: string) => {
    const c = await placeCall(t, h, bot, name, [`sim_caller_audio=${wav.path}`]);
    const conn = await c.conn;
    await conn.message('start');
    const sentAt = Date.now();
    conn.sendBinary(botAudio);
    conn.send({ event: 'mark', name: 'after-5s' });
    await conn.until(() => events(conn, 'mark').length > 0, 'the mark back', 15_000);
    const markMs = Date.now() - sentAt;
    return { c, conn, markMs };
  };

  t.test('bargeIn: true', async (t) => {
    const before = metric(await metricsText(h), 'fsbridge_barge_ins_total') ?? 0;
    const { c, conn, markMs } = await run(t, 'barge');
    // the mark is echoed by the clear, right after barge_in, in the same turn as speech_started
    await conn.until(() => events(conn, 'barge_in').length > 0 && events(conn, 'speech_started').length > 0, 'barge_in and speech_started');
    const barge = events(conn, 'barge_in');
    t.equal(barge.length, 1, 'the bot is told of the barge-in');
    t.match(events(conn, 'mark'), [{ event: 'mark', name: 'after-5s' }], 'its mark comes back');
    const order = conn.messages.filter((m) => ['mark', 'barge_in', 'speech_started'].includes(String(m.event))).map((m) => m.event);
    t.same(order.slice(0, 2), ['barge_in', 'mark'], 'told of the barge-in first, then the cut-off mark comes back');
    t.ok(markMs < 4000, `the mark came back ${markMs} ms after the 5 s of audio were sent`);
    const err = barge[0].timestamp - nativeHeard(conn).onsetMs;
    t.ok(Math.abs(err) <= TOLERANCE_MS, `barge_in at ${barge[0].timestamp} ms of the bot's audio: ${err} ms from the speech onset`);
    t.equal(barge[0].timestamp, events(conn, 'speech_started')[0]?.timestamp, 'at the speech_started time');
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    await c.ended;
    // what the caller heard: the bot's tone, cut once the caller spoke
    const heard = toneRuns(h.fs.earRecording(c.bLeg), BOT_HZ, { maxGapMs: 100 });
    t.ok(heard.length >= 1, `the caller heard the bot (${JSON.stringify(heard)})`);
    const end = heard[heard.length - 1][1];
    t.ok(end > wav.onsetMs && end - wav.onsetMs < 1000, `the bot's audio stopped ${end - wav.onsetMs} ms after the caller started speaking`);
    t.ok(end - heard[0][0] < 4500, `the caller heard ${end - heard[0][0]} ms of the bot's 5000 ms`);
    t.comment(`bargeIn: true: mark back after ${markMs} ms; barge_in error ${err} ms; caller heard the bot stop ${end - wav.onsetMs} ms after the speech onset (ear)`);
    t.equal((metric(await metricsText(h), 'fsbridge_barge_ins_total') ?? 0) - before, 1, 'fsbridge_barge_ins_total counted it');
  });

  t.test('bargeIn: true, twilio bot: its pending mark comes back, nothing else', async (t) => {
    const c = await placeCall(t, h, bot, 'tw-barge', [`sim_caller_audio=${wav.path}`]);
    const conn = await c.conn;
    const sid = (await conn.message('start')).streamSid as string;
    const ulaw = Buffer.alloc(botAudio.length / 2);
    ulawEncode(tone(5000, BOT_HZ, 8000), ulaw);
    const sentAt = Date.now();
    conn.send({ event: 'media', streamSid: sid, media: { payload: ulaw.toString('base64') } });
    conn.send({ event: 'mark', streamSid: sid, mark: { name: 'after-5s' } });
    await conn.until(() => events(conn, 'mark').length > 0, 'the mark back', 15_000);
    const markMs = Date.now() - sentAt;
    t.match(events(conn, 'mark'), [{ event: 'mark', streamSid: sid, mark: { name: 'after-5s' } }], 'its mark comes back');
    t.ok(markMs < 4000, `${markMs} ms after the 5 s of audio were sent`);
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    await c.ended;
    t.same(conn.messages.filter((m) => /speech|barge/.test(String(m.event))), [], 'no barge_in or speech events (twilio has none; speechEvents is off)');
    const heard = toneRuns(h.fs.earRecording(c.bLeg), BOT_HZ, { maxGapMs: 100 });
    const end = heard[heard.length - 1]?.[1] ?? 0;
    t.ok(end > wav.onsetMs && end - wav.onsetMs < 1000, `the bot's audio stopped ${end - wav.onsetMs} ms after the caller started speaking`);
    t.comment(`bargeIn: true (twilio): mark back after ${markMs} ms; the caller heard the bot stop ${end - wav.onsetMs} ms after the speech onset`);
  });

  t.test('bargeIn: false', async (t) => {
    const { c, conn, markMs } = await run(t, 'nobarge');
    t.ok(markMs >= 4900, `the mark came back after the audio played (${markMs} ms)`);
    t.same(events(conn, 'barge_in'), [], 'no barge_in');
    t.equal(events(conn, 'speech_started').length, 1, 'the speech was still reported');
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    await c.ended;
    const heard = toneRuns(h.fs.earRecording(c.bLeg), BOT_HZ, { maxGapMs: 100 });
    const total = heard.reduce((n, [a, b]) => n + b - a, 0);
    t.ok(total >= 4900, `the caller heard the whole 5 s of the bot (${total} ms in ${heard.length} run(s))`);
    t.comment(`bargeIn: false: mark back after ${markMs} ms; the caller heard ${total} ms of the bot`);
  });
});

t.test('silence timeout', { skip }, async (t) => {
  t.test('action hangup: a silent caller, a bot that says nothing', async (t) => {
    const bot = await ScriptedBot.start(t);
    const h = await startTwinDaemon(t, `
bots:
  quiet: { url: "${bot.url}", protocol: native, silenceTimeout: { afterSec: 2, action: hangup } }
`);
    // no sim_caller_audio: the twin's caller sends silence
    const c = await placeCall(t, h, bot, 'quiet');
    const conn = await c.conn;
    await conn.message('start');
    const rec = await c.ended;
    t.match(rec, { endedBy: 'fsbridge', cause: 'NORMAL_CLEARING', errorCode: 'CALL_SILENCE_TIMEOUT' }, 'the record says the caller was silent');
    t.ok(rec.durationMs >= 2000, `not before 2 s of caller audio (${rec.durationMs} ms)`);
    const stored = await storedRecord(h, c.call.callId);
    t.match(stored, { errorCode: 'CALL_SILENCE_TIMEOUT', cause: 'NORMAL_CLEARING', endedBy: 'fsbridge' }, 'and so does the store');
    await conn.until(() => conn.closedWith !== null, 'the bot\'s connection closed');
    t.equal(events(conn, 'stop').length, 1, 'the bot is stopped once');
    t.equal(c.endedCount(), 1, 'the call ended once');
    const m = await metricsText(h);
    t.equal(metric(m, 'fsbridge_silence_timeouts_total{action="hangup"}'), 1, 'fsbridge_silence_timeouts_total{action="hangup"} 1');
    t.equal(metric(m, 'fsbridge_silence_timeouts_total{action="prompt"}'), undefined, 'no prompt');
    const list = await h.api('GET', '/v1/calls');
    t.equal(list.body.calls.filter((x: { callId: string }) => x.callId === c.call.callId).length, 1, 'one stored call');
  });

  t.test('action prompt, prompts 1: the prompt plays, then the next timeout ends the call', async (t) => {
    const bot = await ScriptedBot.start(t);
    const PROMPT_HZ = 600;
    const h = await startTwinDaemon(t, (dir) => `
bots:
  prompter: { url: "${bot.url}", protocol: native, silenceTimeout: { afterSec: 2, action: prompt, prompt: ${JSON.stringify(writeWav8k(join(dir, 'are-you-there.wav'), tone(1000, PROMPT_HZ, 9000)))}, prompts: 1 } }
`);
    const c = await placeCall(t, h, bot, 'prompter');
    const conn = await c.conn;
    await conn.message('start');
    const rec = await c.ended;
    t.match(rec, { endedBy: 'fsbridge', cause: 'NORMAL_CLEARING', errorCode: 'CALL_SILENCE_TIMEOUT' });
    t.equal(c.endedCount(), 1, 'the call ended once');
    const m = await metricsText(h);
    t.equal(metric(m, 'fsbridge_silence_timeouts_total{action="prompt"}'), 1, 'one prompt');
    t.equal(metric(m, 'fsbridge_silence_timeouts_total{action="hangup"}'), 1, 'then one hang-up');
    t.match(await storedRecord(h, c.call.callId), { errorCode: 'CALL_SILENCE_TIMEOUT' });
    // what the caller heard: the prompt, 2 s of stream silence in; the end 2 s after it
    const ear = h.fs.earRecording(c.bLeg);
    const runs = toneRuns(ear, PROMPT_HZ, { maxGapMs: 100 });
    t.equal(runs.length, 1, `the caller heard the prompt once (${JSON.stringify(runs)})`);
    const [from, to] = runs[0] ?? [0, 0];
    const off = c.streamOffsetMs();
    t.ok(Math.abs(to - from - 1000) <= 60, `all of it (${to - from} ms of 1000)`);
    t.ok(from - off >= 2000, `after 2 s of the caller's silence (${from - off} ms into the stream)`);
    const endMs = ear.length / 8;
    // 2 s of silence counted from the prompt's end (less what a loaded daemon lags behind the caller)
    t.ok(endMs - to >= 1800, `the call ended ${endMs - to} ms after the prompt ended: at the next timeout, not before`);
    t.comment(`prompt heard ${from - off}–${to - off} ms into the stream; the caller's channel ended ${endMs - to} ms after the prompt`);
  });

  // Regression: CallAnalysis fires silence_timeout once per silence run, and MediaLeg dropped it
  // while the bot's websocket was not open yet; it never fired again while the caller stayed
  // silent, so a bot that opened after afterSec (a slow bot; any call with AMD, whose bot connects
  // after the decision) never got the timeout. Silence now counts only once the bot is there.
  t.test('the bot opens after afterSec of caller silence: the timeout still ends the call', async (t) => {
    // a bot whose websocket upgrade takes 2.5 s
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => { setTimeout(() => cb(true), 2500); } });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    t.teardown(() => { for (const ws of wss.clients) ws.terminate(); return new Promise<void>((r) => wss.close(() => r())); });
    let frames = 0;
    wss.on('connection', (ws) => ws.on('message', (_d, binary) => { if (binary) frames++; }));
    const h = await startTwinDaemon(t, `
bots:
  slow: { url: "ws://127.0.0.1:${(wss.address() as AddressInfo).port}/", protocol: native, connectTimeoutMs: 5000, deadLineSec: 0, silenceTimeout: { afterSec: 2, action: hangup } }
`);
    const got = new Promise<Call>((resolve) => h.daemon.calls.once('call', resolve));
    const reply = await h.fs.api('originate {}loopback/bot-slow/default &park');
    const call = await got;
    let rec: CallRecord | null = null;
    call.once('ended', (r) => { rec = r; });
    // 4 s of silence at the bot once it opened: twice afterSec
    await until(() => rec !== null || frames >= 200, 20_000, 'the end of the call, or 4 s of silence at the bot');
    if (!rec) await h.fs.api(`uuid_kill ${/^\+OK (\S+)/.exec(reply)?.[1] ?? ''}`);
    t.match(rec, { errorCode: 'CALL_SILENCE_TIMEOUT' }, `the call ended on the silence timeout (${rec ? `after ${frames * 20} ms of audio at the bot` : `still up after ${frames * 20} ms of silence at the bot`})`);
  });
});

t.test('dead line', { skip }, async (t) => {
  const bot = await ScriptedBot.start(t);
  const h = await startTwinDaemon(t, `
bots:
  dead: { url: "${bot.url}", protocol: native, deadLineSec: 2 }
`);
  const dc = writeWav8k(join(h.dir, 'dc.wav'), new Int16Array(8000 * 30).fill(1200));
  const hum = writeWav8k(join(h.dir, 'hum.wav'), tone(30_000, 150, 200));

  for (const [what, vars] of [['digital silence', []], ['a constant non-zero level (DC)', [`sim_caller_audio=${dc}`]]] as const) {
    t.test(`the caller sends ${what}: CALL_DEAD_LINE`, async (t) => {
      const c = await placeCall(t, h, bot, 'dead', [...vars]);
      const conn = await c.conn;
      await conn.message('start');
      const rec = await c.ended;
      t.match(rec, { endedBy: 'fsbridge', cause: 'MEDIA_TIMEOUT', errorCode: 'CALL_DEAD_LINE' });
      t.ok(rec.durationMs >= 2000, `not before 2 s (${rec.durationMs} ms)`);
      t.match(await storedRecord(h, c.call.callId), { errorCode: 'CALL_DEAD_LINE', cause: 'MEDIA_TIMEOUT' });
      t.equal(c.endedCount(), 1);
    });
  }

  t.test('a quiet but live line (a -44 dBFS hum) is not dead', async (t) => {
    const c = await placeCall(t, h, bot, 'dead', [`sim_caller_audio=${hum}`]);
    const conn = await c.conn;
    await conn.message('start');
    // 4 s of the caller's audio at the bot: twice deadLineSec
    await conn.until(() => conn.binaryFrames >= 200, '4 s of caller audio at the bot', 15_000);
    t.equal(c.call.state, 'connected', 'the call is still up');
    await h.fs.api(`uuid_kill ${c.aLeg}`);
    const rec = await c.ended;
    t.equal(rec.errorCode, undefined, 'the caller hung up');
  });
});
