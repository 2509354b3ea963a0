/**
 * Scores the call analysis (src/analysis/) against the labelled AMD corpus (amd-corpus.ts): each
 * item is fed to a fresh CallAnalysis in 20 ms frames, as a call's caller audio, and its events are
 * compared with the item's labels. One implementation for bench/analysis.ts and the accuracy test
 * (test/unit/analysis/issue-12-amd-accuracy.test.ts). Pure: items in, figures out; every time is
 * caller-audio time (ms after answer), never wall-clock time.
 */
import { AMD_DEFAULTS, type AmdDecision, type AnsweredBy } from '../../src/analysis/amd.js';
import { CallAnalysis, type CallAnalysisOptions } from '../../src/analysis/call-analysis.js';
import type { AnsweredByTruth, CorpusClass, CorpusItem } from './amd-corpus.js';

/** 20 ms at 8 kHz. */
export const FRAME_SAMPLES = 160;
/** A speech_started counts for a ground-truth segment when it falls from this long before the segment's start to its end. */
const ONSET_MATCH_MS = 300;
/** A reported beep whose start is this far from the item's beep is not that beep. */
const BEEP_START_MATCH_MS = 100;

/** The analysis as the evaluation runs it: AMD with its defaults, waiting for the greeting's end. */
export const EVAL_OPTIONS: Readonly<CallAnalysisOptions> = Object.freeze({
  sampleRateHz: 8000, amd: { params: AMD_DEFAULTS, waitForEnd: true },
});

/** What the analysis made of one item. */
export interface ItemResult {
  id: string;
  cls: CorpusClass;
  truth: AnsweredByTruth;
  split: 'train' | 'test';
  /** The first AMD decision (human, machine_start, unknown or fax), or null when none came before the item ended. */
  first: AmdDecision | null;
  /** The first decision is the item's truth (machine: machine_start). */
  correct: boolean;
  /** When the first decision was made (ms after answer); Infinity when none was. */
  decisionMs: number;
  /** Beep items: the true start, the `beep` event's start and the time it was emitted (end of that frame), null when none. */
  beepStartMs: number | null;
  beepReportedStartMs: number | null;
  beepFoundAtMs: number | null;
  /** Beep items: found − true start (ms); Infinity when the beep was not reported. */
  beepLatencyMs: number | null;
  /** After machine_start (the evaluation waits for the greeting's end): machine_end_beep / _silence / _other. */
  end: AmdDecision | null;
  /** Per ground-truth segment: detected onset − true onset (ms), or null when no speech_started fell in it. */
  onsetErrorsMs: (number | null)[];
  /** speech_started events not within any ground-truth segment (from ONSET_MATCH_MS before its start) nor at the beep. */
  falseOnsets: number;
  /** Every speech_started / speech_stopped time (ms). */
  started: number[];
  stopped: number[];
}

/** The answer that counts as correct for a truth. */
export function expectedAnswer(truth: AnsweredByTruth): AnsweredBy {
  return truth === 'machine' ? 'machine_start' : truth;
}

