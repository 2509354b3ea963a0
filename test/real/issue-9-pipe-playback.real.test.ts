// Issue 9: pipe playback (the default) on the real FreeSWITCH 1.10.12 + community mod_audio_stream,
// with `fsbridge run` as its own process and echo bots of all three protocols. The caller (a
// loopback A leg) plays a recording and records both directions: every 0.5 s window of what it
// said must come back, in order, as the same audio (normalised cross-correlation); the delay per
// window (mouth-to-ear through fsbridge, the echo bot and back) is printed, not asserted. Then: marks
// answered, no FIFO left in media.pipeDir, no warning lines (a hang-up during playback must not
// make an error storm), and a clear silencing the bot.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { placeLoopbackCall } from '../helpers/real/caller.js';
import { aperiodicSignal, describeDelays, echoDelays, readStereoWav, rms, writeWav } from '../../bench/lib/recording.js';
import { startEchoBot, type EchoBot } from '../../src/bots/sample/echo-bot.js';
import { toneSequence } from '../../src/cli/recording.js';
import { until } from '../helpers/harness.js';

const skip = realSkipReason();
const PROTOCOLS = ['twilio', 'exotel', 'native'] as const;

/** Milliseconds of 20 ms frames of `pcm` (8 kHz) that are loud, and where the loud part ends. */
function loudSpan(pcm: Int16Array): { loudMs: number; lastLoudMs: number } {
  let loud = 0;
  let last = -1;
  for (let f = 0; f + 160 <= pcm.length; f += 160) {
    if (rms(pcm.subarray(f, f + 160)) > 800) { loud++; last = f; }
  }
  return { loudMs: loud * 20, lastLoudMs: last < 0 ? -1 : last / 8 + 20 };
}

t.test('issue 9: pipe playback on the real FreeSWITCH', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-pipe-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const bots: Record<string, EchoBot> = {};
  for (const p of PROTOCOLS) {
    bots[p] = await startEchoBot({ protocol: p, port: 0, markEveryMs: 500, hangupOnDtmf: '#', clearOnDtmf: null });
    t.teardown(() => bots[p].close());
  }
  const greeting = toneSequence([600], 6000, 8000, 0.4);
  const greeter = await startEchoBot({ protocol: 'twilio', port: 0, greeting, echo: false, markEveryMs: Infinity, hangupOnDtmf: null, clearOnDtmf: '*' });
  t.teardown(() => greeter.close());
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs,
    yaml: `
bots:
${PROTOCOLS.map((p) => `  echo-${p}: { url: "${bots[p].url}${p}", protocol: ${p} }`).join('\n')}
  greeter: { url: "${greeter.url}twilio", protocol: twilio }
`,
  });
  const say = join(work, 'caller.wav');
  writeWav(say, aperiodicSignal(6));
  const warnings = () => daemon.logLines(/./).filter((l) => Number(l.level) >= 40);

  for (const p of PROTOCOLS) {
    await t.test(`${p}: the caller hears the bot through the pipe`, async (t) => {
      const bot = bots[p];
      const before = { marks: bot.stats.marksReceived.length, records: daemon.records().length };
      const rec = join(work, `heard-${p}.wav`);
      const call = await placeLoopbackCall(fs, { destination: `echo-${p}`, sayFile: say, recordFile: rec, hangupAfterMs: 1000 });
      await call.gone();
      await until(() => daemon.records().length > before.records, 5000, 'the call record');
      const r = daemon.records().at(-1)!;
      t.match(r, { direction: 'inbound', bot: `echo-${p}`, endedBy: 'caller', cause: 'NORMAL_CLEARING' });
      const { left: heard, right: said } = readStereoWav(rec);
      t.ok(rms(said) > 1000, `the recording holds what the caller said (rms ${rms(said).toFixed(0)})`);
      const ws = echoDelays(said, heard);
      const delays = ws.map((w) => w.delayMs);
      t.comment(`${p}: echo delay per 0.5 s window (playback pipe): ${describeDelays(ws)}; spread ${(Math.max(...delays) - Math.min(...delays)).toFixed(0)} ms`);
      t.ok(ws.length >= 10, `the caller said ${ws.length} windows of audio`);
      const at = ws.map((w) => w.atMs + w.delayMs);
      t.ok(ws.every((w) => w.delayMs >= 0) && at.every((x, i) => i === 0 || x > at[i - 1]), 'every window came back, in the order said');
      const clean = ws.filter((w) => w.ncc >= 0.8).length;
      t.ok(clean >= ws.length / 2, `what came back is the caller's own audio, whole (${clean} of ${ws.length} windows with ncc ≥ 0.8)`);
      t.ok(bot.stats.marksReceived.length > before.marks, `marks answered (${bot.stats.marksReceived.length - before.marks})`);
      t.same(readdirSync(daemon.pipeDir), [], 'no FIFO left in media.pipeDir');
    });
  }

  await t.test('clear: the bot\'s greeting stops reaching the caller within the pipe\'s lead', async (t) => {
    const played = await fs.watch(['PLAYBACK_START']);
    const clears = greeter.stats.clearsSent;
    const rec = join(work, 'heard-clear.wav');
    const c = await placeLoopbackCall(fs, { destination: 'bot-greeter', recordFile: rec });
    await until(() => played.length > 0, 15_000, 'the pipe playing');
    await new Promise((r) => setTimeout(r, 1000));
    await c.sendDtmf('*');
    await until(() => greeter.stats.clearsSent > clears, 15_000, 'the bot sent clear');
    await new Promise((r) => setTimeout(r, 2000));
    await c.hangup();
    await c.gone();
    const { left: heard } = readStereoWav(rec);
    const span = loudSpan(heard);
    t.comment(`greeting heard for ${span.loudMs} ms of its 6000 ms; the call lasted ${(heard.length / 8).toFixed(0)} ms`);
    t.ok(span.loudMs >= 500, 'the caller heard the start of the greeting');
    t.ok(span.loudMs < 4000, 'the greeting was cut short');
    t.ok(span.lastLoudMs >= 0 && span.lastLoudMs < heard.length / 8 - 1000, 'silence followed it until the hang-up');
    t.same(readdirSync(daemon.pipeDir), [], 'no FIFO left in media.pipeDir');
  });

  await t.test('hang-up while the bot speaks: no warning, no FIFO left', async (t) => {
    const records = daemon.records().length;
    const c = await placeLoopbackCall(fs, { destination: 'bot-greeter' });
    await until(() => greeter.stats.connections > 0, 10_000, 'the bot connected');
    await new Promise((r) => setTimeout(r, 1500));
    await c.hangup();
    await c.gone();
    await until(() => daemon.records().length > records, 5000, 'the record');
    await new Promise((r) => setTimeout(r, 1500));
    t.same(readdirSync(daemon.pipeDir), [], 'no FIFO left in media.pipeDir');
    t.same(warnings().map((l) => `${String(l.code ?? '')} ${String(l.msg)}`), [], 'no line at warn or above in the whole run');
  });
});
