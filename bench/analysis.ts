/**
 * The per-call audio analysis (src/analysis/): what it costs per 20 ms frame, and how well it does
 * on the labelled corpus (bench/lib/amd-corpus.ts, built with espeak-ng and sox): answering-machine
 * detection per class, decision time, beep latency and VAD onset error, on the held-out test split
 * (the train split is what the defaults were tuned on; its headline figures are shown beside).
 *
 * Cost: CallAnalysis.push (VAD, tone detector, AMD, silence timeout, dead line) over every frame of
 * the corpus back to back, each item a call (a fresh CallAnalysis at its first frame); the VAD alone
 * and the tone detector alone over the same stream. The baseline, in the same process, is the sum of
 * squares of the same frame: the least any energy-based detector does per frame.
 *
 * `npm run bench` calls runAnalysisBench(); `node dist/bench/analysis.js` prints the section.
 */
import { pathToFileURL } from 'node:url';
import { CallAnalysis, type CallAnalysisOptions } from '../src/analysis/call-analysis.js';
import { ToneDetector } from '../src/analysis/tone-detector.js';
import { VoiceActivityDetector } from '../src/analysis/vad.js';
import { buildCorpus, corpusSkipReason, type CorpusItem } from './lib/amd-corpus.js';
import { EVAL_OPTIONS, FRAME_SAMPLES, evaluateCorpus, type EvalSummary } from './lib/amd-eval.js';
import { measureRate, type MeasureOptions } from './lib/measure.js';

/** The bench's analysis options: the evaluation's, plus the silence timeout and dead-line checks a call runs. */
const COST_OPTIONS: Readonly<CallAnalysisOptions> = { ...EVAL_OPTIONS, silenceTimeoutMs: 5000, deadLineMs: 10_000 };

export interface AnalysisBenchResult {
  /** Items, frames and minutes of audio in the corpus. */
  corpus: { items: number; testItems: number; frames: number; minutes: number };
  /** µs per 20 ms frame (8 kHz), median of the rounds. */
  cost: { baselineUs: number; callAnalysisUs: number; vadUs: number; toneUs: number };
  test: EvalSummary;
  train: EvalSummary;
}

/** The corpus's frames as one stream, with a flag on each item's first frame. */
function frameStream(items: readonly CorpusItem[]): { frames: Int16Array[]; firstOfItem: Uint8Array } {
  const frames: Int16Array[] = [];
  const first: number[] = [];
  for (const it of items) {
    for (let at = 0; at + FRAME_SAMPLES <= it.pcm.length; at += FRAME_SAMPLES) {
      first.push(at === 0 ? 1 : 0);
      frames.push(it.pcm.subarray(at, at + FRAME_SAMPLES));
    }
  }
  return { frames, firstOfItem: Uint8Array.from(first) };
}

/**
 * Builds (or reads from its cache) the corpus, scores both splits and times the detectors. Rejects,
 * saying how to get them, when espeak-ng or sox is missing. Takes a few seconds (more on the first
 * run, which synthesizes the speech).
 */
export async function runAnalysisBench(opts: MeasureOptions = {}): Promise<AnalysisBenchResult> {
  const skip = corpusSkipReason();
  if (skip) throw new Error(skip);
  const items = await buildCorpus();
  const test = evaluateCorpus(items, 'test').summary;
  const train = evaluateCorpus(items, 'train').summary;

  const { frames, firstOfItem } = frameStream(items);
  const n = frames.length;
  let k = 0;
  const next = (): number => { k = k + 1 === n ? 0 : k + 1; return k; };

  const baselineRate = measureRate(() => {
    const f = frames[next()];
    let sum = 0;
    for (let i = 0; i < f.length; i++) sum += f[i] * f[i];
    return sum & 1;
  }, opts);
  await new Promise((r) => setImmediate(r));

  let analysis = new CallAnalysis(COST_OPTIONS);
  k = n - 1;
  const callRate = measureRate(() => {
    const i = next();
    if (firstOfItem[i] === 1) analysis = new CallAnalysis(COST_OPTIONS);
    return analysis.push(frames[i], false).length;
  }, opts);
  await new Promise((r) => setImmediate(r));

  const vad = new VoiceActivityDetector({ sampleRateHz: 8000 });
  const vadRate = measureRate(() => vad.push(frames[next()]), opts);
  await new Promise((r) => setImmediate(r));

  const tone = new ToneDetector({ sampleRateHz: 8000 });
  const toneRate = measureRate(() => tone.push(frames[next()]), opts);

  return {
    corpus: { items: items.length, testItems: items.filter((i) => i.split === 'test').length, frames: n, minutes: (n * 20) / 60_000 },
    cost: { baselineUs: 1e6 / baselineRate, callAnalysisUs: 1e6 / callRate, vadUs: 1e6 / vadRate, toneUs: 1e6 / toneRate },
    test, train,
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '–' : `${((100 * a) / b).toFixed(0)} %`);
const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : x > 0 ? 'none' : '–');

