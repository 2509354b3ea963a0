// Issue 12: the labelled AMD / VAD / beep corpus (bench/lib/amd-corpus.ts) is complete, its ground
// truth is consistent with its audio, and a second build gives the same samples from the cache.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus, corpusSkipReason, type CorpusClass, type CorpusItem } from '../../../bench/lib/amd-corpus.js';
import { toneShare } from '../../helpers/caller-speech.js';

const skip = corpusSkipReason();

/** Expected items per class: [min, max]. */
const COUNT_RANGES: Record<CorpusClass, [number, number]> = {
  human: [60, 80], machine: [70, 90], silence: [10, 20], noise: [10, 20], tone: [15, 25], fax: [8, 15],
};
const TRUTH = { human: 'human', machine: 'machine', silence: 'unknown', noise: 'unknown', tone: 'unknown', fax: 'fax' } as const;
const BEEP_HZ = [440, 850, 1000, 1400];

const durationMs = (it: CorpusItem): number => it.pcm.length / 8;

function corpusHash(items: readonly CorpusItem[]): string {
  const h = createHash('sha256');
  for (const it of items) {
    h.update(JSON.stringify([it.id, it.split, it.speech, it.beepStartMs, it.beepHz, it.description]));
    h.update(new Uint8Array(it.pcm.buffer, it.pcm.byteOffset, it.pcm.byteLength));
  }
  return h.digest('hex');
}

function dbfs(pcm: Int16Array, ranges: readonly (readonly [number, number])[]): number {
  let s = 0;
  let n = 0;
  for (const [a, b] of ranges) for (let i = a * 8; i < Math.min(pcm.length, b * 8); i++) { s += pcm[i] * pcm[i]; n++; }
  return n === 0 || s === 0 ? -Infinity : 10 * Math.log10(s / n) - 20 * Math.log10(32768);
}

