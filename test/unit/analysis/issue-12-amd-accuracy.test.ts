// Issue 12: on the held-out test split of the labelled corpus (bench/lib/amd-corpus.ts), the call
// analysis with the AMD defaults tells people from answering machines, decides quickly, finds the
// beep, and starts speech where it starts. Scored by bench/lib/amd-eval.ts, as the benchmark is.
// Every time here is caller-audio time (ms after answer), not wall-clock time.
import t from 'tap';
import { buildCorpus, corpusSkipReason } from '../../../bench/lib/amd-corpus.js';
import { TARGETS, evaluateCorpus, type ItemResult } from '../../../bench/lib/amd-eval.js';

const skip = corpusSkipReason();

const brief = (r: ItemResult): string =>
  `${r.id}: ${r.first ? `${r.first.answeredBy} at ${r.first.atMs} ms (${r.first.reason})` : 'no decision'}`;

t.test('AMD, beep and VAD onsets on the test split meet the targets of issue 12', { skip }, async (t) => {
  const items = await buildCorpus();
  const { results, summary } = evaluateCorpus(items, 'test');
  t.ok(summary.humanMachineCount >= 20, `the test split has human and machine items (${summary.humanMachineCount})`);

  const hm = results.filter((r) => r.cls === 'human' || r.cls === 'machine');
  t.ok(summary.humanMachineAccuracy >= TARGETS.accuracy,
    `human+machine first decisions ≥ ${TARGETS.accuracy * 100} % correct (${summary.humanMachineCorrect}/${summary.humanMachineCount})`,
    { wrong: hm.filter((r) => !r.correct).map(brief) });

  t.ok(summary.decision.humanMachine.p95 <= TARGETS.decisionP95Ms,
    `human+machine decision p95 ≤ ${TARGETS.decisionP95Ms} ms (${summary.decision.humanMachine.p95} ms)`,
    { slowest: [...hm].sort((a, b) => b.decisionMs - a.decisionMs).slice(0, 5).map(brief) });

  const beeps = results.filter((r) => r.beepStartMs !== null);
  t.ok(beeps.length > 0, `the test split has beep items (${beeps.length})`);
  for (const r of beeps) {
    t.ok(r.beepLatencyMs !== null && r.beepLatencyMs >= 0 && r.beepLatencyMs <= TARGETS.beepWithinMs,
      `${r.id}: the beep at ${r.beepStartMs} ms is found within ${TARGETS.beepWithinMs} ms (at ${r.beepFoundAtMs ?? 'never'})`);
    t.equal(r.first?.answeredBy, 'machine_start', `${r.id}: the first decision is machine_start`);
    t.equal(r.end?.answeredBy, 'machine_end_beep', `${r.id}: the greeting ends with the beep`);
    t.ok(r.end && r.end.atMs > r.beepStartMs!, `${r.id}: the message may start only after the beep started (${r.end?.atMs} ms)`);
  }
  // machines without a beep: no beep is made up (a message would then start mid-greeting)
  const quiet = results.filter((r) => r.cls === 'machine' && r.beepStartMs === null && r.first?.answeredBy === 'machine_start');
  t.ok(quiet.length > 0, `the test split has machines without a beep (${quiet.length})`);
  t.same(quiet.filter((r) => r.end?.answeredBy === 'machine_end_beep').map(brief), [], 'no beep found where there is none');

  const humans = results.filter((r) => r.cls === 'human');
  const onsetOk = humans.filter((r) => { const e = r.onsetErrorsMs[0]; return e !== null && e !== undefined && Math.abs(e) <= TARGETS.onsetWithinMs; });
  t.ok(onsetOk.length >= TARGETS.onsetShare * humans.length,
    `speech_started within ±${TARGETS.onsetWithinMs} ms of the first speech on ≥ ${TARGETS.onsetShare * 100} % of human items (${onsetOk.length}/${humans.length})`,
    { off: humans.filter((r) => !onsetOk.includes(r)).map((r) => `${r.id}: ${r.onsetErrorsMs[0] ?? 'missed'} ms`) });
});