/** Feeds one item to a fresh CallAnalysis (whole 20 ms frames; a partial last frame is dropped) and scores it. */
export function evaluateItem(item: CorpusItem, options: Readonly<CallAnalysisOptions> = EVAL_OPTIONS): ItemResult {
  const a = new CallAnalysis(options);
  const pcm = item.pcm;
  let first: AmdDecision | null = null;
  let end: AmdDecision | null = null;
  let beepReportedStartMs: number | null = null;
  let beepFoundAtMs: number | null = null;
  const started: number[] = [];
  const stopped: number[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= pcm.length; at += FRAME_SAMPLES) {
    const events = a.push(pcm.subarray(at, at + FRAME_SAMPLES), false);
    for (const e of events) {
      if (e.kind === 'speech_started') started.push(e.atMs);
      else if (e.kind === 'speech_stopped') stopped.push(e.atMs);
      else if (e.kind === 'amd' && first === null) first = e.decision;
      else if (e.kind === 'amd' && end === null) end = e.decision;
      else if (e.kind === 'beep' && beepFoundAtMs === null) { beepReportedStartMs = e.atMs; beepFoundAtMs = a.atMs; }
    }
  }
  const onsetErrorsMs = item.speech.map(([s, end]) => {
    const hit = started.find((t) => t >= s - ONSET_MATCH_MS && t < end);
    return hit === undefined ? null : hit - s;
  });
  // a beep is sound, not speech, but an energy VAD starts a talkspurt on it: not counted as false
  const nearBeep = (t: number): boolean => item.beepStartMs !== undefined && Math.abs(t - item.beepStartMs) <= ONSET_MATCH_MS;
  const falseOnsets = started.filter((t) => !nearBeep(t) && !item.speech.some(([s, end]) => t >= s - ONSET_MATCH_MS && t < end)).length;
  const beepStartMs = item.beepStartMs ?? null;
  const decided = first as AmdDecision | null;
  return {
    id: item.id, cls: item.cls, truth: item.truth, split: item.split, first: decided, end: end as AmdDecision | null,
    correct: decided !== null && decided.answeredBy === expectedAnswer(item.truth),
    decisionMs: decided?.atMs ?? Infinity,
    beepStartMs, beepReportedStartMs, beepFoundAtMs,
    // a beep reported elsewhere than the item's beep (a held vowel taken for one) is a miss
    beepLatencyMs: beepStartMs === null ? null : beepFoundAtMs === null || Math.abs((beepReportedStartMs ?? -Infinity) - beepStartMs) > BEEP_START_MATCH_MS ? Infinity : beepFoundAtMs - beepStartMs,
    onsetErrorsMs, falseOnsets, started, stopped,
  };
}

/** Nearest-rank percentile (`p` in 0–1) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))];
}

/** One class's line of the accuracy table. */
export interface ClassSummary {
  cls: CorpusClass;
  count: number;
  correct: number;
  /** How many items got each first decision ('none': no decision before the item ended). */
  confusion: Partial<Record<AnsweredBy | 'none', number>>;
}

/** The figures the targets of issue 12 are stated in. */
export interface EvalSummary {
  items: number;
  perClass: ClassSummary[];
  /** Human and machine items: correct / count. */
  humanMachineCorrect: number;
  humanMachineCount: number;
  humanMachineAccuracy: number;
  /** First-decision time (ms after answer) of human, of machine, and of both (undecided items count as Infinity). */
  decision: { human: { p50: number; p95: number }; machine: { p50: number; p95: number }; humanMachine: { p50: number; p95: number } };
  /** Beep items: how many, how many reported, found − start p50 and max (ms), and how many within `beepWithinMs`. */
  beep: { count: number; found: number; within: number; latencyP50Ms: number; latencyMaxMs: number; firstMachineStart: number; endBeep: number };
  /** Machines without a beep that AMD took for machines: how their greeting's end was decided (a beep here is a false one). */
  noBeepEnds: { count: number; beep: number; silence: number; other: number };
  /** Human items' first segment: onset error (ms) p50/p95 of |error|, how many detected and within `onsetWithinMs`. */
  humanOnset: { count: number; detected: number; within: number; absP50Ms: number; absP95Ms: number };
  /** Every ground-truth segment of every item: |onset error| p50/p95, detected, and speech_started events outside any segment. */
  allOnsets: { count: number; detected: number; absP50Ms: number; absP95Ms: number; falseOnsets: number };
}

/** Bounds used by the summary's `within` counts (issue 12's targets). */
export const TARGETS = Object.freeze({ accuracy: 0.9, decisionP95Ms: 3500, beepWithinMs: 300, onsetWithinMs: 60, onsetShare: 0.9 });

const CLASS_ORDER: readonly CorpusClass[] = ['human', 'machine', 'silence', 'noise', 'tone', 'fax'];

