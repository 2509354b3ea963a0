// Issue 10, recordings, on the real FreeSWITCH 1.10.12 + community mod_audio_stream with `fsbridge
// run` as its own process: a caller (a loopback A leg) says a recording to an echo bot whose calls
// are recorded, and FreeSWITCH records both directions at the caller's side. The recording fsbridge
// keeps is encrypted on disk (no RIFF header, no run of its audio in the clear); the WAV the API
// streams back has the caller's voice on the left (median ncc > 0.9 over 0.5 s windows with what the
// caller said) and on the right what the caller heard from the bot (FreeSWITCH's own recording of it).
// Then a wrong master key stops a restart with a message naming the setting.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { API_TOKEN, DaemonProcess } from '../helpers/real/daemon-process.js';
import { placeLoopbackCall } from '../helpers/real/caller.js';
import { Proc } from '../helpers/process.js';
import { aperiodicSignal, describeDelays, echoDelays, medianNcc, parseStereoWav, readStereoWav, rms, writeWav } from '../../bench/lib/recording.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { clearRuns, filesUnder } from '../helpers/recordings.js';

const skip = realSkipReason();
const MASTER = '0123456789abcdef'.repeat(4);

t.test('issue 10: an encrypted recording of a real call', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-real-rec-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const bot = await startEchoBot({ protocol: 'twilio', port: 0, markEveryMs: Infinity });
  t.teardown(() => bot.close());
  const fs = await RealFreeswitch.start(t);
  const recDir = join(work, 'recordings');
  const daemon = await DaemonProcess.start(t, {
    fs,
    yaml: `
bots:
  echo-twilio: { url: "${bot.url}twilio", protocol: twilio, record: true }
recordings: { dir: ${JSON.stringify(recDir)}, masterKey: env:FSBRIDGE_MASTER_KEY }
`,
    env: { FSBRIDGE_MASTER_KEY: MASTER },
  });
  const said = aperiodicSignal(6);
  const sayFile = join(work, 'caller.wav');
  writeWav(sayFile, said);
  const heardFile = join(work, 'heard.wav');
  const before = daemon.records().length;
  const call = await placeLoopbackCall(fs, { destination: 'echo-twilio', sayFile, recordFile: heardFile, hangupAfterMs: 1000 });
  await call.gone();
  const record = await daemon.newRecord(before);
  t.match(record, { bot: 'echo-twilio', endedBy: 'caller', cause: 'NORMAL_CLEARING' });

  const url = `http://127.0.0.1:${daemon.apiPort}/v1/calls/${record.callId}/recording`;
  let r = await fetch(url, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  for (let i = 0; i < 100 && r.status === 409; i++) {
    await new Promise((ok) => setTimeout(ok, 100));
    r = await fetch(url, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  }
  t.equal(r.status, 200, 'the API streams the recording');
  t.equal(r.headers.get('x-fsbridge-recording'), 'complete');
  const wav = Buffer.from(await r.arrayBuffer());
  const { left, right, rateHz } = parseStereoWav(wav);
  t.equal(rateHz, 8000, 'stereo (parseStereoWav checks) at 8 kHz');

  // Each 0.5 s window of the recording's caller channel, found in what the caller said (the
  // recording starts when the stream does, a little after the caller started speaking), and each
  // window of its bot channel found in what FreeSWITCH recorded at the caller's ear. Windows, not
  // the whole: a frame slipped under load must cost the windows around it, not the verdict.
  const callerSide = echoDelays(left, said);
  const { left: heard } = readStereoWav(heardFile);
  t.ok(rms(heard) > 500, 'the caller heard the echo');
  const botSide = echoDelays(right, heard);
  t.comment(`caller channel vs what the caller said: ${describeDelays(callerSide)}; ${(left.length / 8000).toFixed(2)} s recorded`);
  t.comment(`bot channel vs what the caller heard: ${describeDelays(botSide)}`);
  t.ok(callerSide.length >= 8, `the caller channel holds the caller's speech (${callerSide.length} windows)`);
  t.ok(medianNcc(callerSide) > 0.9, `the left channel is the caller's voice (median ncc ${medianNcc(callerSide).toFixed(3)} > 0.9)`);
  t.ok(botSide.length >= 8, `the bot channel holds the bot's audio (${botSide.length} windows)`);
  t.ok(medianNcc(botSide) > 0.9, `the right channel is what the caller heard from the bot (median ncc ${medianNcc(botSide).toFixed(3)} > 0.9)`);

  const onDisk = filesUnder(recDir);
  t.equal(onDisk.length, 1, 'one recording file');
  const bytes = readFileSync(onDisk[0]);
  t.notOk(bytes.includes(Buffer.from('RIFF')), 'no RIFF header on disk');
  t.equal(clearRuns(bytes, wav.subarray(44)), 0, 'no 16-byte run of the audio on disk in the clear');

  // the same store and recordings with another master key: fsbridge refuses to start
  await daemon.proc.stop('SIGTERM');
  const wrong = new Proc(['run', '--config', daemon.configFile], { FSBRIDGE_ESL_PASSWORD: fs.password, FSBRIDGE_MASTER_KEY: 'f'.repeat(64) });
  t.teardown(() => wrong.stop('SIGKILL'));
  t.equal(await wrong.exited, 1, 'exit code 1');
  const fatal = wrong.lines.find((l) => l.includes('RECORDING_MASTER_KEY_WRONG')) ?? '';
  t.match(fatal, /recordings\.masterKey/, 'the fatal line names the setting');
});
