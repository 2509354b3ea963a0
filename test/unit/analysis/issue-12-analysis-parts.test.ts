// Issue 12: the parts around the detectors — the silence timeout and the flat (dead) line on caller
// audio time, comfort noise at its level (alone and through the pipe writer), the `amd` request,
// and a machine answer as a campaign outcome.
import t from 'tap';
import { CallAnalysis } from '../../../src/analysis/call-analysis.js';
import { ComfortNoise } from '../../../src/analysis/comfort-noise.js';
import { parseAmdRequest } from '../../../src/analysis/amd-request.js';
import { AMD_DEFAULTS } from '../../../src/analysis/amd.js';
import { outcomeOf } from '../../../src/campaigns/outcome.js';
import { ManualClock } from '../../../src/clock.js';
import { PipePlayback } from '../../../src/media/pipe-playback.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

const FRAME = 160;

function dbfs(pcm: Int16Array): number {
  let e = 0;
  for (const s of pcm) e += s * s;
  return 10 * Math.log10(e / pcm.length / (32768 * 32768));
}

/** Low noise (about −60 dBFS) that a real line carries: never flat, never speech. */
function lineNoise(n: number, seed = 7): Int16Array {
  const out = new Int16Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = ((x >>> 16) % 61) - 30; }
  return out;
}

function speech(ms: number): Int16Array {
  // a voiced sound: 200 Hz with harmonics, −14 dBFS
  const out = new Int16Array((ms * 8000) / 1000);
  for (let i = 0; i < out.length; i++) {
    const p = (2 * Math.PI * 200 * i) / 8000;
    out[i] = Math.round(4000 * (Math.sin(p) + 0.5 * Math.sin(2 * p) + 0.3 * Math.sin(3 * p)));
  }
  return out;
}

function feed(a: CallAnalysis, pcm: Int16Array, botPlaying = false) {
  const events: { kind: string; atMs?: number }[] = [];
  for (let i = 0; i + FRAME <= pcm.length; i += FRAME) {
    for (const e of a.push(pcm.subarray(i, i + FRAME), botPlaying)) events.push({ ...e });
  }
  return events;
}

t.test('silence timeout: fires once per stretch of silence, waits while the bot plays, starts again after speech', async (t) => {
  const a = new CallAnalysis({ sampleRateHz: 8000, silenceTimeoutMs: 2000 });
  let ev = feed(a, lineNoise(8 * 5000));
  t.same(ev.filter((e) => e.kind === 'silence_timeout').map((e) => e.atMs), [2000], 'once, at 2 s of silence');
  ev = feed(a, lineNoise(8 * 5000), true);
  t.same(ev.filter((e) => e.kind === 'silence_timeout'), [], 'not while the bot plays');
  ev = feed(a, lineNoise(8 * 1500));
  t.same(ev.filter((e) => e.kind === 'silence_timeout'), [], 'the bot\'s playing started the count again');
  feed(a, speech(800));
  ev = feed(a, lineNoise(8 * 2600));
  const at = ev.filter((e) => e.kind === 'silence_timeout');
  t.equal(at.length, 1, 'after speech, again once');
  // speech ended at 12300 ms; the hangover (300 ms) counts as speech
  t.ok(at[0].atMs! >= 12_300 + 2000 && at[0].atMs! <= 12_300 + 2000 + 320, `2 s after the speech ended (${at[0].atMs})`);
});

t.test('dead line: samples that never move for deadLineMs; a quiet real line is not dead', async (t) => {
  const a = new CallAnalysis({ sampleRateHz: 8000, deadLineMs: 3000 });
  t.same(feed(a, lineNoise(8 * 10_000)).filter((e) => e.kind === 'dead_line'), [], 'line noise is alive');
  const flat = new Int16Array(8 * 4000).fill(-8); // A-law silence decodes to ±8
  t.same(feed(a, flat).filter((e) => e.kind === 'dead_line').map((e) => e.atMs), [13_000], 'flat for 3 s: dead, once');
  t.same(feed(a, flat).filter((e) => e.kind === 'dead_line'), [], 'not again');

  const b = new CallAnalysis({ sampleRateHz: 8000, deadLineMs: 3000 });
  t.same(feed(b, flat.subarray(0, 8 * 2000)).filter((e) => e.kind === 'dead_line'), [], '2 s flat');
  t.same(feed(b, new Int16Array(8 * 10_000), true).filter((e) => e.kind === 'dead_line'), [], 'flat while the bot plays: not counted');
  t.same(feed(b, flat.subarray(0, 8 * 1000)).filter((e) => e.kind === 'dead_line').map((e) => e.atMs), [13_000], 'nor reset: 1 s more after it is 3 s');
});

