// Call control on the real FreeSWITCH with `fsbridge run`: marks, clear (barge-in), DTMF both ways,
// hang-up from each side (caller, bot close, native hangup, HTTP API, Twilio REST), and bot
// transfer. Each call leaves one record saying who ended it.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { placeLoopbackCall, type LoopbackCall } from '../helpers/real/caller.js';
import { aperiodicSignal, readStereoWav, writeWav } from '../../bench/lib/recording.js';
import { ScriptedBot } from '../helpers/real/scripted-bot.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { toneSequence } from '../../src/cli/recording.js';
import { until } from '../helpers/harness.js';

const skip = realSkipReason();

/** Seconds of `pcm` (8 kHz) whose 20 ms frames are loud, and where the loud part ends. */
function loudSpan(pcm: Int16Array): { loudMs: number; lastLoudMs: number } {
  let loud = 0;
  let last = -1;
  for (let f = 0; f + 160 <= pcm.length; f += 160) {
    let e = 0;
    for (let i = f; i < f + 160; i++) e += pcm[i] * pcm[i];
    if (Math.sqrt(e / 160) > 800) { loud++; last = f; }
  }
  return { loudMs: loud * 20, lastLoudMs: last < 0 ? -1 : last / 8 + 20 };
}

const TRANSFER_TARGET = `<include>
  <extension name="transfer-target">
    <condition field="destination_number" expression="^transfer-target$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(10000,0,1000);loops=-1"/>
    </condition>
  </extension>
</include>
`;

