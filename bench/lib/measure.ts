/**
 * Small timing helpers for benchmarks (never used by tests: timing goals live only in bench/).
 */

/** Options of {@link measureRate}. */
export interface MeasureOptions {
  /** Wall time per round, in milliseconds. Default 200. */
  roundMs?: number;
  /** Rounds measured (the median is reported). Default 5. */
  rounds?: number;
  /** Untimed warm-up, in milliseconds. Default 100. */
  warmupMs?: number;
}

/**
 * Calls `fn` repeatedly and returns the median rate in calls per second over `rounds` rounds.
 * `fn` returns a number that is folded into a sink so the work cannot be optimised away.
 */
export function measureRate(fn: () => number, opts: MeasureOptions = {}): number {
  const roundMs = opts.roundMs ?? 200;
  const rounds = opts.rounds ?? 5;
  let sink = 0;
  const runFor = (ms: number): { calls: number; elapsedMs: number } => {
    const start = performance.now();
    let calls = 0;
    let now = start;
    // check the clock every 64 calls; bounded by time
    while (now - start < ms) {
      for (let i = 0; i < 64; i++) sink = (sink + fn()) | 0;
      calls += 64;
      now = performance.now();
    }
    return { calls, elapsedMs: now - start };
  };
  runFor(opts.warmupMs ?? 100);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const { calls, elapsedMs } = runFor(roundMs);
    rates.push((calls * 1000) / elapsedMs);
  }
  rates.sort((a, b) => a - b);
  if (sink === 0x7fffffff) console.log('');
  return rates[Math.floor(rates.length / 2)];
}

/** Formats rows of equal-keyed objects as an aligned plain-text table. */
export function formatTable(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]);
  const cell = (v: string | number | undefined): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : (v ?? '');
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(keys.map((k) => cell(r[k]))))].join('\n');
}