/** The result as the body of a markdown section (bench/run.ts adds the heading). */
export function formatAnalysisBench(r: AnalysisBenchResult): string {
  const c = r.cost;
  const t = r.test;
  const row = (name: string, us: number): string => `| ${name} | ${us.toFixed(2)} | ${(us / c.baselineUs).toFixed(1)} |`;
  const classRows = t.perClass.map((p) => {
    const conf = Object.entries(p.confusion).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    return `| ${p.cls} | ${p.count} | ${p.correct} | ${pct(p.correct, p.count)} | ${conf} |`;
  });
  const d = t.decision;
  return `Corpus: ${r.corpus.items} items (${r.corpus.testItems} in the test split), ${r.corpus.minutes.toFixed(1)} min of 8 kHz audio, ${r.corpus.frames} frames of 20 ms.

### Cost per 20 ms frame (8 kHz)

| work per frame | µs | vs baseline |
|---|---|---|
${row('sum of squares of the frame (baseline)', c.baselineUs)}
${row('CallAnalysis.push (VAD, tones, AMD, silence, dead line)', c.callAnalysisUs)}
${row('VoiceActivityDetector.push alone', c.vadUs)}
${row('ToneDetector.push alone', c.toneUs)}

Budget ≤ 5 µs per frame: **${c.callAnalysisUs <= 5 ? 'met' : 'missed'}** (${c.callAnalysisUs.toFixed(2)} µs, ${((c.callAnalysisUs / 20_000) * 100).toFixed(3)} % of a core per call).

### Answering-machine detection, test split (first decision, AMD defaults)

| class | items | correct | % | first decisions |
|---|---|---|---|---|
${classRows.join('\n')}

- Human and machine: ${t.humanMachineCorrect}/${t.humanMachineCount} correct (${pct(t.humanMachineCorrect, t.humanMachineCount)}; target ≥ 90 %); train split ${r.train.humanMachineCorrect}/${r.train.humanMachineCount} (${pct(r.train.humanMachineCorrect, r.train.humanMachineCount)}).
- Decision time after the first caller audio (ms of caller audio), p50 / p95: human ${ms(d.human.p50)} / ${ms(d.human.p95)}, machine ${ms(d.machine.p50)} / ${ms(d.machine.p95)}, both ${ms(d.humanMachine.p50)} / ${ms(d.humanMachine.p95)} (target p95 ≤ 3500).
- Beeps: ${t.beep.found}/${t.beep.count} found, ${t.beep.within} within 300 ms of their start; latency after the start p50 ${ms(t.beep.latencyP50Ms)} ms, max ${ms(t.beep.latencyMaxMs)} ms; first decision machine_start on ${t.beep.firstMachineStart}/${t.beep.count}, greeting's end machine_end_beep on ${t.beep.endBeep}/${t.beep.count}.
- Machines without a beep: greeting's end machine_end_silence on ${t.noBeepEnds.silence}/${t.noBeepEnds.count}, machine_end_other ${t.noBeepEnds.other}, a beep made up ${t.noBeepEnds.beep}.
- VAD onset, first speech of each human item: ${t.humanOnset.within}/${t.humanOnset.count} within ±60 ms; |error| p50 ${ms(t.humanOnset.absP50Ms)} ms, p95 ${ms(t.humanOnset.absP95Ms)} ms. Every speech segment of the split: ${t.allOnsets.detected}/${t.allOnsets.count} detected, |error| p50 ${ms(t.allOnsets.absP50Ms)} ms, p95 ${ms(t.allOnsets.absP95Ms)} ms; ${t.allOnsets.falseOnsets} speech_started outside speech (and beeps).`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`Call analysis, node ${process.version}`);
  console.log(formatAnalysisBench(await runAnalysisBench()));
}