t.test('call control on the real FreeSWITCH', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-cc-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const greeting = toneSequence([600], 6000, 8000, 0.4);
  const echo = await startEchoBot({ protocol: 'twilio', port: 0, greeting, markEveryMs: 400, hangupOnDtmf: '#', clearOnDtmf: '*' });
  t.teardown(() => echo.close());
  const scripted = await ScriptedBot.start(t);
  const fs = await RealFreeswitch.start(t, { dropIns: { 'dialplan/default/test-transfer-target.xml': TRANSFER_TARGET } });
  const daemon = await DaemonProcess.start(t, {
    fs,
    yaml: `
bots:
  echo: { url: "${echo.url}twilio", protocol: twilio }
  scripted: { url: "${scripted.url}native", protocol: native, transfer: { allow: ["transfer-target", "bot-[a-z-]+"] } }
`,
  });
  const say = join(work, 'caller.wav');
  writeWav(say, aperiodicSignal(3));
  let n = 0;
  const call = async (bot: string, o: { say?: boolean; record?: boolean } = {}) => {
    const from = `49301000${String(++n).padStart(3, '0')}`;
    const records = daemon.records().length;
    const rec = o.record ? join(work, `rec-${n}.wav`) : undefined;
    const c = await placeLoopbackCall(fs, { destination: `bot-${bot}`, callerNumber: from, recordFile: rec, sayFile: o.say ? say : undefined });
    let live: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !live; i++) {
      live = (await daemon.liveCalls()).find((x) => x.from === from && x.state === 'connected');
      if (!live) await new Promise((r) => setTimeout(r, 50));
    }
    if (!live) throw new Error(`call from ${from} not connected`);
    const record = async () => {
      await until(() => daemon.records().length > records && daemon.records().some((r) => r.from === from), 10_000, `record of ${from}`);
      return daemon.records().find((r) => r.from === from)!;
    };
    return { c, callId: String(live.callId), rec, record };
  };
  const ended = async (c: LoopbackCall) => { await c.gone(15_000); };

  await t.test('marks come back in order as the audio before them is played', async (t) => {
    const marksBefore = echo.stats.marksReceived.length;
    const { c, record } = await call('echo', { say: true });
    await until(() => echo.stats.marksReceived.length - marksBefore >= 4, 15_000, 'four marks answered');
    const marks = echo.stats.marksReceived.slice(marksBefore);
    t.equal(marks[0], 'greeting', 'the greeting mark first (sent first)');
    const nums = marks.slice(1).map((m) => Number(/^echo-(\d+)$/.exec(m)?.[1]));
    t.ok(nums.every((x, i) => Number.isInteger(x) && (i === 0 || x > nums[i - 1])), `echo marks in order: ${marks.join(', ')}`);
    await c.hangup();
    await ended(c);
    t.match(await record(), { endedBy: 'caller', cause: 'NORMAL_CLEARING' });
  });

  await t.test('clear (barge-in): the greeting stops reaching the caller', async (t) => {
    const clears = echo.stats.clearsSent;
    const greetingMarks = () => echo.stats.marksReceived.filter((m) => m === 'greeting').length;
    const marksBefore = greetingMarks();
    // The caller's leg plays nothing itself: every PLAYBACK_START is the bot's audio (the pipe).
    const played = await fs.watch(['PLAYBACK_START']);
    const t0 = Date.now();
    const { c, rec } = await call('echo', { record: true });
    // Barge in once the caller has heard the start of the greeting.
    await until(() => played.length > 0, 15_000, 'the bot\'s audio playing');
    await new Promise((r) => setTimeout(r, 400));
    const tDtmf = Date.now() - t0;
    await c.sendDtmf('*');
    await until(() => echo.stats.clearsSent > clears, 15_000, 'the bot sent clear');
    // fsbridge answers the pending greeting mark at the clear.
    await until(() => greetingMarks() > marksBefore, 15_000, 'the greeting mark answered at the clear');
    t.comment(`DTMF sent at ${tDtmf} ms, the clear done at ${Date.now() - t0} ms after the call was placed`);
    // The caller stays on a while; the greeting (6 s) would go on well past the hang-up.
    await new Promise((r) => setTimeout(r, 2500));
    await c.hangup();
    await ended(c);
    const { left: heard } = readStereoWav(rec!);
    const span = loudSpan(heard);
    t.comment(`greeting heard for ${span.loudMs} ms of its 6000 ms, the last of it ${(heard.length / 8 - span.lastLoudMs).toFixed(0)} ms before the hang-up; the call lasted ${(heard.length / 8).toFixed(0)} ms`);
    t.ok(span.loudMs >= 100, 'the caller heard the start of the greeting');
    t.ok(span.loudMs < 5000, 'the greeting was cut short');
    t.ok(span.lastLoudMs >= 0 && span.lastLoudMs < heard.length / 8 - 500, 'and silence followed it until the hang-up');
  });

  await t.test('DTMF: the caller\'s keys reach the bot', async (t) => {
    const before = echo.stats.dtmf.length;
    const { c } = await call('echo');
    await c.sendDtmf('5');
    await until(() => echo.stats.dtmf.length > before, 5000, 'the digit at the bot');
    t.same(echo.stats.dtmf.slice(before), ['5']);
    await c.hangup();
    await ended(c);
  });

  await t.test('DTMF: the bot\'s digits reach the caller', async (t) => {
    const dtmf = await fs.watch(['DTMF']);
    const next = scripted.next();
    const { c } = await call('scripted');
    const bot = await next;
    await bot.message('start');
    bot.send({ event: 'dtmf', digits: '42' });
    await until(() => dtmf.filter((e) => e.get('Unique-ID') === c.aLeg).length >= 2, 8000, 'two DTMF events on the caller\'s leg');
    t.same(dtmf.filter((e) => e.get('Unique-ID') === c.aLeg).map((e) => e.get('DTMF-Digit')), ['4', '2']);
    await c.hangup();
    await ended(c);
  });

  await t.test('the bot closes normally: NORMAL_CLEARING, ended by the bot', async (t) => {
    const { c, record } = await call('echo');
    await c.sendDtmf('#');
    await ended(c);
    t.match(await record(), { endedBy: 'bot', cause: 'NORMAL_CLEARING' });
  });

  await t.test('a native bot sends hangup', async (t) => {
    const next = scripted.next();
    const { c, record } = await call('scripted');
    const bot = await next;
    await bot.message('start');
    bot.send({ event: 'hangup', reason: 'done' });
    await ended(c);
    await bot.until(() => bot.closedWith !== null, 'the bot socket closed');
    t.equal(bot.closedWith, 1000);
    t.match(await record(), { endedBy: 'bot', cause: 'NORMAL_CLEARING' });
  });

  await t.test('the HTTP API hangs up', async (t) => {
    const { c, callId, record } = await call('echo');
    const r = await daemon.request('POST', `/v1/calls/${callId}/hangup`);
    t.equal(r.status, 200);
    await ended(c);
    t.match(await record(), { callId, endedBy: 'api', cause: 'NORMAL_CLEARING' });
  });

  await t.test('the Twilio REST hang-up (Status=completed)', async (t) => {
    const { c, callId, record } = await call('echo');
    await until(() => echo.stats.lastStart !== null, 5000);
    const sid = String((echo.stats.lastStart as { start: { callSid: string } }).start.callSid);
    const path = `/2010-04-01/Accounts/ACrealtest/Calls/${sid}.json`;
    const post = () => fetch(`http://127.0.0.1:${daemon.apiPort}${path}`, {
      method: 'POST', body: 'Status=completed',
      headers: { authorization: `Basic ${Buffer.from('ACrealtest:real-auth').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const r = await post();
    t.equal(r.status, 200);
    t.match(await r.json(), { sid, status: 'completed' });
    await ended(c);
    t.match(await record(), { callId, endedBy: 'api', cause: 'NORMAL_CLEARING' });
    const again = await post();
    t.equal(again.status, 404);
    t.match(await again.json(), { code: 20404 });
  });

  await t.test('a transfer its bot is not allowed to make is refused: the call goes on with the bot', async (t) => {
    const next = scripted.next();
    const { c, callId } = await call('scripted');
    const bot = await next;
    await bot.message('start');
    const denied = () => daemon.metric('fsbridge_errors_total', { code: 'CALL_TRANSFER_DENIED' });
    const before = await denied();
    bot.send({ event: 'transfer', target: '9999' }); // on a stock FreeSWITCH, `default` dials out
    for (let i = 0; i < 100 && (await denied()) === before; i++) await new Promise((r) => setTimeout(r, 50));
    t.equal(await denied(), before + 1, 'refused and counted (CALL_TRANSFER_DENIED)');
    t.ok((await daemon.liveCalls()).some((x) => x.callId === callId), 'still a live call of fsbridge');
    t.equal(bot.closedWith, null, 'the bot keeps its connection');
    await c.hangup();
    await ended(c);
  });

  await t.test('transfer: the caller hears the target, the bot is released, the record says so', async (t) => {
    const started = await fs.watch(['PLAYBACK_START']);
    const next = scripted.next();
    const { c, callId, rec, record } = await call('scripted', { record: true });
    const bot = await next;
    await bot.message('start');
    bot.send({ event: 'transfer', target: 'transfer-target' });
    await bot.message('stop');
    await bot.until(() => bot.closedWith !== null, 'the bot socket closed');
    t.equal(bot.closedWith, 1000, 'the bot got stop and a normal close');
    const r = await record();
    t.match(r, { callId, endedBy: 'bot', result: 'transferred', transferTarget: 'transfer-target' });
    t.notOk((await daemon.liveCalls()).some((x) => x.callId === callId), 'no longer a live call of fsbridge');
    // The transfer target is playing its tone (a 10 s tone_stream, looped) to the caller.
    await until(() => started.some((e) => (e.get('Playback-File-Path') ?? '').startsWith('tone_stream://')), 15_000, 'the transfer target\'s tone');
    await new Promise((res) => setTimeout(res, 2000));
    t.ok(await c.exists(), 'the caller is still up (now with the transfer target)');
    await c.hangup();
    await ended(c);
    const { left: heard } = readStereoWav(rec!);
    const span = loudSpan(heard);
    t.comment(`the caller heard the transfer target's tone for ${span.loudMs} ms`);
    t.ok(span.loudMs > 0, 'the caller heard the transfer target\'s tone');
  });

  await t.test('transfer to an extension that hands the caller to another bot: the same channel comes back', async (t) => {
    const next = scripted.next();
    const { c, callId, record } = await call('scripted');
    const bot = await next;
    await bot.message('start');
    const startsBefore = echo.stats.starts;
    bot.send({ event: 'transfer', target: 'bot-echo' });
    t.match(await record(), { callId, result: 'transferred', transferTarget: 'bot-echo' });
    await until(() => echo.stats.starts > startsBefore, 10_000, 'the echo bot started for the transferred caller');
    const live = await daemon.liveCalls();
    t.equal(live.length, 1, 'one live call: the handed-on one');
    t.not(live[0].callId, callId, 'with a call id of its own');
    await c.hangup();
    await ended(c);
  });
});
