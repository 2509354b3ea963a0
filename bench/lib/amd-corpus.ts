/**
 * A labelled audio test set for answering-machine detection (AMD), voice-activity detection (VAD)
 * and beep detection: people answering, voicemail greetings with and without a beep, silence,
 * noise, music on hold / ringback, and fax answer tones. 8 kHz mono, time 0 = the call is answered.
 *
 * Speech comes from espeak-ng (one process per utterance) resampled to 8 kHz by sox; everything
 * else (trimming, ground truth, noise, tones, beeps, level scaling, G.711 round trips) is done here
 * from seeded PRNGs, so the set is the same, sample for sample, on every run on the same machine.
 *
 * The build is split into a pure plan (every random choice, derived from the item id), the
 * synthesis of the plan's utterances (the only I/O besides the cache), and a pure render of each
 * plan. The cache directory is keyed by a hash of all plans, the generator version and the tool
 * versions; bump {@link GENERATOR_VERSION} whenever rendering changes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../src/media/g711.js';
import { parseWav } from '../../src/media/wav-file.js';

export type CorpusClass = 'human' | 'machine' | 'silence' | 'noise' | 'tone' | 'fax';
export type AnsweredByTruth = 'human' | 'machine' | 'unknown' | 'fax';

/** One labelled recording of the first seconds of an answered call. */
export interface CorpusItem {
  /** Stable across runs, e.g. 'human-017'. */
  id: string;
  cls: CorpusClass;
  /** human→human, machine→machine, silence/noise/tone→unknown, fax→fax. */
  truth: AnsweredByTruth;
  /** Deterministic from the id's hash: about 35 % of every class is 'test'. */
  split: 'train' | 'test';
  /** 8 kHz mono; sample 0 is the moment the call is answered. */
  pcm: Int16Array;
  /** Ground-truth speech segments in ms, [start, end), sorted, non-overlapping (5 ms resolution). */
  speech: [number, number][];
  /** Machine items with a beep: where the beep starts, in ms (exact). */
  beepStartMs?: number;
  beepHz?: number;
  /** The variations applied, e.g. 'en-us+f3 s160 p50 "Hello?", -26 dBFS, +pink noise SNR 20 dB, μ-law round trip'. */
  description: string;
}

/** Bump when rendering changes: it is part of the cache key. */
const GENERATOR_VERSION = 2;
const RATE_HZ = 8000;
const SAMPLES_PER_MS = RATE_HZ / 1000;
/** Ground-truth analysis window (ms) and the pause that splits one utterance into two segments. */
const WINDOW_MS = 5;
const SPLIT_GAP_MS = 300;
/**
 * espeak-ng's amplitude (`-a`, default 100). At 100 a few utterances in ten reach full scale and
 * clip, in espeak itself (klatt voices) or in sox's resampler; 50 is about 6 dB lower and never clips.
 */
const ESPEAK_AMPLITUDE = 50;
/** A 5 ms window of espeak's output (before level scaling) is speech above this RMS: -45 dBFS at amplitude 100. */
const SPEECH_THRESHOLD_DBFS = -51;
/** Speech and beeps are never scaled above this peak, whatever the target level. */
const PEAK_CEILING_DBFS = -1;
const FULL_SCALE = 32768;
/** espeak-ng / sox processes run at the same time. */
const SYNTH_CONCURRENCY = 4;
const SYNTH_TIMEOUT_MS = 30_000;
/** Share of every class that goes to the test split. */
const TEST_SHARE = 0.35;

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Tools