t.test('comfort noise: at its level, the same for the same seed; ambience under speech', async (t) => {
  const n = new ComfortNoise({ levelDbfs: -60, ambienceDbfs: -50, seed: 42 });
  const f = new Int16Array(8000);
  n.fill(f);
  t.ok(Math.abs(dbfs(f) + 60) < 1.5, `fill at −60 dBFS (${dbfs(f).toFixed(1)})`);
  const g = new Int16Array(8000);
  new ComfortNoise({ levelDbfs: -60, ambienceDbfs: -50, seed: 42 }).fill(g);
  t.same(g, f, 'same seed, same noise');
  const voice = speech(1000);
  const mixed = Int16Array.from(voice);
  n.under(mixed);
  const diff = mixed.map((v, i) => v - voice[i]);
  t.ok(Math.abs(dbfs(diff) + 50) < 1.5, `ambience under speech at −50 dBFS (${dbfs(diff).toFixed(1)})`);
  const none = Int16Array.from(voice);
  new ComfortNoise({ levelDbfs: -60 }).under(none);
  t.same(none, voice, 'no ambience level: the bot\'s audio as sent');
});

t.test('pipe playback writes comfort noise instead of silence while the bot is silent', async (t) => {
  const clock = new ManualClock();
  const frames: Int16Array[] = [];
  const pp = new PipePlayback({
    clock, metrics: new MetricsRegistry(), logger: silentLogger(), sampleRateHz: 8000,
    noise: new ComfortNoise({ levelDbfs: -55 }),
    actions: { writeFrame: (pcm) => { frames.push(Int16Array.from(pcm)); return true; }, markPlayed: () => {} },
  });
  t.teardown(() => pp.close());
  pp.start();
  clock.advance(200);
  t.ok(frames.length >= 10, 'frames written');
  t.ok(frames.every((f) => f.some((s) => s !== 0)), 'no frame of digital silence');
  const all = new Int16Array(frames.length * FRAME);
  frames.forEach((f, i) => all.set(f, i * FRAME));
  t.ok(Math.abs(dbfs(all) + 55) < 2, `at −55 dBFS (${dbfs(all).toFixed(1)})`);
  t.notOk(pp.busy, 'not busy: no bot audio');
  pp.pushAudio(speech(100));
  t.ok(pp.busy, 'busy while bot audio is queued');
});

t.test('the amd request: true, an object, and every problem at once', async (t) => {
  t.same(parseAmdRequest(undefined), { ok: true });
  t.same(parseAmdRequest(true), { ok: true, amd: { onMachine: 'connect', params: { ...AMD_DEFAULTS } } });
  const r = parseAmdRequest({ onMachine: 'message', message: '/srv/prompts/callback.wav', greetingMs: 2000 });
  t.match(r, { ok: true, amd: { onMachine: 'message', message: '/srv/prompts/callback.wav', params: { greetingMs: 2000, maxWords: AMD_DEFAULTS.maxWords } } });
  const bad = parseAmdRequest({ onMachine: 'shout', message: 'conference::x', greetingMs: 5, minWordMs: 1 });
  t.match(bad, { ok: false });
  t.same((bad as { problems: string[] }).problems.map((p) => p.split(':')[0]), ['amd.onMachine', 'amd.message', 'amd.greetingMs', 'amd.minWordMs']);
  t.match(parseAmdRequest({ onMachine: 'message' }), { ok: false, problems: ['amd.message: expected a sound file, because onMachine is message'] });
  t.match(parseAmdRequest('yes'), { ok: false });
});

t.test('a machine or fax answer is the campaign outcome machine', async (t) => {
  const answered = { answeredAt: '2026-12-07T10:00:00Z', connectedAt: null, result: 'answered' };
  for (const answeredBy of ['machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax']) {
    t.equal(outcomeOf({ ...answered, answeredBy, errorCode: 'CALL_AMD_HANGUP' }), 'machine', answeredBy);
  }
  t.equal(outcomeOf({ ...answered, connectedAt: '2026-12-07T10:00:03Z', answeredBy: 'machine_end_beep' }), 'machine', 'also when the bot left the message');
  t.equal(outcomeOf({ ...answered, connectedAt: '2026-12-07T10:00:03Z', answeredBy: 'human' }), 'completed');
});