t.test('the AMD corpus: classes, splits, ground truth, levels, and a cached second build', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'amd-corpus-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const t0 = performance.now();
  const items = await buildCorpus({ cacheDir: dir });
  t.comment(`cold build: ${items.length} items in ${Math.round(performance.now() - t0)} ms`);

  t.test('ids, classes, truth and splits', async (t) => {
    t.equal(new Set(items.map((it) => it.id)).size, items.length, 'ids are unique');
    for (const cls of Object.keys(COUNT_RANGES) as CorpusClass[]) {
      const of = items.filter((it) => it.cls === cls);
      const [lo, hi] = COUNT_RANGES[cls];
      t.ok(of.length >= lo && of.length <= hi, `${cls}: ${of.length} items, want ${lo}..${hi}`);
      const nTest = of.filter((it) => it.split === 'test').length;
      t.ok(nTest > 0 && nTest < of.length, `${cls} is in both splits (${nTest} test, ${of.length - nTest} train)`);
      t.ok(nTest / of.length >= 0.25 && nTest / of.length <= 0.45, `${cls}: about 35 % test`);
      t.ok(of.every((it) => it.truth === TRUTH[cls]), `${cls} items are answered by ${TRUTH[cls]}`);
      t.ok(of.every((it) => new RegExp(`^${cls}-\\d{3}$`).test(it.id)), `${cls} ids look like ${cls}-001`);
    }
    t.ok(items.length >= 200 && items.length <= 240, `${items.length} items in all`);
  });

  t.test('speech segments lie inside the audio, sorted and apart; only people and machines speak', async (t) => {
    for (const it of items) {
      const dur = durationMs(it);
      t.ok(Number.isInteger(it.pcm.length / 8) && dur >= 6000 && dur <= (it.cls === 'machine' ? 16000 : 12000), `${it.id} lasts ${dur} ms`);
      if (it.cls === 'human' || it.cls === 'machine') t.ok(it.speech.length > 0, `${it.id} has speech`);
      else t.same(it.speech, [], `${it.id} has no speech`);
      let prevEnd = -1;
      for (const [a, b] of it.speech) {
        if (!(a >= 0 && a < b && b <= dur && a > prevEnd)) t.fail(`${it.id}: segment [${a}, ${b}) after ${prevEnd}, in ${dur} ms`);
        prevEnd = b;
      }
    }
    t.pass('every segment checked');
  });

  t.test('machine beeps follow the greeting and leave at least 2 s of silence', async (t) => {
    const machines = items.filter((it) => it.cls === 'machine');
    const beeping = machines.filter((it) => it.beepStartMs !== undefined);
    t.ok(beeping.length / machines.length > 0.55 && beeping.length / machines.length < 0.75, `${beeping.length} of ${machines.length} machines beep`);
    t.ok(items.every((it) => it.cls === 'machine' || (it.beepStartMs === undefined && it.beepHz === undefined)), 'only machines beep');
    for (const it of beeping) {
      const start = it.beepStartMs!;
      const lastEnd = it.speech[it.speech.length - 1][1];
      t.ok(start > lastEnd, `${it.id}: beep at ${start} ms after speech ending at ${lastEnd} ms`);
      const dur = durationMs(it);
      t.ok(start + 250 + 2000 <= dur, `${it.id}: the beep and 2 s of silence fit`);
      const beep = dbfs(it.pcm, [[start, start + 200]]);
      const tail = dbfs(it.pcm, [[dur - 2000, dur]]);
      t.ok(tail < beep - 6, `${it.id}: the last 2 s (${tail.toFixed(1)} dBFS) are quieter than the beep (${beep.toFixed(1)} dBFS)`);
      t.ok(BEEP_HZ.includes(it.beepHz!), `${it.id}: beep at ${it.beepHz} Hz`);
      const share = toneShare(it.pcm.subarray(start * 8, start * 8 + 200 * 8), it.beepHz!);
      t.ok(share > 0.3, `${it.id}: the first 200 ms after beepStartMs are mostly ${it.beepHz} Hz (share ${share.toFixed(2)})`);
    }
  });

  t.test('levels are plausible and speech starts where the ground truth says', async (t) => {
    for (const it of items) {
      const whole = dbfs(it.pcm, [[0, durationMs(it)]]);
      if (it.cls === 'human' || it.cls === 'machine') {
        const speech = dbfs(it.pcm, it.speech);
        const lead = dbfs(it.pcm, [[0, it.speech[0][0]]]);
        t.ok(speech > -40 && speech < -10, `${it.id}: speech at ${speech.toFixed(1)} dBFS`);
        t.ok(lead < speech - 6, `${it.id}: before the first segment ${lead.toFixed(1)} dBFS, speech ${speech.toFixed(1)} dBFS`);
      } else if (it.cls === 'silence') {
        t.ok(whole < -55, `${it.id}: ${whole.toFixed(1)} dBFS`);
      } else if (it.cls === 'noise') {
        t.ok(whole > -48 && whole < -22, `${it.id}: ${whole.toFixed(1)} dBFS`);
      } else {
        t.ok(whole > -40 && whole < -8, `${it.id}: ${whole.toFixed(1)} dBFS`);
      }
    }
  });

  await t.test('a second build reads the cache and returns the same samples', async (t) => {
    const manifest = join(dir, 'manifest.json');
    const mtime = statSync(manifest).mtimeMs;
    const t1 = performance.now();
    const again = await buildCorpus({ cacheDir: dir });
    t.comment(`warm build: ${Math.round(performance.now() - t1)} ms`);
    t.equal(statSync(manifest).mtimeMs, mtime, 'the cache was not rewritten');
    t.equal(corpusHash(again), corpusHash(items), 'same items, same samples');

    // render again from the cached utterances: the seeded noise, tones and codecs repeat exactly
    rmSync(manifest);
    rmSync(join(dir, 'items'), { recursive: true });
    const rendered = await buildCorpus({ cacheDir: dir });
    t.equal(corpusHash(rendered), corpusHash(items), 'a fresh render gives the same samples');
  });
});
