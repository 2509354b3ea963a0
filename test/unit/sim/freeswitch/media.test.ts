import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../../src/clock.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { readWav8k, wavBytes } from '../../../../src/sim/freeswitch/audio-source.js';
import { FsCore } from '../../../../src/sim/freeswitch/core.js';
import { Dialplan } from '../../../../src/sim/freeswitch/dialplan.js';
import type { FsEvent } from '../../../../src/sim/freeswitch/event.js';

const DIALPLAN = `<include><context name="default">
  <extension name="park"><condition field="destination_number" expression="^park$">
    <action application="answer"/><action application="park"/></condition></extension>
</context></include>`;

const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };

async function setup(t: any): Promise<{ core: FsCore; clock: ManualClock; events: FsEvent[]; dir: string; advance: (ms: number) => Promise<void> }> {
  const clock = new ManualClock();
  const dp = new Dialplan();
  dp.addXml(DIALPLAN);
  const core = new FsCore({ clock, logger: silentLogger(), dialplan: dp, identity: { coreUuid: 'c', hostname: 'h', ipv4: '1', ipv6: '2' } });
  const events: FsEvent[] = [];
  core.subscribe((e) => events.push(e));
  const dir = mkdtempSync(join(tmpdir(), 'fs-twin-media-'));
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i += 20) { clock.advance(20); await settle(); }
  };
  t.teardown(() => core.hangupAll('NORMAL_CLEARING'));
  return { core, clock, events, dir, advance };
}

t.test('broadcast of a 1 s .r8 file: PLAYBACK_STOP after 50 frames with playback_ms 1000, ear holds it', async (t) => {
  const { core, events, dir, advance } = await setup(t);
  const pcm = new Int16Array(8000).map((_, i) => (i % 2 ? 1000 : -1000));
  const file = join(dir, 'x.r8');
  writeFileSync(file, Buffer.from(pcm.buffer));
  const res = await core.originate(`{sim_record_ear=${join(dir, 'ear.wav')}}loopback/park/default &park`);
  t.match(res, /^\+OK /);
  const a = res.slice(4, 40);
  await settle();
  const s = core.get(a);
  t.ok(s);
  s?.queueMessage({ headers: [['call-command', 'execute'], ['execute-app-name', 'playback'], ['execute-app-arg', file]] });
  await settle();
  const stop = (): FsEvent | undefined => events.find((e) => e.name === 'PLAYBACK_STOP' && e.get('Unique-ID') === a);
  await advance(980);
  t.notOk(stop(), 'not done after 980 ms');
  await advance(40);
  const ev = stop();
  t.equal(ev?.get('Playback-Status'), 'done');
  t.equal(ev?.get('variable_playback_ms'), '1000');
  t.equal(ev?.get('variable_playback_samples'), '8000');
  const ear = core.earRecording(a);
  t.ok(ear.length >= 8000);
  const start = ear.findIndex((x) => x !== 0);
  t.same(Array.from(ear.subarray(start, start + 4)), [-1000, 1000, -1000, 1000]);
  s?.hangup('NORMAL_CLEARING');
  await settle();
  const wav = readWav8k(join(dir, 'ear.wav'));
  t.equal(wav?.length, core.earRecording(a).length, 'ear written as WAV at hang-up');
});

t.test('uuid_break stops playback with Playback-Status break; caller tone reaches read subscribers', async (t) => {
  const { core, events, dir, advance } = await setup(t);
  const wavFile = join(dir, 'long.wav');
  writeFileSync(wavFile, wavBytes(new Int16Array(16000).fill(500), 16000));
  t.equal(readFileSync(wavFile).subarray(0, 4).toString(), 'RIFF');
  const res = await core.originate('{sim_caller_tone=440}loopback/park/default &park');
  const a = res.slice(4, 40);
  await settle();
  const s = core.get(a);
  const frames: Int16Array[] = [];
  s?.media.onReadFrame((f) => frames.push(f));
  s?.queueMessage({ headers: [['call-command', 'execute'], ['execute-app-name', 'playback'], ['execute-app-arg', wavFile]] });
  await settle();
  await advance(200);
  t.ok(s?.media.breakPlayback());
  await settle();
  const ev = events.find((e) => e.name === 'PLAYBACK_STOP' && e.get('Unique-ID') === a);
  t.equal(ev?.get('Playback-Status'), 'break');
  t.ok(Number(ev?.get('variable_playback_ms')) < 1000);
  t.ok(frames.length >= 9);
  t.equal(frames[0].length, 160);
  t.ok(frames[1].some((x) => Math.abs(x) > 1000), 'tone samples');
});

t.test('a missing file gives FILE NOT FOUND without PLAYBACK_START', async (t) => {
  const { core, events } = await setup(t);
  const res = await core.originate('loopback/park/default &playback(/nonexistent/file.wav)');
  const a = res.slice(4, 40);
  await settle();
  const done = events.find((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.get('Unique-ID') === a && e.get('Application') === 'playback');
  t.equal(done?.get('Application-Response'), 'FILE NOT FOUND');
  t.notOk(events.some((e) => e.name === 'PLAYBACK_START' && e.get('Unique-ID') === a));
});

t.test('hang-up during playback: Playback-Status done and PLAYBACK ERROR (captured)', async (t) => {
  const { core, events, advance } = await setup(t);
  const res = await core.originate('loopback/park/default &playback(tone_stream://%(1000,0,440);loops=-1)');
  const a = res.slice(4, 40);
  await settle();
  await advance(100);
  core.get(a)?.hangup('NORMAL_CLEARING');
  await settle();
  const stop = events.find((e) => e.name === 'PLAYBACK_STOP' && e.get('Unique-ID') === a);
  t.equal(stop?.get('Playback-Status'), 'done');
  t.equal(stop?.get('Playback-File-Type'), 'tone_stream');
  const done = events.find((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.get('Unique-ID') === a && e.get('Application') === 'playback');
  t.equal(done?.get('Application-Response'), 'PLAYBACK ERROR');
  t.ok(events.some((e) => e.name === 'CHANNEL_DESTROY' && e.get('Unique-ID') === a));
});

t.test('file_string:// plays its parts in order; an unknown application hangs up without CHANNEL_EXECUTE', async (t) => {
  const { core, events, advance } = await setup(t);
  const res = await core.originate('loopback/park/default &playback(file_string://silence_stream://100!tone_stream://%(100,0,440))');
  const a = res.slice(4, 40);
  await settle();
  await advance(400);
  const stop = events.find((e) => e.name === 'PLAYBACK_STOP' && e.get('Unique-ID') === a);
  t.equal(stop?.get('variable_playback_ms'), '200');
  const ear = core.earRecording(a);
  const firstSound = ear.findIndex((x) => x !== 0);
  t.ok(firstSound >= 800, 'silence first, then the tone');

  const res2 = await core.originate('loopback/park/default &nosuchapp(x)');
  const a2 = res2.slice(4, 40);
  await settle();
  t.notOk(events.some((e) => e.name === 'CHANNEL_EXECUTE' && e.get('Unique-ID') === a2 && e.get('Application') === 'nosuchapp'));
  const hc = events.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === a2);
  t.equal(hc?.get('variable_hangup_cause'), 'DESTINATION_OUT_OF_ORDER');
});
