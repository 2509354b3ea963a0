// Dialplan-triggered calls on the real FreeSWITCH 1.10.12 + community mod_audio_stream, with
// `fsbridge run` as its own process and echo bots of all three protocols: the caller (a loopback
// A leg) plays a recording and records both directions; the bot must get the caller's audio and the
// caller must hear it back. The delay per 0.5 s window is printed (not asserted: a figure, see
// bench/ for targets).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { placeLoopbackCall } from '../helpers/real/caller.js';
import { aperiodicSignal, describeDelays, echoDelays, readStereoWav, rms, writeWav } from '../helpers/real/recording.js';
import { startEchoBot, type EchoBot } from '../../src/bots/sample/echo-bot.js';
import { until } from '../helpers/harness.js';

const skip = realSkipReason();
const PROTOCOLS = ['twilio', 'exotel', 'native'] as const;

t.test('dialplan-triggered calls on the real FreeSWITCH', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-dp-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const bots: Record<string, EchoBot> = {};
  for (const p of PROTOCOLS) {
    bots[p] = await startEchoBot({ protocol: p, port: 0, markEveryMs: 500, hangupOnDtmf: '#', clearOnDtmf: null });
    t.teardown(() => bots[p].close());
  }
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs, playback: 'file',
    yaml: `
bots:
${PROTOCOLS.map((p) => `  echo-${p}: { url: "${bots[p].url}${p}", protocol: ${p} }`).join('\n')}
`,
  });
  const say = join(work, 'caller.wav');
  writeWav(say, aperiodicSignal(4));

  for (const p of PROTOCOLS) {
    await t.test(`${p}: the bot gets the caller's audio and the caller hears it back`, async (t) => {
      const bot = bots[p];
      const before = { bytes: bot.stats.audioBytesIn, records: daemon.records().length };
      const rec = join(work, `heard-${p}.wav`);
      const call = await placeLoopbackCall(fs, { destination: `echo-${p}`, sayFile: say, recordFile: rec, hangupAfterMs: 2500 });
      await call.gone();
      await until(() => daemon.records().length > before.records, 5000, 'the call record');
      const r = daemon.records().at(-1)!;
      t.match(r, { direction: 'inbound', bot: `echo-${p}`, to: `echo-${p}`, endedBy: 'caller', cause: 'NORMAL_CLEARING' });
      t.ok(r.connectedAt, 'the bot was connected');
      // μ-law for twilio (8000 bytes/s), L16 for exotel and native (16000 bytes/s)
      const seconds = (bot.stats.audioBytesIn - before.bytes) / (p === 'twilio' ? 8000 : 16000);
      t.ok(seconds >= 4, `the bot got the caller's audio (${seconds.toFixed(1)} s)`);
      const { left: heard, right: said } = readStereoWav(rec);
      t.ok(rms(said) > 1000, `the recording holds what the caller said (rms ${rms(said).toFixed(0)})`);
      const ws = echoDelays(said, heard);
      // file playback leaves gaps between segments (docs/media-playback.md), so a window of the
      // echo is often only partly there: ncc ≥ 0.5 says it was heard
      const found = ws.filter((w) => w.ncc >= 0.5);
      t.comment(`${p}: echo delay per 0.5 s window (playback file): ${describeDelays(ws)}`);
      t.ok(ws.length >= 6 && found.length >= Math.ceil(ws.length * 0.75),
        `the caller heard their own audio echoed by the bot (${found.length} of ${ws.length} windows, ncc ≥ 0.5)`);
    });
  }
});