/** Summarises item results (pass one split's results). */
export function summarise(results: readonly ItemResult[]): EvalSummary {
  const perClass: ClassSummary[] = [];
  for (const cls of CLASS_ORDER) {
    const rs = results.filter((r) => r.cls === cls);
    if (rs.length === 0) continue;
    const confusion: ClassSummary['confusion'] = {};
    for (const r of rs) { const k = r.first?.answeredBy ?? 'none'; confusion[k] = (confusion[k] ?? 0) + 1; }
    perClass.push({ cls, count: rs.length, correct: rs.filter((r) => r.correct).length, confusion });
  }
  const hm = results.filter((r) => r.cls === 'human' || r.cls === 'machine');
  const times = (rs: readonly ItemResult[]): { p50: number; p95: number } => {
    const t = rs.map((r) => r.decisionMs);
    return { p50: percentile(t, 0.5), p95: percentile(t, 0.95) };
  };
  const beeps = results.filter((r) => r.beepStartMs !== null);
  const lat = beeps.map((r) => r.beepLatencyMs ?? Infinity);
  const humanFirst = results.filter((r) => r.cls === 'human' && r.onsetErrorsMs.length > 0).map((r) => r.onsetErrorsMs[0]);
  const humanAbs = humanFirst.filter((e): e is number => e !== null).map(Math.abs);
  const all = results.flatMap((r) => r.onsetErrorsMs);
  const allAbs = all.filter((e): e is number => e !== null).map(Math.abs);
  const hmCorrect = hm.filter((r) => r.correct).length;
  return {
    items: results.length,
    perClass,
    humanMachineCorrect: hmCorrect,
    humanMachineCount: hm.length,
    humanMachineAccuracy: hm.length ? hmCorrect / hm.length : NaN,
    decision: {
      human: times(hm.filter((r) => r.cls === 'human')),
      machine: times(hm.filter((r) => r.cls === 'machine')),
      humanMachine: times(hm),
    },
    beep: {
      count: beeps.length,
      found: lat.filter((l) => Number.isFinite(l)).length,
      within: lat.filter((l) => l >= 0 && l <= TARGETS.beepWithinMs).length,
      latencyP50Ms: percentile(lat, 0.5),
      latencyMaxMs: lat.length ? Math.max(...lat) : NaN,
      firstMachineStart: beeps.filter((r) => r.first?.answeredBy === 'machine_start').length,
      endBeep: beeps.filter((r) => r.end?.answeredBy === 'machine_end_beep').length,
    },
    noBeepEnds: (() => {
      const quiet = results.filter((r) => r.cls === 'machine' && r.beepStartMs === null && r.first?.answeredBy === 'machine_start');
      const n = (a: string) => quiet.filter((r) => r.end?.answeredBy === a).length;
      return { count: quiet.length, beep: n('machine_end_beep'), silence: n('machine_end_silence'), other: n('machine_end_other') };
    })(),
    humanOnset: {
      count: humanFirst.length,
      detected: humanAbs.length,
      within: humanAbs.filter((e) => e <= TARGETS.onsetWithinMs).length,
      absP50Ms: percentile(humanAbs, 0.5),
      absP95Ms: percentile(humanAbs, 0.95),
    },
    allOnsets: {
      count: all.length,
      detected: allAbs.length,
      absP50Ms: percentile(allAbs, 0.5),
      absP95Ms: percentile(allAbs, 0.95),
      falseOnsets: results.reduce((n, r) => n + r.falseOnsets, 0),
    },
  };
}

/** Scores every item (optionally one split only) and summarises. */
export function evaluateCorpus(items: readonly CorpusItem[], split?: 'train' | 'test', options: Readonly<CallAnalysisOptions> = EVAL_OPTIONS): { results: ItemResult[]; summary: EvalSummary } {
  const results = items.filter((it) => split === undefined || it.split === split).map((it) => evaluateItem(it, options));
  return { results, summary: summarise(results) };
}

/** `human 25/25 (100 %): human 25` …, one line per class. */
export function describeClasses(s: EvalSummary): string[] {
  return s.perClass.map((c) => {
    const conf = Object.entries(c.confusion).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    return `${c.cls} ${c.correct}/${c.count} (${((100 * c.correct) / c.count).toFixed(0)} %): ${conf}`;
  });
}

/** Frames of all items, back to back, as 20 ms views (for timing per frame). */
export function corpusFrames(items: readonly CorpusItem[]): Int16Array[] {
  const frames: Int16Array[] = [];
  for (const it of items) for (let at = 0; at + FRAME_SAMPLES <= it.pcm.length; at += FRAME_SAMPLES) frames.push(it.pcm.subarray(at, at + FRAME_SAMPLES));
  return frames;
}