/** The tool's version line, or null when it cannot be run. */
function toolVersion(bin: string): string | null {
  try {
    return execFileSync(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString().trim();
  } catch {
    return null;
  }
}

/** One line saying how to get the tools when espeak-ng or sox is missing, else false. With CI=true it throws instead (CI must not skip). */
export function corpusSkipReason(): string | false {
  const missing = ['espeak-ng', 'sox'].filter((bin) => toolVersion(bin) === null);
  const why = missing.length > 0 ? `${missing.join(' and ')} not installed: apt-get install espeak-ng sox` : false;
  if (why && process.env.CI === 'true') throw new Error(`${why}; CI must not skip the AMD corpus tests`);
  return why;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** FNV-1a 32-bit hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Random draws from one xorshift32 stream. */
interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

/** xorshift32 seeded with `seed` (0 is replaced: it is a fixed point). */
function xorshift32(seed: number): Rng {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    range: (lo, hi) => lo + next() * (hi - lo),
    int,
    pick: (xs) => xs[int(0, xs.length - 1)],
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------
// Plans: every random choice of an item, as plain JSON (hashed into the cache key)

/** What espeak-ng is asked to say. */
interface Utterance { voice: string; speedWpm: number; pitch: number; text: string }
type Codec = 'none' | 'ulaw' | 'alaw';
type NoiseColour = 'white' | 'pink' | 'brown';
/** Noise under the signal: at an SNR relative to the signal's level, at a fixed level, or none. */
type Bed = { colour: NoiseColour; snrDb: number } | { colour: NoiseColour; dbfs: number } | null;

interface PlanBase { id: string; seed: number; codec: Codec }
interface SpeechPlan extends PlanBase {
  cls: 'human' | 'machine';
  /** Utterances in order; `afterMs` is the silence before it (after the answer, or after the previous one). */
  parts: { utt: Utterance; afterMs: number }[];
  /** Target speech RMS (over the speech segments); the gain is capped by {@link PEAK_CEILING_DBFS}. */
  levelDbfs: number;
  bed: Bed;
  beep?: { afterMs: number; lengthMs: number; hz: number; relDb: number };
  /** Silence after the last event (speech or beep), and the shortest item. */
  tailMs: number;
  minLengthMs: number;
}
interface SilencePlan extends PlanBase { cls: 'silence'; lengthMs: number; bed: Bed }
interface NoisePlan extends PlanBase { cls: 'noise'; lengthMs: number; colour: NoiseColour; dbfs: number }
interface Note { startMs: number; durMs: number; hz: number[] }
interface TonePlan extends PlanBase {
  cls: 'tone';
  lengthMs: number;
  name: string;
  notes: Note[];
  /** RMS while sounding. */
  dbfs: number;
  bed: Bed;
}
interface FaxPlan extends PlanBase {
  cls: 'fax';
  lengthMs: number;
  cedStartMs: number;
  cedMs: number;
  /** 180° phase reversals every 450 ms (V.25 ANS with reversals). */
  reversals: boolean;
  /** V.21 channel 2 (1650/1850 Hz, 300 bit/s) HDLC flags then random bytes, 75 ms after the CED; or nothing. */
  v21Ms: number;
  dbfs: number;
  bed: Bed;
}
type Plan = SpeechPlan | SilencePlan | NoisePlan | TonePlan | FaxPlan;

// 'en' is espeak-ng's British English: '-v en-gb+f3' silently ignores the variant (1.51), 'en+f3' does not.
const LANGS = ['en-us', 'en-us', 'en', 'en', 'en-gb-scotland', 'en-gb-x-rp', 'en-029', 'en-us-nyc', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd'];
const VARIANTS = ['', '+f1', '+f2', '+f3', '+f4', '+f5', '+m1', '+m2', '+m3', '+m4', '+m5', '+m6', '+m7', '+klatt',
  '+klatt3', '+Annie', '+Andy', '+steph', '+linda', '+john', '+david', '+edward', '+belinda', '+aunty', '+grandpa'];

const HUMAN_GREETINGS = [
  'Hello?', 'Yes?', 'Hello, who is this?', 'Hi, this is Anna.', 'Yeah, hello?', 'Speaking.',
  'Good morning, Smith residence.', 'Yes, who is this?', 'Hello, this is Mark.', 'Hi there.', 'Hello, Jones speaking.',
  'Yeah?', 'Hey, what\'s up?', 'Good afternoon.', 'Hello, can I help you?', 'This is David.', 'Hi, who\'s calling?',
  'Hello, Peter speaking.', 'Yes, hello?', 'Hiya.', 'Morning!', 'Hello, sorry, who is this?', 'Hello, Garcia household.',
  'Hi, it\'s Sarah.',
];
/** "Hello? ... Hello?": the person tries again when nobody speaks. */
const HUMAN_DOUBLES: [string, string][] = [
  ['Hello?', 'Hello?'], ['Hello?', 'Is anyone there?'], ['Yes?', 'Hello?'], ['Hello?', 'Can you hear me?'],
  ['Hello?', 'Hello, who is this?'], ['Hi?', 'Hello?'],
];
const NAMES = ['John Smith', 'Maria Garcia', 'David Brown', 'Sarah Miller', 'Ahmed Khan', 'Emily Clarke', 'Tom Baker', 'Lisa Wong', 'Peter Novak', 'Grace Okafor'];
const COMPANIES = ['Brightside Dental', 'Acme Plumbing', 'Riverside Insurance', 'Northwind Travel', 'Greenfield Accounting', 'Harbor Auto Repair'];
const first = (name: string): string => name.split(' ')[0];
const digits = (rng: Rng): string => Array.from({ length: 7 }, () => rng.int(0, 9)).join(' ');
/** Voicemail greetings (personal, business, carrier); whether a beep follows is decided per item, not by the text. */
const MACHINE_GREETINGS: ((rng: Rng) => string)[] = [
  (r) => `Hi, you've reached the voicemail of ${r.pick(NAMES)}. I can't take your call right now. Please leave your name and number after the tone.`,
  (r) => `Hello, this is ${first(r.pick(NAMES))}. Sorry I missed your call. Leave a message and I'll get back to you as soon as I can.`,
  (r) => `Hi, you've reached ${first(r.pick(NAMES))}. I'm not available at the moment. Please leave a message after the beep.`,
  (r) => `You have reached ${r.pick(NAMES)}. Please leave a message, and I will call you back.`,
  (r) => `Hi, this is ${r.pick(NAMES)}. I'm either on the other line or away from my desk. Please leave your name, number, and a brief message, and I will return your call.`,
  (r) => `Thank you for calling ${r.pick(COMPANIES)}. Our office hours are Monday to Friday, nine a.m. to five p.m. Please leave a message and we will call you back on the next business day.`,
  (r) => `You have reached ${r.pick(COMPANIES)}. Our offices are currently closed. Please call again during normal business hours, or leave a message after the tone.`,
  (r) => `Thank you for calling ${r.pick(COMPANIES)}. All of our staff are busy with other customers. Please leave your name and number and we will return your call.`,
  () => 'The person you are calling is not available. Please leave a message after the tone.',
  () => 'The number you have dialed is not available. Please leave a message after the tone.',
  (r) => `The mailbox of ${digits(r)} is not available. Record your message after the tone. When you are finished, hang up.`,
  (r) => `Your call has been forwarded to an automatic voice message system. ${digits(r)} is not available. At the tone, please record your message.`,
  () => 'The subscriber you have called is not available right now. Please try again later, or leave a message.',
  () => 'Welcome to the voicemail service. The person you are trying to reach is unavailable. Please leave a message.',
  (r) => `Hey, it's ${first(r.pick(NAMES))}. I can't get to the phone right now, so leave me a message and I'll call you back.`,
];

/** Plan variations shared by every class: codec on about 2/3, noise at an SNR on about half. */
function pickCodec(rng: Rng): Codec {
  const r = rng.next();
  return r < 1 / 3 ? 'none' : r < 2 / 3 ? 'ulaw' : 'alaw';
}
const pickColour = (rng: Rng): NoiseColour => rng.pick(['white', 'pink', 'brown'] as const);
/**
 * Target speech RMS over the speech segments. espeak-ng's crest factor over speech is 17–20 dB, so
 * -12 is always cut back by the peak ceiling (to about -20, "peak-limited" in the description);
 * -36 adds a quiet talker so the levels still span 16 dB.
 */
const SPEECH_LEVELS_DBFS = [-12, -20, -28, -36];
const snrBed = (rng: Rng): Bed => ({ colour: pickColour(rng), snrDb: rng.int(10, 30) });

function utterance(rng: Rng, text: string, voice = `${rng.pick(LANGS)}${rng.pick(VARIANTS)}`): Utterance {
  return { voice, speedWpm: rng.int(140, 190), pitch: rng.int(30, 70), text };
}

function humanPlan(id: string, i: number, rng: Rng, double: boolean): SpeechPlan {
  const codec = pickCodec(rng);
  const lead = rng.int(200, 1800);
  const a = utterance(rng, double ? HUMAN_DOUBLES[i % HUMAN_DOUBLES.length][0] : HUMAN_GREETINGS[i % HUMAN_GREETINGS.length]);
  const parts = [{ utt: a, afterMs: lead }];
  if (double) parts.push({ utt: { ...a, text: HUMAN_DOUBLES[i % HUMAN_DOUBLES.length][1] }, afterMs: rng.int(1500, 2500) });
  const bed: Bed = rng.chance(0.5) ? snrBed(rng) : { colour: pickColour(rng), dbfs: rng.int(-72, -55) };
  return {
    id, cls: 'human', seed: rng.int(1, 0xffffffff), codec, parts, levelDbfs: rng.pick(SPEECH_LEVELS_DBFS), bed,
    tailMs: 2000, minLengthMs: rng.int(6000, 8000),
  };
}

function machinePlan(id: string, i: number, rng: Rng, withBeep: boolean): SpeechPlan {
  const codec = pickCodec(rng);
  const text = MACHINE_GREETINGS[i % MACHINE_GREETINGS.length](rng);
  const parts = [{ utt: utterance(rng, text), afterMs: rng.int(100, 1000) }];
  const bed: Bed = rng.chance(0.5) ? snrBed(rng) : rng.chance(0.3) ? null : { colour: pickColour(rng), dbfs: rng.int(-72, -58) };
  const r = rng.next();
  const hz = r < 0.6 ? 1000 : r < 0.73 ? 440 : r < 0.86 ? 850 : 1400;
  const beep = withBeep ? { afterMs: rng.int(200, 1200), lengthMs: rng.int(250, 1000), hz, relDb: rng.int(-6, 2) } : undefined;
  return {
    id, cls: 'machine', seed: rng.int(1, 0xffffffff), codec, parts, levelDbfs: rng.pick(SPEECH_LEVELS_DBFS), bed, beep,
    tailMs: withBeep ? rng.int(2000, 3500) : rng.int(2000, 4000), minLengthMs: 6000,
  };
}

function silencePlan(id: string, rng: Rng): SilencePlan {
  const bed: Bed = rng.chance(1 / 3) ? null : { colour: rng.pick(['white', 'pink'] as const), dbfs: rng.int(-70, -60) };
  return { id, cls: 'silence', seed: rng.int(1, 0xffffffff), codec: pickCodec(rng), lengthMs: rng.int(6000, 12000), bed };
}

function noisePlan(id: string, rng: Rng): NoisePlan {
  return { id, cls: 'noise', seed: rng.int(1, 0xffffffff), codec: pickCodec(rng), lengthMs: rng.int(6000, 12000), colour: pickColour(rng), dbfs: rng.int(-45, -25) };
}

/** Pentatonic notes between G3 and C6, for music-on-hold-like chords. */
const SCALE_HZ = [196.0, 220.0, 261.63, 293.66, 329.63, 392.0, 440.0, 523.25, 587.33, 659.25, 783.99, 880.0, 1046.5];
/** Ringback cadences: tone pair and on/off pattern in ms (US, UK, Europe). */
const CADENCES: { name: string; hz: number[]; onOff: number[] }[] = [
  { name: 'US ringback 440+480 Hz 2/4 s', hz: [440, 480], onOff: [2000, 4000] },
  { name: 'UK ringback 400+450 Hz 0.4/0.2/0.4/2 s', hz: [400, 450], onOff: [400, 200, 400, 2000] },
  { name: 'EU ringback 425 Hz 1/4 s', hz: [425], onOff: [1000, 4000] },
  { name: 'US ringback 440+480 Hz 2/4 s', hz: [440, 480], onOff: [2000, 4000] },
];

function chordNotes(rng: Rng, startMs: number, endMs: number): Note[] {
  const notes: Note[] = [];
  let t = startMs;
  while (t + 200 <= endMs) {
    const durMs = Math.min(rng.int(200, 600), endMs - t);
    const k = rng.int(2, 4);
    const root = rng.int(0, SCALE_HZ.length - 5);
    const hz = Array.from({ length: k }, (_, j) => SCALE_HZ[Math.min(root + j * 2 + rng.int(0, 1), SCALE_HZ.length - 1)]);
    notes.push({ startMs: t, durMs, hz: [...new Set(hz)] });
    t += durMs + rng.int(0, 50);
  }
  return notes;
}

function cadenceNotes(hz: number[], onOff: number[], startMs: number, endMs: number): Note[] {
  const notes: Note[] = [];
  let t = startMs;
  for (let k = 0; t < endMs; k++) {
    const len = onOff[k % onOff.length];
    if (k % 2 === 0) notes.push({ startMs: t, durMs: Math.min(len, endMs - t), hz });
    t += len;
  }
  return notes;
}

function tonePlan(id: string, i: number, rng: Rng): TonePlan {
  const codec = pickCodec(rng);
  const lengthMs = rng.int(6000, 12000);
  const startMs = rng.int(0, 1000);
  const cadence = i % 11 >= 7 ? CADENCES[i % 11 - 7] : undefined;
  const notes = cadence ? cadenceNotes(cadence.hz, cadence.onOff, startMs, lengthMs) : chordNotes(rng, startMs, lengthMs - rng.int(0, 500));
  const name = cadence ? cadence.name : `music-on-hold chords (${notes.length} notes)`;
  return { id, cls: 'tone', seed: rng.int(1, 0xffffffff), codec, lengthMs, name, notes, dbfs: rng.int(-30, -15), bed: rng.chance(0.5) ? snrBed(rng) : null };
}

function faxPlan(id: string, rng: Rng): FaxPlan {
  const codec = pickCodec(rng);
  const cedStartMs = rng.int(200, 1000);
  const cedMs = rng.int(2600, 4000);
  const v21Ms = rng.chance(0.7) ? rng.int(1000, 3000) : 0;
  const endMs = cedStartMs + cedMs + (v21Ms > 0 ? 75 + v21Ms : 0);
  return {
    id, cls: 'fax', seed: rng.int(1, 0xffffffff), codec, lengthMs: Math.min(12000, Math.max(6000, endMs + rng.int(1500, 3000))),
    cedStartMs, cedMs, reversals: rng.chance(0.5), v21Ms, dbfs: rng.int(-25, -10), bed: rng.chance(0.5) ? snrBed(rng) : null,
  };
}

/** Item counts per class. */
const COUNTS = { human: 72, machine: 84, silence: 15, noise: 15, tone: 22, fax: 12 } as const;
/** Humans every 5th of which says "Hello? ... Hello?"; machines every 3rd of which has no beep. */
function allPlans(): Plan[] {
  const plans: Plan[] = [];
  const each = (cls: CorpusClass, make: (id: string, i: number, rng: Rng) => Plan): void => {
    for (let i = 0; i < COUNTS[cls]; i++) {
      const id = `${cls}-${String(i + 1).padStart(3, '0')}`;
      plans.push(make(id, i, xorshift32(fnv1a(`amd-corpus:${id}`))));
    }
  };
  each('human', (id, i, rng) => humanPlan(id, i, rng, i % 5 === 4));
  each('machine', (id, i, rng) => machinePlan(id, i, rng, i % 3 !== 2));
  each('silence', (id, _i, rng) => silencePlan(id, rng));
  each('noise', (id, _i, rng) => noisePlan(id, rng));
  each('tone', (id, i, rng) => tonePlan(id, i, rng));
  each('fax', (id, _i, rng) => faxPlan(id, rng));
  return plans;
}

/** Stratified by hash: in every class, the ids with the lowest hashes (about 35 %) are 'test'. */
function assignSplits(plans: readonly Plan[]): Map<string, 'train' | 'test'> {
  const out = new Map<string, 'train' | 'test'>();
  for (const cls of Object.keys(COUNTS) as CorpusClass[]) {
    const ids = plans.filter((p) => p.cls === cls).map((p) => p.id);
    ids.sort((a, b) => fnv1a(`split:${a}`) - fnv1a(`split:${b}`) || (a < b ? -1 : 1));
    const nTest = Math.max(1, Math.min(ids.length - 1, Math.round(ids.length * TEST_SHARE)));
    ids.forEach((id, k) => out.set(id, k < nTest ? 'test' : 'train'));
  }
  return out;
}

const TRUTH: Record<CorpusClass, AnsweredByTruth> = {
  human: 'human', machine: 'machine', silence: 'unknown', noise: 'unknown', tone: 'unknown', fax: 'fax',
};

// ---------------------------------------------------------------------------------------------
// Speech ground truth

/** An utterance cut to its first and last speech window, with its segments relative to its start. */
interface Trimmed { pcm: Int16Array; segments: [number, number][]; durationMs: number }

/**
 * Speech segments of `pcm` in ms: runs of 5 ms windows whose RMS is above `thresholdDbfs`, joined
 * across pauses shorter than `gapMs`.
 */
export function speechSegments(pcm: Int16Array, thresholdDbfs = SPEECH_THRESHOLD_DBFS, gapMs = SPLIT_GAP_MS): [number, number][] {
  const w = WINDOW_MS * SAMPLES_PER_MS;
  const minSumSq = w * (FULL_SCALE * 10 ** (thresholdDbfs / 20)) ** 2;
  const segs: [number, number][] = [];
  for (let k = 0; (k + 1) * w <= pcm.length; k++) {
    let sumSq = 0;
    for (let i = k * w; i < (k + 1) * w; i++) sumSq += pcm[i] * pcm[i];
    if (sumSq <= minSumSq) continue;
    const startMs = k * WINDOW_MS;
    const last = segs[segs.length - 1];
    if (last && startMs - last[1] < gapMs) last[1] = startMs + WINDOW_MS;
    else segs.push([startMs, startMs + WINDOW_MS]);
  }
  return segs;
}

/** Cuts espeak's leading/trailing silence; throws when the utterance has no speech at all. */
function trimUtterance(pcm: Int16Array, what: string): Trimmed {
  const segs = speechSegments(pcm);
  if (segs.length === 0) throw new Error(`espeak-ng produced no speech for ${what}`);
  const startMs = segs[0][0];
  const endMs = segs[segs.length - 1][1];
  return {
    pcm: pcm.slice(startMs * SAMPLES_PER_MS, endMs * SAMPLES_PER_MS),
    segments: segs.map(([a, b]) => [a - startMs, b - startMs]),
    durationMs: endMs - startMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Signal helpers (pure; floats in 16-bit units)

const dbToLinear = (db: number): number => 10 ** (db / 20);
const dbfsToRms = (dbfs: number): number => FULL_SCALE * dbToLinear(dbfs);
const toDbfs = (rmsValue: number): number => (rmsValue > 0 ? 20 * Math.log10(rmsValue / FULL_SCALE) : -Infinity);

function rmsOf(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return to > from ? Math.sqrt(s / (to - from)) : 0;
}

function peakOf(x: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]));
  return p;
}

/** RMS over a set of [start, end) ms ranges. */
function rmsOver(x: Float64Array, rangesMs: readonly (readonly [number, number])[]): number {
  let s = 0;
  let n = 0;
  for (const [a, b] of rangesMs) {
    for (let i = a * SAMPLES_PER_MS; i < Math.min(x.length, b * SAMPLES_PER_MS); i++) { s += x[i] * x[i]; n++; }
  }
  return n > 0 ? Math.sqrt(s / n) : 0;
}

/** `n` samples of seeded noise with RMS 1 (white ≈ Gaussian; pink by Paul Kellet's filter; brown by a leaky integrator). */
function makeNoise(colour: NoiseColour, n: number, seed: number): Float64Array {
  const rng = xorshift32(seed);
  const out = new Float64Array(n);
  let b0 = 0, b1 = 0, b2 = 0, y = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.next() + rng.next() + rng.next() + rng.next() - 2;
    if (colour === 'white') out[i] = w;
    else if (colour === 'pink') {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      y = 0.995 * y + w;
      out[i] = y;
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += out[i];
  mean /= n || 1;
  for (let i = 0; i < n; i++) out[i] -= mean;
  const r = rmsOf(out) || 1;
  for (let i = 0; i < n; i++) out[i] /= r;
  return out;
}

/** Adds the bed (if any) under `x`; `signalRms` is the reference for an SNR bed. Returns its description. */
function addBed(x: Float64Array, bed: Bed, signalRms: number, seed: number): string {
  if (bed === null) return 'digital silence floor';
  const noise = makeNoise(bed.colour, x.length, seed ^ 0x5bd1e995);
  const target = 'snrDb' in bed ? signalRms / dbToLinear(bed.snrDb) : dbfsToRms(bed.dbfs);
  for (let i = 0; i < x.length; i++) x[i] += noise[i] * target;
  return 'snrDb' in bed ? `+${bed.colour} noise SNR ${bed.snrDb} dB` : `+${bed.colour} room noise ${bed.dbfs} dBFS`;
}

/**
 * Adds a sum of sines (each of amplitude `amp`/√k) from `start` for `len` samples, with raised-cosine
 * ramps of `rampLen` samples; `flipEvery` > 0 reverses the phase every that many samples.
 */
function addTone(x: Float64Array, start: number, len: number, hz: readonly number[], amp: number, rampLen: number, flipEvery = 0): void {
  const a = amp / Math.sqrt(hz.length);
  const end = Math.min(x.length, start + len);
  for (let i = Math.max(0, start); i < end; i++) {
    const n = i - start;
    const edge = Math.min(n, len - 1 - n);
    const env = edge >= rampLen ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / rampLen);
    const sign = flipEvery > 0 && Math.floor(n / flipEvery) % 2 === 1 ? -1 : 1;
    let s = 0;
    for (const f of hz) s += Math.sin((2 * Math.PI * f * n) / RATE_HZ);
    x[i] += sign * env * a * s;
  }
}

/** V.21 channel 2 FSK (mark 1650 Hz, space 1850 Hz, 300 bit/s, continuous phase), LSB first. */
function addV21(x: Float64Array, start: number, len: number, amp: number, seed: number): void {
  const rng = xorshift32(seed);
  const flagBytes = 38; // ≈ 1 s of HDLC flags, as a T.30 preamble
  const bits: number[] = [];
  const nBits = Math.ceil((len * 300) / RATE_HZ) + 8;
  for (let byte = 0; bits.length < nBits; byte++) {
    const v = byte < flagBytes ? 0x7e : rng.int(0, 255);
    for (let b = 0; b < 8; b++) bits.push((v >> b) & 1);
  }
  let phase = 0;
  const ramp = 5 * SAMPLES_PER_MS;
  for (let n = 0; n < len && start + n < x.length; n++) {
    const f = bits[Math.floor((n * 300) / RATE_HZ)] ? 1650 : 1850;
    phase += (2 * Math.PI * f) / RATE_HZ;
    const edge = Math.min(n, len - 1 - n);
    const env = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
    x[start + n] += amp * env * Math.sin(phase);
  }
}

/** Rounds to 16 bits (clipping), then through G.711 and back when asked. */
function finish(x: Float64Array, codec: Codec): Int16Array {
  const pcm = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(x[i])));
  if (codec === 'none') return pcm;
  const codes = new Uint8Array(pcm.length);
  const out = new Int16Array(pcm.length);
  if (codec === 'ulaw') { ulawEncode(pcm, codes); ulawDecode(codes, out); } else { alawEncode(pcm, codes); alawDecode(codes, out); }
  return out;
}

const CODEC_TEXT: Record<Codec, string> = { none: 'linear', ulaw: 'μ-law round trip', alaw: 'A-law round trip' };

// ---------------------------------------------------------------------------------------------
// Rendering (pure: plan + trimmed utterances → item)

type Rendered = Omit<CorpusItem, 'split' | 'truth'>;

function utteranceKey(u: Utterance, tools: string): string {
  return createHash('sha256').update(JSON.stringify([tools, ESPEAK_AMPLITUDE, u.voice, u.speedWpm, u.pitch, u.text])).digest('hex').slice(0, 24);
}

function renderSpeech(p: SpeechPlan, utts: ReadonlyMap<string, Trimmed>, tools: string): Rendered {
  const placed: { at: number; tr: Trimmed }[] = [];
  let cursorMs = 0;
  for (const part of p.parts) {
    const tr = utts.get(utteranceKey(part.utt, tools));
    if (!tr) throw new Error(`utterance of ${p.id} was not synthesized`);
    placed.push({ at: cursorMs + part.afterMs, tr });
    cursorMs += part.afterMs + tr.durationMs;
  }
  const beepStartMs = p.beep ? cursorMs + p.beep.afterMs : undefined;
  const eventEndMs = p.beep && beepStartMs !== undefined ? beepStartMs + p.beep.lengthMs : cursorMs;
  const lengthMs = Math.max(p.minLengthMs, eventEndMs + p.tailMs);
  const x = new Float64Array(lengthMs * SAMPLES_PER_MS);
  const speech: [number, number][] = [];
  for (const { at, tr } of placed) {
    x.set(tr.pcm, at * SAMPLES_PER_MS);
    for (const [a, b] of tr.segments) speech.push([at + a, at + b]);
  }
  const rawRms = rmsOver(x, speech);
  const gain = Math.min(dbfsToRms(p.levelDbfs) / rawRms, dbfsToRms(PEAK_CEILING_DBFS) / peakOf(x));
  for (let i = 0; i < x.length; i++) x[i] *= gain;
  const speechRms = rawRms * gain;
  const level = Math.round(toDbfs(speechRms));
  let beepText = p.cls === 'machine' ? 'no beep' : '';
  if (p.beep && beepStartMs !== undefined) {
    const amp = Math.min(speechRms * dbToLinear(p.beep.relDb) * Math.SQRT2, dbfsToRms(PEAK_CEILING_DBFS));
    addTone(x, beepStartMs * SAMPLES_PER_MS, p.beep.lengthMs * SAMPLES_PER_MS, [p.beep.hz], amp, 5 * SAMPLES_PER_MS);
    beepText = `beep ${p.beep.hz} Hz ${p.beep.lengthMs} ms`;
  }
  const bedText = addBed(x, p.bed, speechRms, p.seed);
  const u = p.parts[0].utt;
  const said = p.parts.map((q) => q.utt.text).join(' … ');
  const text = said.length > 48 ? `${said.slice(0, 45)}...` : said;
  const levelText = level < p.levelDbfs - 0.5 ? `${level} dBFS (target ${p.levelDbfs}, peak-limited)` : `${level} dBFS`;
  return {
    id: p.id, cls: p.cls, pcm: finish(x, p.codec), speech,
    ...(p.beep ? { beepStartMs, beepHz: p.beep.hz } : {}),
    description: [`${u.voice} s${u.speedWpm} p${u.pitch} "${text}"`, levelText, bedText, beepText, CODEC_TEXT[p.codec]].filter(Boolean).join(', '),
  };
}

function renderSilence(p: SilencePlan): Rendered {
  const x = new Float64Array(p.lengthMs * SAMPLES_PER_MS);
  const bedText = addBed(x, p.bed, 0, p.seed);
  return { id: p.id, cls: p.cls, pcm: finish(x, p.codec), speech: [], description: `silence ${p.lengthMs} ms, ${bedText}, ${CODEC_TEXT[p.codec]}` };
}

function renderNoise(p: NoisePlan): Rendered {
  const x = makeNoise(p.colour, p.lengthMs * SAMPLES_PER_MS, p.seed);
  const r = dbfsToRms(p.dbfs);
  for (let i = 0; i < x.length; i++) x[i] *= r;
  return { id: p.id, cls: p.cls, pcm: finish(x, p.codec), speech: [], description: `steady ${p.colour} noise ${p.dbfs} dBFS, ${CODEC_TEXT[p.codec]}` };
}

function renderTone(p: TonePlan): Rendered {
  const x = new Float64Array(p.lengthMs * SAMPLES_PER_MS);
  // a sum of k sines of amplitude A/√k has RMS A/√2 whatever k
  const amp = dbfsToRms(p.dbfs) * Math.SQRT2;
  for (const n of p.notes) addTone(x, n.startMs * SAMPLES_PER_MS, n.durMs * SAMPLES_PER_MS, n.hz, amp, 10 * SAMPLES_PER_MS);
  const bedText = addBed(x, p.bed, dbfsToRms(p.dbfs), p.seed);
  return { id: p.id, cls: p.cls, pcm: finish(x, p.codec), speech: [], description: `${p.name}, ${p.dbfs} dBFS, ${bedText}, ${CODEC_TEXT[p.codec]}` };
}

function renderFax(p: FaxPlan): Rendered {
  const x = new Float64Array(p.lengthMs * SAMPLES_PER_MS);
  const amp = dbfsToRms(p.dbfs) * Math.SQRT2;
  addTone(x, p.cedStartMs * SAMPLES_PER_MS, p.cedMs * SAMPLES_PER_MS, [2100], amp, 5 * SAMPLES_PER_MS, p.reversals ? 450 * SAMPLES_PER_MS : 0);
  if (p.v21Ms > 0) addV21(x, (p.cedStartMs + p.cedMs + 75) * SAMPLES_PER_MS, p.v21Ms * SAMPLES_PER_MS, amp, p.seed);
  const bedText = addBed(x, p.bed, dbfsToRms(p.dbfs), p.seed);
  const ced = `CED 2100 Hz${p.reversals ? ' with phase reversals' : ''} at ${p.cedStartMs} ms for ${p.cedMs} ms`;
  const after = p.v21Ms > 0 ? `then V.21 1650/1850 Hz for ${p.v21Ms} ms` : 'then silence';
  return { id: p.id, cls: p.cls, pcm: finish(x, p.codec), speech: [], description: `${ced}, ${after}, ${p.dbfs} dBFS, ${bedText}, ${CODEC_TEXT[p.codec]}` };
}

function render(p: Plan, utts: ReadonlyMap<string, Trimmed>, tools: string): Rendered {
  switch (p.cls) {
    case 'human':
    case 'machine': return renderSpeech(p, utts, tools);
    case 'silence': return renderSilence(p);
    case 'noise': return renderNoise(p);
    case 'tone': return renderTone(p);
    case 'fax': return renderFax(p);
  }
}

// ---------------------------------------------------------------------------------------------
// WAV parsing, synthesis and the cache (I/O)

/** The samples of a 16-bit PCM mono WAV at `rateHz` (src/media/wav-file.ts walks its chunks). */
function wavSamples(buf: Buffer, rateHz: number, what: string): Int16Array {
  const wav = parseWav(buf);
  if (!wav || wav.rateHz !== rateHz || wav.channels.length !== 1) throw new Error(`${what}: want a 16-bit PCM mono WAV at ${rateHz} Hz`);
  return wav.channels[0];
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.${Math.floor(Math.random() * 1e9)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function readS16(file: string): Int16Array {
  const buf = readFileSync(file);
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const s16Bytes = (pcm: Int16Array): Uint8Array => new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);

/** Runs `fn` over `xs` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < xs.length) {
      const k = next++;
      out[k] = await fn(xs[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, worker));
  return out;
}

/**
 * `text` spoken by espeak-ng at 22050 Hz, then sox to 8 kHz 16-bit mono (no dither, repeatable):
 * the samples, uncut. Its files go in `scratch` (keep the path short: espeak-ng cuts long ones).
 */
export async function espeakPcm(text: string, v: { voice: string; speedWpm: number; pitch: number }, scratch: string, key = 'speech'): Promise<Int16Array> {
  const wide = join(scratch, `${key}.22k.wav`);
  const narrow = join(scratch, `${key}.8k.wav`);
  await run('espeak-ng', ['-a', String(ESPEAK_AMPLITUDE), '-v', v.voice, '-s', String(v.speedWpm), '-p', String(v.pitch), '-w', wide, text], { timeout: SYNTH_TIMEOUT_MS });
  await run('sox', ['-R', '-D', wide, '-r', String(RATE_HZ), '-c', '1', '-b', '16', narrow], { timeout: SYNTH_TIMEOUT_MS });
  return wavSamples(readFileSync(narrow), RATE_HZ, `${v.voice} "${text}"`);
}

/** One utterance of the corpus: espeakPcm, cached per utterance. */
async function synthesize(u: Utterance, key: string, uttDir: string, scratch: string): Promise<Int16Array> {
  const cached = join(uttDir, `${key}.s16`);
  if (existsSync(cached)) return readS16(cached);
  const pcm = await espeakPcm(u.text, u, scratch, key);
  writeAtomic(cached, s16Bytes(pcm));
  return pcm;
}

interface ManifestItem extends Omit<CorpusItem, 'pcm'> { samples: number }
interface Manifest { version: number; hash: string; items: ManifestItem[] }

/** The items of a complete cache whose hash matches, or null. */
function readCache(dir: string, hash: string): CorpusItem[] | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (m.version !== GENERATOR_VERSION || m.hash !== hash) return null;
    const items: CorpusItem[] = [];
    for (const { samples, ...meta } of m.items) {
      const file = join(dir, 'items', `${meta.id}.s16`);
      if (statSync(file).size !== samples * 2) return null;
      items.push({ ...meta, pcm: readS16(file) });
    }
    return items;
  } catch {
    return null;
  }
}

function writeCache(dir: string, hash: string, items: readonly CorpusItem[]): void {
  mkdirSync(join(dir, 'items'), { recursive: true });
  for (const it of items) writeAtomic(join(dir, 'items', `${it.id}.s16`), s16Bytes(it.pcm));
  const manifest: Manifest = {
    version: GENERATOR_VERSION, hash,
    items: items.map(({ pcm, ...meta }) => ({ ...meta, samples: pcm.length })),
  };
  writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
}

/**
 * Builds (or reads from its cache dir) the whole set. Deterministic: the same items, the same
 * samples, every run on the same machine. The default cache dir is
 * `<os.tmpdir()>/fsbridge-amd-corpus/<hash of the plans, generator and tool versions>`, next to a
 * shared `utterances/` cache; a given `cacheDir` holds both. Rejects when espeak-ng or sox is
 * missing (see {@link corpusSkipReason}) or a tool fails.
 */
export async function buildCorpus(opts: { cacheDir?: string } = {}): Promise<CorpusItem[]> {
  const espeak = toolVersion('espeak-ng');
  const sox = toolVersion('sox');
  if (espeak === null || sox === null) throw new Error('espeak-ng or sox not installed: apt-get install espeak-ng sox');
  const tools = `${espeak} | ${sox}`;
  const plans = allPlans();
  const hash = createHash('sha256').update(JSON.stringify({ v: GENERATOR_VERSION, tools, plans })).digest('hex');
  const root = join(tmpdir(), 'fsbridge-amd-corpus');
  const dir = opts.cacheDir ?? join(root, hash.slice(0, 16));
  const uttDir = opts.cacheDir ? join(opts.cacheDir, 'utterances') : join(root, 'utterances');

  const cached = readCache(dir, hash);
  if (cached) return cached;

  mkdirSync(uttDir, { recursive: true });
  const wanted = new Map<string, Utterance>();
  for (const p of plans) if (p.cls === 'human' || p.cls === 'machine') for (const { utt } of p.parts) wanted.set(utteranceKey(utt, tools), utt);
  const scratch = mkdtempSync(join(tmpdir(), 'amd-corpus-'));
  const utts = new Map<string, Trimmed>();
  try {
    const keys = [...wanted.keys()];
    const pcms = await mapLimit(keys, SYNTH_CONCURRENCY, (k) => synthesize(wanted.get(k)!, k, uttDir, scratch));
    keys.forEach((k, i) => utts.set(k, trimUtterance(pcms[i], `${wanted.get(k)!.voice} "${wanted.get(k)!.text}"`)));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const splits = assignSplits(plans);
  const items = plans.map((p): CorpusItem => {
    const r = render(p, utts, tools);
    return { ...r, truth: TRUTH[p.cls], split: splits.get(p.id)! };
  });
  writeCache(dir, hash, items);
  return items;
}
